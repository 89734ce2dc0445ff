"""Wiring: one `Pipeline` holds every stage on one bus; `run_forever` and `run_once` drive it.

Embedded mode runs it all in one process (threads for the stages, processes for
extraction); on Kafka each stage can also run alone (`chipwire crawl|enrich|index|alert`).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Self

import uvicorn
from apscheduler.schedulers.background import BackgroundScheduler

from alerts import store as alert_store
from alerts.matching import QueryMatcher
from alerts.stage import AlertSink, ShiftHook
from chipwire import outbox
from chipwire.bus import ENRICHED_TOPIC, RAW_TOPIC, TAGGED_TOPIC, Bus, open_bus
from chipwire.contract import AlertEvent
from chipwire.health import Health, stage_health
from chipwire.memory import limit_malloc_arenas
from chipwire.metrics import CONFIG_ERRORS
from chipwire.settings import Settings
from chipwire.stage import Sink, StageRunner
from enrich import event_store
from enrich.event_stage import EventSink
from enrich.event_store import EventStore
from enrich.stage import EnrichSink
from index import open_backend
from index.backend import SearchBackend
from index.stage import IndexSink, index_runner
from ingest import state
from ingest.crawl import Crawler, FeedReport
from ingest.fetch import make_client
from ingest.sources import (
    Source,
    SourcesError,
    SourcesWatch,
    in_partitions,
    in_shard,
    load_sources,
)
from ingest.workers import WorkerPool

if TYPE_CHECKING:
    from chipwire.bus.kafka_membership import CrawlGroup

log = logging.getLogger(__name__)

STAGE_GROUPS = {
    "enrich": "chipwire-enrich",
    "events": "chipwire-events",
    "index": "chipwire-index",
    "alert": "chipwire-alert",
}
STAGE_TOPICS = {
    "enrich": RAW_TOPIC,
    "events": TAGGED_TOPIC,
    "index": ENRICHED_TOPIC,
    "alert": ENRICHED_TOPIC,
}


@dataclass
class RunReport:
    feeds: list[FeedReport] = field(default_factory=list)
    handled: dict[str, dict[str, int]] = field(default_factory=dict)
    alerts: list[AlertEvent] = field(default_factory=list)
    mail: dict[str, str] = field(default_factory=dict)  # alert id -> delivery status

    @property
    def accepted(self) -> int:
        return sum(f.outcomes.get("ok", 0) for f in self.feeds)


class Pipeline:
    """Every long-lived part of a chipwire process, opened from settings, closed once."""

    def __init__(
        self,
        settings: Settings,
        stages: tuple[str, ...] = ("crawl", *STAGE_GROUPS),
        *,
        connect: bool = True,
    ):
        """`connect=False` opens only what works without the bus (the crawler and its
        outbox); `connect()` then adds the topics and the consuming stages."""
        limit_malloc_arenas(settings.malloc_arenas)  # before any of our threads starts
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.settings = settings
        self.bus: Bus = open_bus(settings)
        self.stages = stages
        self.connected = False
        self.relay_wake = threading.Event()
        self._closers: list[Callable[[], None]] = [self.bus.close]
        self.crawler: Crawler | None = None
        self._sources = SourcesWatch(settings.sources_file)
        self.state_conn: sqlite3.Connection | None = None
        if "crawl" in stages:
            self.state_conn = state.connect(settings.state_db)
            self.relay_conn = state.connect(settings.state_db)
            client = make_client(settings)
            extractor = _extractor(settings.extract_workers)
            self.crawler = Crawler(
                settings, self.state_conn, client, extractor, self.relay_wake.set
            )
            self._closers += [
                self.crawler.close,
                client.close,
                self.state_conn.close,
                self.relay_conn.close,
            ]
            if extractor is not None:
                extractor.warm()
                self._closers.append(lambda: extractor.shutdown(cancel_futures=True))
        self.crawl_group: CrawlGroup | None = None
        self.backend: SearchBackend | None = None
        self.alert_sink: AlertSink | None = None
        self.runners: dict[str, StageRunner] = {}
        if connect:
            self.connect()

    def connect(self) -> None:
        """Create the topics and open the consuming stages: the part that needs the bus."""
        self.bus.ensure_topics()
        if self.crawler is not None and self.settings.crawl_sharding == "group":
            from chipwire.bus.kafka_membership import CrawlGroup

            self.crawl_group = CrawlGroup(self.settings)
            self._closers.insert(0, self.crawl_group.close)
        for name in STAGE_GROUPS:
            if name in self.stages and not self._events_inline(name):
                self.runners[name] = self._runner(name, self._sink(name))
        self.connected = True

    def _events_inline(self, name: str) -> bool:
        """One process running enrich and events hands each tagged article straight on."""
        return name == "events" and "enrich" in self.stages

    def _sink(self, name: str) -> Sink:
        if name == "enrich":
            inline = self._event_sink() if "events" in self.stages else None
            return EnrichSink(self.bus, inline)
        if name == "events":
            return self._event_sink()
        if name == "index":
            self.backend = open_backend(self.settings)
            self._closers.insert(0, self.backend.close)
            return IndexSink(self.backend, self.bus)
        alert_conn = alert_store.connect(self.settings.alerts_db)
        self._closers.append(alert_conn.close)
        self.alert_sink = AlertSink(
            self.bus,
            alert_conn,
            self.settings,
            matcher=self._saved_search_matcher(),
            on_shift=self._tighten_covering_feeds(),
        )
        return self.alert_sink

    def _event_sink(self) -> EventSink:
        conn = event_store.connect(self.settings.events_db)
        self._closers.append(conn.close)
        window = timedelta(hours=self.settings.event_window_h)
        return EventSink(self.bus, EventStore(conn, window))

    def _saved_search_matcher(self) -> QueryMatcher | None:
        """On Elasticsearch, saved searches are percolator queries; embedded, the default."""
        if self.settings.search != "elasticsearch":
            return None
        from index.elastic import ElasticBackend
        from index.percolator import PercolatorMatcher

        matcher = PercolatorMatcher(ElasticBackend.from_settings(self.settings))
        self._closers.insert(0, matcher.close)
        return matcher

    def _tighten_covering_feeds(self) -> ShiftHook | None:
        """After a shift, the feeds that covered its subject are polled at their shortest
        interval for poll_tighten_hours (ingest/cadence.py): written into the crawler's
        state file when this process crawls or shares the crawler's data directory."""
        hours = self.settings.poll_tighten_hours
        if hours <= 0 or (self.state_conn is None and not self.settings.state_db.exists()):
            return None
        conn = state.connect(self.settings.state_db)  # the alert thread's own connection
        self._closers.append(conn.close)

        def tighten(event: AlertEvent, source_ids: list[str]) -> None:
            reason = f"{event.jurisdiction} {event.previous}→{event.current} on {event.subject}"
            state.tighten(conn, source_ids, time.time() + hours * 3600, reason)
            log.info("polling %d source(s) more often for %g h: %s", len(source_ids), hours, reason)

        return tighten

    def _runner(self, name: str, sink: Sink) -> StageRunner:
        consumer = self.bus.consumer(STAGE_GROUPS[name], [STAGE_TOPICS[name]])
        self._closers.insert(0, consumer.close)
        if name == "index":
            return index_runner(consumer, sink, self.bus, self.settings)
        return StageRunner(consumer, sink, self.bus, self.settings.stage_batch_records)

    def sources(self) -> list[Source]:
        """The enabled sources this replica polls now (the file is parsed again only when it
        changed): with crawl_sharding = group, those of the partitions the crawl group gives
        it (none before it joined); otherwise crawl_shard of crawl_shards."""
        current = self._sources.current()
        if self.settings.crawl_sharding != "group":
            return in_shard(current, self.settings.crawl_shards, self.settings.crawl_shard)
        owned = self.crawl_group.owned() if self.crawl_group is not None else frozenset()
        return in_partitions(current, self.settings.crawl_group_partitions, owned)

    @staticmethod
    def sources_of(settings: Settings) -> list[Source]:
        """The enabled sources this crawler replica owns (crawl_shard of crawl_shards)."""
        return in_shard(
            load_sources(settings.sources_file), settings.crawl_shards, settings.crawl_shard
        )

    def relay(self) -> int:
        assert self.state_conn is not None
        return outbox.relay_all(self.relay_conn, self.bus)

    def close(self) -> None:
        for close in self._closers:
            try:
                close()
            except Exception:
                log.exception("error while closing")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def run_once(settings: Settings, drain_timeout_s: float = 120.0) -> RunReport:
    """Poll every source now and stop when every stage has drained: the demo's and the
    benchmark's run. The stages work while the crawler does, as in `run`."""
    report = RunReport()
    with Pipeline(settings) as pipeline:
        assert pipeline.crawler is not None
        stop = threading.Event()
        workers = _stage_threads(pipeline, stop)
        for worker in workers:
            worker.start()
        report.feeds = pipeline.crawler.poll_feeds(pipeline.sources())
        stop.set()
        pipeline.relay_wake.set()
        for worker in workers:
            worker.join()
        pipeline.relay()
        for name, runner in pipeline.runners.items():
            runner.drain(timeout_s=drain_timeout_s)
            report.handled[name] = dict(runner.handled)
        if pipeline.alert_sink is not None:
            report.alerts = list(pipeline.alert_sink.alerts)
            report.mail = {a.id: pipeline.alert_sink.mail_status(a.id) for a in report.alerts}
    return report


