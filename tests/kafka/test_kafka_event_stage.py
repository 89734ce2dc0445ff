"""Enrich at scale on a real broker (tansu, 3 partitions): two stateless enrich replicas
share the raw topic and one event stage files every tagged article, so each article
reaches the enriched topic with the event story one process gives it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pytest

from chipwire.bus import ENRICHED_TOPIC, RAW_TOPIC, TAGGED_TOPIC
from chipwire.bus.kafka import KafkaBus
from chipwire.contract import EnrichedArticle, article_id
from chipwire.events import publish
from chipwire.runner import Pipeline
from chipwire.settings import Settings
from chipwire.stage import StageRunner
from enrich.tag import tag_article
from tests.kafka.kafka_fixtures import kafka_settings, unique
from tests.kafka.tansu_broker import Tansu
from tests.test_event_stories import BRIEF, HUAXIA, LEDGER, MONTH_LATER, raw

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

ONE_EVENT = (LEDGER, BRIEF, HUAXIA)
OTHERS = [  # unrelated launches, each its own event: enough keys to reach every partition
    (
        f"https://gadget-news.example/{n}",
        "Gadget News",
        "en",
        LEDGER[3] + timedelta(days=9 * n),
        f"A maker of handheld consoles showed model {n} with a brighter screen and longer battery.",
    )
    for n in range(1, 9)
]


@pytest.fixture
def settings(tansu: Tansu, tmp_path: Path) -> Settings:
    return kafka_settings(
        tansu.bootstrap, tmp_path, kafka_topic_prefix=unique("scale") + ".", kafka_partitions=3
    )


def latest_enriched(
    settings: Settings,
    settled: Callable[[dict[str, EnrichedArticle]], bool],
    timeout_s: float = 60.0,
) -> dict[str, EnrichedArticle]:
    """Each article's latest enriched message, read until `settled` holds for them (or the
    time is up: the caller's assertions then say what is missing). A rename reaches the
    topic after a second hop through the event stage, so no quiet spell can stand for it."""
    bus = KafkaBus(settings)
    reader = bus.reader([ENRICHED_TOPIC])
    latest: dict[str, EnrichedArticle] = {}
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and not settled(latest):
            for message in reader.poll(500, 0.3):
                article = EnrichedArticle.model_validate_json(message.value)
                latest[article.id] = article
        return latest
    finally:
        reader.close()
        bus.close()


@pytest.fixture
def running(settings: Settings) -> Iterator[list[Pipeline]]:
    """Two enrich replicas and the one event stage, each a pipeline of its own."""
    stop = threading.Event()
    with ExitStack() as stack:
        pipelines = [
            stack.enter_context(Pipeline(replace_dir(settings, name), (stage,)))
            for name, stage in (("e1", "enrich"), ("e2", "enrich"), ("ev", "events"))
        ]
        threads = [
            threading.Thread(target=runner.run, args=(stop, 0.3), daemon=True)
            for p in pipelines
            for runner in p.runners.values()
        ]
        for thread in threads:
            thread.start()
        yield pipelines
        stop.set()
        for thread in threads:
            thread.join(timeout=30)


def replace_dir(settings: Settings, name: str) -> Settings:
    return settings.model_copy(update={"data_dir": settings.data_dir / name})


def wait_for_members(pipelines: list[Pipeline], timeout_s: float = 40.0) -> None:
    """Until every runner has turned its loop a few times: the group has settled."""
    runners = [r for p in pipelines for r in p.runners.values()]
    since = time.monotonic()
    deadline = since + timeout_s
    loops = dict.fromkeys(map(id, runners), 0)
    while min(loops.values()) < 3 and time.monotonic() < deadline:
        for r in runners:
            if r.last_loop_at > since:
                loops[id(r)] += 1
        since = time.monotonic()
        time.sleep(0.4)


def test_a_first_report_filed_after_months_later_news_still_renames_its_event(
    settings: Settings,
) -> None:
    """Partitions are read at their own pace, so the event stage can file a report from
    months later before the earliest report of an older event. Filing that earliest report
    must still publish the renamed reports again (their kept copies were dropped once,
    "30 days before the newest report": a rename the enriched topic never saw)."""
    bus = KafkaBus(settings)
    with Pipeline(replace_dir(settings, "ev"), ("events",)) as pipeline:
        runner = pipeline.runners["events"]
        for report in (HUAXIA, BRIEF, OTHERS[-1]):  # the last launch: 72 days on
            publish(bus, TAGGED_TOPIC, tag_article(raw(report)), stage="enrich")
        handle_until(runner, 3)
        publish(bus, TAGGED_TOPIC, tag_article(raw(LEDGER)), stage="enrich")
        handle_until(runner, 4)
    bus.close()
    first = article_id(LEDGER[0])
    ids = [article_id(r[0]) for r in ONE_EVENT]

    def renamed(latest: dict[str, EnrichedArticle]) -> bool:
        return all(i in latest and latest[i].event_id == first for i in ids)

    latest = latest_enriched(settings, renamed, timeout_s=20.0)
    assert {i: latest[i].event_id for i in ids if i in latest} == dict.fromkeys(ids, first)


def handle_until(runner: StageRunner, handled: int, timeout_s: float = 30.0) -> None:
    """Drain the stage until it has handled `handled` messages in all (bounded)."""
    deadline = time.monotonic() + timeout_s
    while runner.handled["ok"] < handled and time.monotonic() < deadline:
        runner.drain(timeout_s=timeout_s)
    assert runner.handled["ok"] >= handled, runner.handled


def test_two_enrich_replicas_and_one_event_stage_give_each_article_its_event(
    settings: Settings, running: list[Pipeline]
) -> None:
    wait_for_members(running)
    bus = KafkaBus(settings)
    # the later reports first: the event stage renames them when the earliest comes in
    for report in (HUAXIA, BRIEF, MONTH_LATER, *OTHERS, LEDGER):
        publish(bus, RAW_TOPIC, raw(report), stage="crawl")
    bus.close()
    expect = len(ONE_EVENT) + 1 + len(OTHERS)
    first = article_id(LEDGER[0])

    def renamed(latest: dict[str, EnrichedArticle]) -> bool:
        ids = [article_id(r[0]) for r in ONE_EVENT]
        return len(latest) == expect and all(
            i in latest and latest[i].event_id == first for i in ids
        )

    latest = latest_enriched(settings, renamed)

    assert len(latest) == expect
    assert {latest[article_id(r[0])].event_id for r in ONE_EVENT} == {first}
    later = latest[article_id(MONTH_LATER[0])]
    assert later.event_id == later.id
    assert all(latest[article_id(r[0])].event_id == article_id(r[0]) for r in OTHERS)
    enrich = [p.runners["enrich"].handled["ok"] for p in running[:2]]
    assert sum(enrich) >= expect and min(enrich) > 0, enrich  # both replicas tagged
    assert running[2].runners["events"].handled["ok"] >= expect
