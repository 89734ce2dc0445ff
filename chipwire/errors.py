"""The only pipeline outcomes besides success, handled in one place per process.

- Discard(reason): expected, count and drop (seen URL, no text, off-topic).
- Retry(reason): transient (network, broker, search backend down); try again later.
- Quarantine(reason): can never succeed (invalid message); dead-letter it and move on.
"""


class PipelineError(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class Discard(PipelineError):
    pass


class Retry(PipelineError):
    pass


class Quarantine(PipelineError):
    pass


class Throttled(Retry):
    """The server said 429 or 503; `retry_after_s` is its hint, when it gave one."""

    def __init__(self, reason: str, detail: str, retry_after_s: float | None) -> None:
        super().__init__(reason, detail)
        self.retry_after_s = retry_after_s