def _stage_threads(pipeline: Pipeline, stop: threading.Event) -> list[threading.Thread]:
    """One thread per consuming stage, and the outbox relay when this process crawls."""
    threads = [
        threading.Thread(target=r.run, args=(stop,), name=f"stage-{n}", daemon=True)
        for n, r in pipeline.runners.items()
    ]
    if pipeline.crawler is not None:
        threads.append(
            threading.Thread(
                target=outbox.relay_forever,
                args=(pipeline.relay_conn, pipeline.bus, stop, pipeline.relay_wake),
                name="outbox-relay",
                daemon=True,
            )
        )
    return threads


def run_forever(
    settings: Settings,
    stop: threading.Event,
    stages: tuple[str, ...],
    committed: threading.Event | None = None,
) -> None:
    """Run the chosen stages until `stop` is set; then finish the batch in hand and commit.

    `committed` is set once every consuming stage has committed its last batch: from then
    on the process may exit at once (a crawl still running loses nothing it accepted)."""
    with Pipeline(settings, stages, connect=False) as pipeline:
        # the crawler needs no bus: it polls into the outbox at once, even while Kafka is away
        scheduler = _schedule_crawl(pipeline, stop) if pipeline.crawler is not None else None
        meanwhile = "crawling into the outbox meanwhile" if scheduler is not None else ""
        threads: list[threading.Thread] = []
        web = None
        if wait_for_bus(settings, stop, meanwhile=meanwhile):
            pipeline.connect()
            threads = _stage_threads(pipeline, stop)
            health = stage_health(
                {t.name.removeprefix("stage-"): t for t in threads},
                pipeline.runners,
                settings.health_stall_s,
            )
            if "index" in stages and settings.http_port:
                watch_index_size(settings, pipeline.backend)
                web = start_web(settings, health)
            for thread in threads:
                thread.start()
            log.info(
                "chipwire running: stages=%s bus=%s search=%s",
                ",".join(stages),
                settings.bus,
                settings.search,
            )
        stop.wait()
        log.info("stopping: finishing batches in hand")
        if scheduler is not None:
            scheduler.shutdown(wait=True)  # a tick only starts polls: it ends at once
        if pipeline.crawler is not None:
            pipeline.crawler.stop()  # polls and fetches in flight are abandoned
        if web is not None:
            web.should_exit = True
        pipeline.relay_wake.set()
        for thread in threads:
            thread.join(timeout=60)
        if committed is not None:
            committed.set()
        if pipeline.crawler is not None and pipeline.connected:
            _final_relay(pipeline)
        elif pipeline.crawler is not None:
            waiting = outbox.backlog(pipeline.relay_conn)
            log.info("kafka never answered: %d article(s) wait in the outbox", waiting)


