"""Every error an operator can cause or meet, as one line and an exit code.

The CLI routes every exception that escapes a command through `describe()`: settings,
TOML, file, decode and connection errors become one line naming the key, file or host
(exit 2 for usage and configuration, 1 for trouble at run time). Anything else is a bug:
one line too, with the exception type, and the traceback only at log level DEBUG.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

USAGE = 2  # the command line or the configuration is wrong: fix it and run again
RUNTIME = 1  # something outside chipwire failed (a server, a file system)

_CONTROL = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI sequences (colours, cursor moves, clears)
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC sequences (titles, hyperlinks)
    r"|\x1b[@-_]?"  # any other escape
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"  # C0 and C1 controls (tab and newline kept)
)


class UserError(Exception):
    """An error whose message is already the one line the operator should read."""

    def __init__(self, message: str, code: int = USAGE) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Failure:
    message: str
    code: int


def clean(text: str) -> str:
    """Text from outside (feeds, files, servers) made safe for a terminal: no escape
    sequences, no control characters."""
    return _CONTROL.sub("", text)


def one_line(text: str) -> str:
    return " ".join(clean(text).split())


def config_path() -> Path:
    return Path(os.environ.get("CHIPWIRE_CONFIG", "chipwire.toml"))


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def describe(exc: BaseException) -> Failure:
    """The one line and exit code for an exception that reached the command line."""
    for kind, explain in _EXPLAINERS:
        if isinstance(exc, kind):
            found = explain(exc)
            if found is not None:
                return Failure(one_line(found.message), found.code)
    where = _connection_target(exc)
    if where:
        return Failure(one_line(f"cannot reach {where}: {_reason(exc)}"), RUNTIME)
    return Failure(
        one_line(f"unexpected error ({type(exc).__name__}): {exc}; set log_level = 'DEBUG'"),
        RUNTIME,
    )


def is_connection_error(exc: BaseException) -> bool:
    return bool(_connection_target(exc))


# -- explainers, most specific first ---------------------------------------------------


def _user_error(exc: BaseException) -> Failure:
    assert isinstance(exc, UserError)
    return Failure(str(exc), exc.code)


def _validation(exc: BaseException) -> Failure | None:
    assert isinstance(exc, ValidationError)
    if exc.title != "Settings":
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or exc.title
        return Failure(f"bad value for {where}: {first['msg']}", USAGE)
    return Failure(settings_problem(exc), USAGE)


def settings_problem(exc: ValidationError) -> str:
    """The first bad setting: its key, where it came from, what is wrong."""
    from chipwire.settings import Settings

    first = exc.errors()[0]
    key = str(first["loc"][0]) if first["loc"] else "?"
    source = _source_of(key)
    if first["type"] == "extra_forbidden":
        hint = did_you_mean(key, list(Settings.model_fields))
        return f"unknown setting {key!r} in {source}{hint}; docs/CONFIG.md lists every key"
    value = first.get("input")
    shown = f" = {value!r}" if isinstance(value, str | int | float | bool) else ""
    more = len(exc.errors()) - 1
    tail = f" (and {more} more)" if more else ""
    return f"bad setting {key}{shown} in {source}: {first['msg']}{tail}"


def _source_of(key: str) -> str:
    env = f"CHIPWIRE_{key.upper()}"
    if env in os.environ:
        return f"environment variable {env}"
    return f"config file {config_path()}"


def _toml(exc: BaseException) -> Failure:
    return Failure(f"config file {config_path()} is not valid TOML: {exc}", USAGE)


def _decode(exc: BaseException) -> Failure:
    assert isinstance(exc, UnicodeDecodeError)
    return Failure(f"cannot decode input as {exc.encoding}: {exc.reason}", USAGE)


def _os_error(exc: BaseException) -> Failure | None:
    assert isinstance(exc, OSError)
    if exc.filename is None:
        return None  # a socket error: the connection explainer names the host
    reason = exc.strerror or str(exc)
    code = USAGE if isinstance(exc, FileNotFoundError | IsADirectoryError) else RUNTIME
    return Failure(f"cannot read {exc.filename}: {reason}", code)


def _sources(exc: BaseException) -> Failure:
    return Failure(str(exc), USAGE)


def _query(exc: BaseException) -> Failure:
    return Failure(f"bad query: {exc}", USAGE)


def _retry(exc: BaseException) -> Failure:
    return Failure(f"unavailable, try again later: {exc}", RUNTIME)


def _explainers() -> list[tuple[type[BaseException], Any]]:
    from chipwire.errors import Retry
    from index.query import QueryError
    from ingest.sources import SourcesError

    return [
        (UserError, _user_error),
        (ValidationError, _validation),
        (tomllib.TOMLDecodeError, _toml),
        (UnicodeDecodeError, _decode),
        (SourcesError, _sources),
        (QueryError, _query),
        (Retry, _retry),
        (OSError, _os_error),
    ]


_EXPLAINERS = _explainers()


# -- connections --------------------------------------------------------------------------


def _connection_target(exc: BaseException) -> str:
    """The host an error failed to reach, or '' when it is not a connection error."""
    from chipwire.settings import Settings

    name = type(exc).__name__
    module = type(exc).__module__
    try:
        settings: Settings | None = Settings()
    except Exception:
        settings = None
    if module.startswith("kafka") and (
        name in {"NoBrokersAvailable", "KafkaTimeoutError", "KafkaConnectionError"}
        or "Broker" in name
    ):
        host = settings.kafka_bootstrap if settings else "the Kafka bootstrap servers"
        return f"Kafka at {host} (kafka_bootstrap)"
    if module.startswith(("elasticsearch", "elastic_transport")) and (
        "Connection" in name or "Timeout" in name
    ):
        host = settings.es_url if settings else "Elasticsearch"
        return f"Elasticsearch at {host} (es_url)"
    if module.startswith("httpx") and ("Connect" in name or "Timeout" in name):
        request = getattr(exc, "_request", None)
        return str(request.url.host) if request is not None else "the server"
    if isinstance(exc, ConnectionError | TimeoutError):
        return "the server"
    return ""


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text if text else type(exc).__name__
