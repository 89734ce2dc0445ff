"""End to end on embedded defaults: the sample corpus on a loopback server, through crawl,
enrich, index and alert, with a real SMTP server. Then a restart that must re-send nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from chipwire.bus import ENRICHED_TOPIC, RAW_TOPIC
from chipwire.bus.embedded import EmbeddedBus
from chipwire.contract import EnrichedArticle
from chipwire.demo import DEMO_ARTICLES, serve_demo
from chipwire.runner import run_once
from index import open_backend
from index.backend import SearchRequest
from tests.conftest import demo_settings
from tests.smtp import Inbox


def test_demo_corpus_end_to_end_then_restart(tmp_path: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    with serve_demo() as server:
        settings = demo_settings(tmp_path, server.base_url, port)
        first = run_once(settings)
        second = run_once(settings)

    # every article accepted and indexed exactly once
    assert first.accepted == len(DEMO_ARTICLES)
    backend = open_backend(settings)
    try:
        assert backend.count() == len(DEMO_ARTICLES)
        everything = backend.search(SearchRequest(query="", limit=50))
        assert everything.total == len(DEMO_ARTICLES)
        hits = backend.search(SearchRequest(query="H200 AND customs", limit=50))
        titles = {h.title for h in hits.hits}
        customs_story = next(
            a
            for a in DEMO_ARTICLES
            if a.action == "customs_inspection"
            or (a.direction == "restrict" and "customs" in a.title.lower())
        )
        assert customs_story.title in titles
        restrict_only = backend.search(SearchRequest(query="H200", stance=["restrict"], limit=50))
        assert restrict_only.total >= 1 and all(h.stance == "restrict" for h in restrict_only.hits)
    finally:
        backend.close()

    # the syndicated near-copy joins its original's story
    bus = EmbeddedBus(settings.log_db)
    consumer = bus.consumer("check", [ENRICHED_TOPIC])
    enriched = [EnrichedArticle.model_validate_json(m.value) for m in consumer.poll(500, 1.0)]
    by_path = {a.url.split("?")[0].split(server.base_url)[-1]: a for a in enriched}
    copy = next(a for a in DEMO_ARTICLES if a.near_copy_of)
    original = next(a for a in DEMO_ARTICLES if a.key == copy.near_copy_of)
    assert by_path[copy.path].story_id == by_path[original.path].story_id
    others = [a.story_id for p, a in by_path.items() if p not in (copy.path, original.path)]
    assert len(set(others)) == len(others)
    # ...and its event story, which also joins other outlets' own reports of one move
    assert by_path[copy.path].event_id == by_path[original.path].event_id
    copies_per_event: dict[str | None, set[str]] = {}
    for article in by_path.values():
        copies_per_event.setdefault(article.event_id, set()).add(article.story_id)
    assert max(len(c) for c in copies_per_event.values()) >= 2

    # unrelated stories carry no policy move
    for article in DEMO_ARTICLES:
        if not article.relevant:
            assert by_path[article.path].relevance < settings.alert_min_relevance, article.title

    # exactly one shift alert, by one email: China on H200, restrict → ease
    assert [(a.subject, a.jurisdiction, a.previous, a.current) for a in first.alerts] == [
        ("H200", "CN", "restrict", "ease")
    ]
    assert len(inbox.messages) == 1
    assert "CN on H200: restrict → ease" in str(inbox.messages[0]["Subject"])
    # its evidence is the approval itself: every quote comes from an approval report
    approvals = [a for a in DEMO_ARTICLES if a.action == "import_approval"]
    (alert,) = first.alerts
    assert len(alert.evidence) >= 2 and len(set(alert.outlets)) >= 2
    for sentence in alert.evidence:
        assert any(sentence in f"{a.title}\n\n{a.text}" for a in approvals), sentence

    # the restart fetched nothing new, published nothing, mailed nothing
    assert second.accepted == 0 and second.alerts == []
    assert bus.end_offsets(RAW_TOPIC) == len(DEMO_ARTICLES)
    # each article once, and again only when a report that arrived later renamed its event
    last_event: dict[str, str | None] = {}
    for article in enriched:
        assert last_event.get(article.id, "") != article.event_id, article.title
        last_event[article.id] = article.event_id
    assert len(last_event) == len(DEMO_ARTICLES) == bus.end_offsets(RAW_TOPIC)
    assert len(inbox.messages) == 1
    consumer.close()
    bus.close()

    # the index can be rebuilt from the enriched topic alone
    env = {**os.environ, "CHIPWIRE_DATA_DIR": str(settings.data_dir)}
    rebuilt = subprocess.run(
        [sys.executable, "-m", "chipwire", "reindex"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    backend = open_backend(settings)
    try:
        assert backend.count() == len(DEMO_ARTICLES)
    finally:
        backend.close()