def wait_for_bus(
    settings: Settings, stop: threading.Event, max_backoff_s: float = 30.0, meanwhile: str = ""
) -> bool:
    """Create the topics, retrying with backoff while the broker is unreachable: one log
    line per attempt (ending with `meanwhile`: what goes on without the bus). False when
    stopped before the bus answered."""
    if settings.bus != "kafka":
        return True
    from chipwire.bus import kafka_topics
    from chipwire.commands.failures import describe, is_connection_error

    backoff, attempt = 1.0, 1
    # each attempt is short, so a signal is answered within the 5 s an orchestrator allows
    probe_s = min(settings.kafka_bootstrap_timeout_ms / 1000, 3.0)
    suffix = f"; {meanwhile}" if meanwhile else ""
    while not stop.is_set():
        try:
            kafka_topics.ensure_topics(settings, probe_timeout_s=probe_s)
            if attempt > 1:
                log.info(
                    "kafka at %s reachable after %d attempts", settings.kafka_bootstrap, attempt
                )
            return True
        except Exception as exc:
            if not is_connection_error(exc):
                raise
            log.error(
                "attempt %d: %s; retrying in %.0fs%s",
                attempt,
                describe(exc).message,
                backoff,
                suffix,
            )
        stop.wait(backoff)
        backoff, attempt = min(backoff * 2, max_backoff_s), attempt + 1
    log.info("stopped before Kafka at %s was reachable", settings.kafka_bootstrap)
    return False


