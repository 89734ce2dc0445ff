"""The five seed articles (third-party text, read from ../shared/seeds at test time) served
as pages behind a feed: the pipeline must find every labelled tag and the one policy shift
a reader takes from them, China on H200, restrict → ease."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

from chipwire.bus import ENRICHED_TOPIC
from chipwire.bus.embedded import EmbeddedBus
from chipwire.contract import EnrichedArticle
from chipwire.runner import RunReport, run_once
from chipwire.settings import Settings
from tests.conftest import SHARED
from tests.loopback import LoopbackServer

SEEDS = SHARED / "seeds"
# The order a reader meets them in (labels.json "_timeline"); the feed dates follow it.
DATES = [
    "Wed, 14 Jan 2026 08:00:00 GMT",
    "Fri, 16 Jan 2026 08:00:00 GMT",
    "Tue, 27 Jan 2026 08:00:00 GMT",
    "Wed, 28 Jan 2026 08:00:00 GMT",
    "Wed, 28 Jan 2026 18:00:00 GMT",
]

pytestmark = pytest.mark.skipif(
    not (SEEDS / "labels.json").exists(), reason=f"seed articles not found at {SEEDS}"
)


def as_page(text: str) -> tuple[str, str]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    title = lines[0] if len(lines[0]) < 120 and not lines[0].endswith(".") else ""
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines[1 if title else 0 :])
    page = (
        f"<html lang='en'><head><title>{html.escape(title)}</title></head><body>"
        f"<nav><a href='/'>Home</a></nav><article><h1>{html.escape(title)}</h1>{body}"
        "</article><footer>Test page</footer></body></html>"
    )
    return title, page


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, EnrichedArticle], RunReport]:
    tmp = tmp_path_factory.mktemp("seeds")
    names = sorted(p.name for p in SEEDS.glob("*.txt"))
    server = LoopbackServer()
    # the seeds come from different outlets: one feed (one source, one publisher) each, so
    # the alerter can count independent reports
    sources = []
    for i, (name, date) in enumerate(zip(names, DATES, strict=True)):
        title, page = as_page((SEEDS / name).read_text(encoding="utf-8"))
        url = server.add(f"/news/{name}.html", page, Content_Type="text/html; charset=utf-8")
        item = (
            f"<item><title>{html.escape(title)}</title><link>{url}</link>"
            f"<pubDate>{date}</pubDate></item>"
        )
        server.add(
            f"/feed-{i}.xml",
            '<?xml version="1.0"?><rss version="2.0"><channel><title>seeds'
            f"</title>{item}</channel></rss>",
        )
        feed = server.url(f"/feed-{i}.xml")
        sources.append(f"  - id: seed-{i}\n    name: Seed outlet {i}\n    feed: {feed}\n")
    (tmp / "sources.yaml").write_text("sources:\n" + "".join(sources))
    settings = Settings(
        data_dir=tmp / "data",
        sources_file=tmp / "sources.yaml",
        allow_private_addresses=True,
        host_min_interval_s=0,
        extract_workers=0,
    )
    try:
        report = run_once(settings)
    finally:
        server.close()
    bus = EmbeddedBus(settings.log_db)
    consumer = bus.consumer("check", [ENRICHED_TOPIC])
    articles = [EnrichedArticle.model_validate_json(m.value) for m in consumer.poll(50, 1.0)]
    consumer.close()
    bus.close()
    return {Path(a.url).name.removesuffix(".html"): a for a in articles}, report


@pytest.fixture(scope="module")
def enriched(run: tuple[dict[str, EnrichedArticle], RunReport]) -> dict[str, EnrichedArticle]:
    return run[0]


def labels() -> dict[str, dict[str, object]]:
    data = json.loads((SEEDS / "labels.json").read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


@pytest.mark.parametrize("field", ["chips", "companies", "agencies", "countries"])
def test_every_labelled_tag_is_found(enriched: dict[str, EnrichedArticle], field: str) -> None:
    for name, label in labels().items():
        tags = getattr(enriched[name].tags, field)
        found = {t.id for t in tags} | {t.name for t in tags}
        missing = set(label[field]) - found  # type: ignore[arg-type]
        assert not missing, f"{name}: {field} missing {sorted(missing)}"


def test_each_seed_primary_stance_and_jurisdiction(enriched: dict[str, EnrichedArticle]) -> None:
    for name, label in labels().items():
        primary = label["primary"]
        article = enriched[name]
        assert (article.stance, article.acting_jurisdiction) == (
            primary["direction"],
            primary["jurisdiction"],
        ), name  # type: ignore[index]


def test_the_one_shift_is_china_on_h200_restrict_to_ease(
    run: tuple[dict[str, EnrichedArticle], RunReport],
) -> None:
    alerts = run[1].alerts
    assert [(a.subject, a.jurisdiction, a.previous, a.current) for a in alerts] == [
        ("H200", "CN", "restrict", "ease")
    ]
