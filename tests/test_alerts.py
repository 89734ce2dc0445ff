"""Policy state and shift alerts: one email per real shift, none for noise or replays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

from aiosmtpd.controller import Controller

from alerts import mail, policy
from alerts.stage import AlertSink, to_event
from chipwire.bus import ALERTS_TOPIC, ENRICHED_TOPIC
from chipwire.bus.embedded import EmbeddedBus
from chipwire.contract import EnrichedArticle, Signal, SourceRef
from chipwire.events import encode
from chipwire.settings import Settings
from chipwire.stage import StageRunner
from tests.smtp import Inbox, free_port

DAY0 = datetime(2026, 1, 10, tzinfo=UTC)


def article(
    n: int,
    direction: str,
    day: int,
    story: str | None = None,
    *,
    subject: str = "H200",
    jurisdiction: str = "CN",
    confidence: float = 0.9,
    relevance: float = 0.9,
    certainty: str = "reported",
) -> EnrichedArticle:
    evidence = f"Sentence {n} says the authorities moved to {direction} {subject}."
    return EnrichedArticle(
        id=f"a{n}",
        story_id=story or f"s{n}",
        url=f"https://news.example/{n}",
        canonical_url=f"https://news.example/{n}",
        source=SourceRef(id="wire", name="Wire", feed="https://news.example/feed"),
        title=f"Story {n}",
        text=evidence,
        fetched_at=DAY0 + timedelta(days=30),
        published_at=DAY0 + timedelta(days=day),
        signals=[
            Signal(
                subject=subject,
                jurisdiction=jurisdiction,
                action="import_restriction",
                direction=direction,
                certainty=certainty,
                evidence=evidence,  # type: ignore[arg-type]
                evidence_start=0,
                evidence_end=len(evidence),
                confidence=confidence,
            )
        ],
        stance=direction,
        acting_jurisdiction=jurisdiction,
        relevance=relevance,  # type: ignore[arg-type]
    )


def shifts_after(articles: list[EnrichedArticle], tmp_path: Path) -> list[policy.Shift]:
    conn = policy.connect(tmp_path / "alerts.sqlite")
    for a in articles:
        policy.record(conn, policy.observations_of(a, 0.6, 0.5))
    return policy.shifts(policy.timeline(conn, "H200", "CN"))


def test_restrict_then_ease_is_one_shift(tmp_path: Path) -> None:
    found = shifts_after(
        [
            article(1, "restrict", 1),
            article(2, "restrict", 3),
            article(3, "ease", 15),
            article(4, "ease", 16),
        ],
        tmp_path,
    )
    assert [(s.previous, s.current, s.first.article_id) for s in found] == [
        ("restrict", "ease", "a3")
    ]
    assert [o.article_id for o in found[0].corroborating] == ["a4"]


def test_out_of_order_arrival_gives_the_same_shift(tmp_path: Path) -> None:
    in_order = shifts_after([article(1, "restrict", 1), article(3, "ease", 15)], tmp_path / "a")
    reversed_ = shifts_after([article(3, "ease", 15), article(1, "restrict", 1)], tmp_path / "b")
    assert [s.id for s in in_order] == [s.id for s in reversed_]


def test_first_observation_is_a_state_not_a_shift(tmp_path: Path) -> None:
    assert shifts_after([article(1, "ease", 1)], tmp_path) == []


def test_weak_offtopic_proposed_or_conflicting_signals_never_move_the_state(tmp_path: Path) -> None:
    noisy = [
        article(2, "ease", 5, confidence=0.3),
        article(3, "ease", 6, relevance=0.2),
        article(4, "ease", 7, certainty="proposed"),
    ]
    both = article(5, "ease", 8)
    both = both.model_copy(
        update={"signals": both.signals + article(6, "restrict", 8).signals, "stance": "mixed"}
    )
    assert shifts_after([article(1, "restrict", 1), *noisy, both], tmp_path) == []


def test_background_sentences_about_another_government_need_a_clear_majority(
    tmp_path: Path,
) -> None:
    lead = article(1, "restrict", 1, jurisdiction="US")
    weak = article(2, "ease", 2, confidence=0.7)  # CN ease, only in passing
    mixed_in = lead.model_copy(update={"signals": lead.signals + weak.signals})
    conn = policy.connect(tmp_path / "alerts.sqlite")
    found = policy.observations_of(mixed_in, 0.6, 0.5)
    assert [(o.subject, o.jurisdiction, o.direction) for o in found] == [("H200", "US", "restrict")]
    conn.close()


def test_a_syndicated_copy_cannot_flip_the_state_alone(tmp_path: Path) -> None:
    found = shifts_after(
        [
            article(1, "restrict", 1, story="s1"),
            article(2, "ease", 5),
            article(3, "restrict", 6, story="s1"),
        ],
        tmp_path,
    )
    assert [(s.previous, s.current) for s in found] == [("restrict", "ease")]


def run_alerter(bus: EmbeddedBus, settings: Settings) -> AlertSink:
    conn = policy.connect(settings.data_dir / "alerts.sqlite")
    sink = AlertSink(bus, conn, settings)
    StageRunner(bus.consumer("chipwire-alert", [ENRICHED_TOPIC]), sink, bus).drain(timeout_s=20)
    conn.close()
    return sink


def test_alerter_mails_one_shift_over_real_smtp_and_nothing_on_replay(
    tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    settings = Settings(
        data_dir=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=port,
        alert_recipients=["desk@example.org"],
    )
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    for a in (
        article(1, "restrict", 1),
        article(2, "restrict", 2),
        article(3, "ease", 15),
        article(4, "ease", 16),
    ):
        bus.publish(ENRICHED_TOPIC, *encode(a, "test")[:2], encode(a, "test")[2])
    first = run_alerter(bus, settings)
    assert len(first.alerts) == 1 and len(inbox.messages) == 1
    assert "CN on H200: restrict → ease" in str(inbox.messages[0]["Subject"])
    assert inbox.messages[0]["To"] == "desk@example.org"
    # a replay of the whole topic (new consumer group = a reprocess) mails nothing again
    settings_replay = settings
    conn = policy.connect(tmp_path / "alerts.sqlite")
    sink = AlertSink(bus, conn, settings_replay)
    StageRunner(bus.consumer("replay", [ENRICHED_TOPIC]), sink, bus).drain(timeout_s=20)
    assert sink.alerts == [] and len(inbox.messages) == 1
    assert bus.end_offsets(ALERTS_TOPIC) == 1


def test_without_smtp_the_email_is_written_to_the_outbox(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, smtp_host="")
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    for a in (article(1, "restrict", 1), article(2, "ease", 9)):
        key, value, headers = encode(a, "test")
        bus.publish(ENRICHED_TOPIC, key, value, headers)
    run_alerter(bus, settings)
    files = mail.outbox_files(settings.outbox_dir)
    assert len(files) == 1
    assert (
        "restrict → ease"
        in message_from_bytes(files[0].read_bytes(), policy=email_policy.default)["Subject"]
    )


def test_smtp_down_keeps_the_alert_pending_and_sends_it_later(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=port)
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    for a in (article(1, "restrict", 1), article(2, "ease", 9)):
        key, value, headers = encode(a, "test")
        bus.publish(ENRICHED_TOPIC, key, value, headers)
    assert run_alerter(bus, settings).alerts == []
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        a = article(3, "ease", 10)
        key, value, headers = encode(a, "test")
        bus.publish(ENRICHED_TOPIC, key, value, headers)
        run_alerter(bus, settings)
    finally:
        controller.stop()
    assert len(inbox.messages) == 1


def test_subject_header_injection_is_neutralised(tmp_path: Path) -> None:
    shift = shifts_after([article(1, "restrict", 1), article(2, "ease", 9)], tmp_path)[0]
    hostile = to_event(shift).model_copy(
        update={"subject": "H200 =?UTF-8?Q?=0A?=Bcc: evil@x.org\r\nX: y"}
    )
    rendered = mail.render(hostile, Settings(data_dir=tmp_path)).as_string()
    header_names = [
        line.split(":", 1)[0]
        for line in rendered.split("\n\n", 1)[0].splitlines()
        if line and not line[0].isspace()
    ]
    assert "Bcc" not in header_names and "X" not in header_names
    assert message_from_bytes(rendered.encode(), policy=email_policy.default)["Bcc"] is None


def test_an_earlier_report_arriving_after_the_alert_does_not_mail_again(
    tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    settings = Settings(data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=port)
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    late_outlet = article(3, "ease", 15).model_copy(
        update={"published_at": DAY0 + timedelta(days=15, hours=8)}
    )
    for a in (article(1, "restrict", 1), late_outlet):
        key, value, headers = encode(a, "test")
        bus.publish(ENRICHED_TOPIC, key, value, headers)
    run_alerter(bus, settings)
    assert len(inbox.messages) == 1
    # the outlet that had the news first is polled last: its story now opens the run
    first_outlet = article(2, "ease", 15)
    key, value, headers = encode(first_outlet, "test")
    bus.publish(ENRICHED_TOPIC, key, value, headers)
    assert run_alerter(bus, settings).alerts == []
    assert len(inbox.messages) == 1


def test_a_real_reversal_weeks_later_is_mailed(tmp_path: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    settings = Settings(data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=port)
    bus = EmbeddedBus(tmp_path / "log.sqlite")
    for a in (
        article(1, "restrict", 1),
        article(2, "ease", 15),
        article(3, "restrict", 40),
        article(4, "ease", 70),
    ):
        key, value, headers = encode(a, "test")
        bus.publish(ENRICHED_TOPIC, key, value, headers)
    run_alerter(bus, settings)
    assert [str(m["Subject"]).rsplit(": ", 1)[1] for m in inbox.messages] == [
        "restrict → ease",
        "ease → restrict",
        "restrict → ease",
    ]