def watch_index_size(settings: Settings, backend: SearchBackend | None = None) -> None:
    """Export chipwire_search_index_documents from `backend`, or from a reader opened at the first
    scrape (`serve`)."""
    from chipwire.metrics import INDEX_SIZE

    opened: list[SearchBackend] = [backend] if backend is not None else []

    def count() -> int:
        if not opened:
            opened.append(open_backend(settings))
        return opened[0].count()

    INDEX_SIZE.watch(settings.search, count)


def start_web(settings: Settings, health: Health | None = None) -> uvicorn.Server:
    """The web page, the API, /healthz and /metrics on settings.http_host:http_port, in a
    thread; /healthz also reports the stages `health` covers."""
    from chipwire import heap
    from chipwire.web import create_web_app

    app = create_web_app(settings, health)
    heap.settle()  # the pipeline and the app are built: what is alive now stays
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_level="warning",
        log_config=None,  # through chipwire's log handler, in its format
        lifespan="on",
    )
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, name="web", daemon=True).start()
    log.info("web page and API on http://%s:%d/", settings.http_host, settings.http_port)
    return server


def _schedule_crawl(pipeline: Pipeline, stop: threading.Event) -> BackgroundScheduler:
    crawler = pipeline.crawler
    assert crawler is not None

    last_good: list[Source] = pipeline.sources()  # a bad file at start-up stops the process

    def tick() -> None:
        nonlocal last_good
        if stop.is_set():
            return
        try:
            last_good = pipeline.sources()
        except SourcesError as exc:
            CONFIG_ERRORS.labels("sources").inc()
            log.error("sources file rejected, polling the last good list: %s", exc)
        try:
            crawler.start_due(last_good)  # each due feed's poll is its own task
        except Exception:  # one bad tick must not end the schedule
            log.exception("crawl tick failed")

    # a few ticks per interval, so a feed is polled soon after it falls due
    tick_s = max(0.5, min(pipeline.settings.poll_interval_s / 4, 15.0))
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        tick,
        "interval",
        seconds=tick_s,
        id="crawl-tick",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=int(tick_s * 4) + 1,
        next_run_time=_now(),
    )
    scheduler.start()
    return scheduler


def _final_relay(pipeline: Pipeline) -> None:
    try:
        pipeline.relay()
    except Exception as exc:
        log.warning("outbox not empty at shutdown (kept for next start): %s", exc)


def _now() -> object:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _extractor(workers: int) -> WorkerPool | None:
    if workers <= 0:
        return None
    return WorkerPool(workers)
