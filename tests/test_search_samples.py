"""Invented sample articles for the search tests (our own words, modelled loosely on 2026 news).

Imported by the other test_search_* / test_index_* modules; the tests below check the samples
themselves stay valid contract messages.
"""

from __future__ import annotations

from datetime import UTC, datetime

from chipwire.contract import EnrichedArticle, EntityRef, SourceRef, Tags, article_id
from chipwire.events import encode

NAMES = {
    "H200": "Nvidia H200",
    "H20": "Nvidia H20",
    "nvidia": "Nvidia",
    "asml": "ASML",
    "alibaba": "Alibaba",
    "CN:GAC": "General Administration of Customs",
    "CN:MOFCOM": "Ministry of Commerce (China)",
    "US:BIS": "Bureau of Industry and Security",
    "NL:MFA": "Dutch Ministry of Foreign Affairs",
    "CN": "China",
    "US": "United States",
    "NL": "Netherlands",
}


def refs(*ids: str) -> list[EntityRef]:
    return [EntityRef(id=i, name=NAMES.get(i, i)) for i in ids]


def make_article(
    slug: str,
    title: str,
    text: str,
    *,
    published: datetime | None,
    chips: tuple[str, ...] = (),
    companies: tuple[str, ...] = (),
    agencies: tuple[str, ...] = (),
    countries: tuple[str, ...] = (),
    stance: str = "none",
    jurisdiction: str | None = None,
    relevance: float = 0.8,
    source: str = "wire",
    summary: str = "",
    enrichment_version: str = "test-1",
    fetched: datetime | None = None,
) -> EnrichedArticle:
    url = f"https://news.example/{source}/{slug}"
    return EnrichedArticle.model_validate(
        {
            "id": article_id(url),
            "story_id": f"story-{slug}",
            "url": url,
            "canonical_url": url,
            "source": SourceRef(id=source, name=source.title() + " News", feed=f"{url}/feed"),
            "title": title,
            "text": text,
            "summary": summary,
            "language": "en",
            "published_at": published,
            "fetched_at": fetched or datetime(2026, 2, 10, 12, tzinfo=UTC),
            "tags": Tags(
                chips=refs(*chips),
                companies=refs(*companies),
                agencies=refs(*agencies),
                countries=refs(*countries),
            ),
            "stance": stance,
            "acting_jurisdiction": jurisdiction,
            "relevance": relevance,
            "enrichment_version": enrichment_version,
        }
    )


def day(d: int, month: int = 1) -> datetime:
    return datetime(2026, month, d, 9, 30, tzinfo=UTC)


CUSTOMS = make_article(
    "customs-halts-h200",
    "Customs officers halt H200 shipments at southern ports",
    "Port inspectors in Shenzhen were instructed that the H200 accelerator may not clear "
    "customs for now. Brokers said the customs notice gave no end date, and buyers were "
    "advised to hold their orders of Nvidia parts until further guidance.",
    published=day(14),
    chips=("H200",),
    companies=("nvidia",),
    agencies=("CN:GAC",),
    countries=("CN", "US"),
    stance="restrict",
    jurisdiction="CN",
    relevance=0.95,
    source="harbour",
)
APPROVAL = make_article(
    "beijing-clears-h200",
    "Beijing clears first H200 purchases for cloud groups",
    "Commerce officials approved the first batch of H200 imports for a handful of large "
    "cloud operators, including Alibaba, two weeks after the halt at the ports. The approval "
    "comes with conditions on how the accelerators may be used.",
    published=day(28),
    chips=("H200",),
    companies=("nvidia", "alibaba"),
    agencies=("CN:MOFCOM",),
    countries=("CN",),
    stance="ease",
    jurisdiction="CN",
    relevance=0.9,
    source="capital",
)
LITHO = make_article(
    "us-tightens-litho",
    "Washington tightens rules on advanced lithography servicing",
    "The Bureau of Industry and Security widened its export controls so that servicing "
    "immersion scanners in listed fabs needs a licence. ASML said it was studying the rule; "
    "customs brokers expect longer clearance times for spare parts.",
    published=day(20),
    companies=("asml",),
    agencies=("US:BIS",),
    countries=("US", "NL"),
    stance="restrict",
    jurisdiction="US",
    relevance=0.85,
    source="capital",
)
DUTCH = make_article(
    "dutch-licences-duv",
    "Dutch ministry grants licences for older DUV tools",
    "The Hague granted export licences for a set of older deep ultraviolet tools, easing a "
    "backlog that had built up since the autumn. Newer immersion systems remain restricted.",
    published=day(2, month=2),
    companies=("asml",),
    agencies=("NL:MFA",),
    countries=("NL",),
    stance="ease",
    jurisdiction="NL",
    relevance=0.8,
    source="harbour",
)
EARNINGS = make_article(
    "chipmaker-results",
    "Chipmaker revenue rises on data-centre demand",
    "Quarterly revenue rose sharply on demand for data-centre accelerators, the company said, "
    "and it raised its outlook for the year. Export controls got a passing mention.",
    published=None,
    fetched=datetime(2026, 2, 5, 8, tzinfo=UTC),
    companies=("nvidia",),
    relevance=0.1,
    source="markets",
)
MIXED = make_article(
    "h20-rules-reviewed",
    "H20 export rules eased, then sent back for review",
    "Officials in Washington relaxed licence terms for the H20 and at the same time ordered a "
    "review that could bring new restrictions. Analysts called the signal mixed.",
    published=day(24),
    chips=("H20",),
    companies=("nvidia",),
    agencies=("US:BIS",),
    countries=("US", "CN"),
    stance="mixed",
    jurisdiction="US",
    relevance=0.7,
    source="wire",
)
ALL = (CUSTOMS, APPROVAL, LITHO, DUTCH, EARNINGS, MIXED)


def test_samples_are_valid_contract_messages() -> None:
    for article in ALL:
        _, value, headers = encode(article, "test")
        assert EnrichedArticle.model_validate_json(value) == article
        assert headers["ce_type"] == "io.chipwire.article.enriched.v1"
    assert len({a.id for a in ALL}) == len(ALL)
