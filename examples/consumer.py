"""Read chipwire's enriched-article stream with kafka-python (contract: docs/STREAM.md).

pip install kafka-python zstandard   # chipwire publishes zstd-compressed batches
KAFKA_BOOTSTRAP=127.0.0.1:9092 python examples/consumer.py
"""

import json
import os

from kafka import KafkaConsumer

consumer = KafkaConsumer(
    "chipwire.articles.enriched.v1",
    bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
    group_id=os.environ.get("KAFKA_GROUP", "my-downstream-app"),
    auto_offset_reset="earliest",  # a new group reads the whole topic (replay)
    enable_auto_commit=False,  # commit after the work is done: at-least-once
    session_timeout_ms=10_000,  # a group join waits about half of this (default 45 s)
    consumer_timeout_ms=int(os.environ.get("EXIT_WHEN_IDLE_MS", "0")) or float("inf"),
)
for record in consumer:
    headers = {key: value.decode() for key, value in record.headers}
    article = json.loads(record.value)  # schemas/chipwire.articles.enriched.v1.json
    # key = article id: upsert by it, so a redelivered or updated article is harmless
    print(record.key.decode(), headers["ce_type"], article["stance"], article["title"])
    consumer.commit()
consumer.close()
