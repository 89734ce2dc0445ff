"""examples/consumer.py, run as a downstream developer would, reads the enriched stream."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chipwire.bus import ENRICHED_TOPIC
from chipwire.bus.kafka import KafkaBus
from chipwire.contract import EnrichedArticle, SourceRef
from chipwire.events import encode
from tests.kafka.kafka_fixtures import kafka_settings, unique
from tests.kafka.tansu_broker import Tansu

# kafka-python 3.0.12 drops sockets of refused connections unclosed (collected after each test)
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "consumer.py"


def test_the_example_consumer_prints_each_enriched_article(tansu: Tansu) -> None:
    bus = KafkaBus(kafka_settings(tansu.bootstrap))
    bus.ensure_topics([ENRICHED_TOPIC])
    ids = [unique("example") for _ in range(3)]
    for article_id in ids:
        article = EnrichedArticle(
            id=article_id,
            story_id=article_id,
            url=f"https://example.org/{article_id}",
            canonical_url=f"https://example.org/{article_id}",
            source=SourceRef(id="s", name="Sample", feed="https://example.org/feed"),
            title=f"Sample headline {article_id}",
            text="Sample text written for this test.",
            fetched_at=datetime.now(UTC),
            stance="restrict",
        )
        bus.publish(ENRICHED_TOPIC, *encode(article, "enrich"))
    bus.close()

    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP": tansu.bootstrap,
        "KAFKA_GROUP": unique("downstream"),
        "EXIT_WHEN_IDLE_MS": "8000",
    }
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)], env=env, capture_output=True, text=True, timeout=90
    )
    assert done.returncode == 0, done.stderr
    printed = {line.split()[0]: line for line in done.stdout.splitlines() if line.strip()}
    for article_id in ids:
        assert (
            f"io.chipwire.article.enriched.v1 restrict Sample headline {article_id}"
            in (printed[article_id])
        )
