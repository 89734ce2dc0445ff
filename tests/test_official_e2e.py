"""End to end on loopback: an official MOFCOM notice, listed on an announcement page with a
Chinese date, is crawled (html_list, official: true, agency CN:MOFCOM), tagged, found by a
Chinese query, and confirms China's new state on H200 on its own in the alerter, where one
unofficial outlet could not. The notice is our own invented text in the real page format."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alerts.alerter import Alerter
from chipwire.contract import EnrichedArticle, RawArticle
from chipwire.settings import Settings
from enrich.tag import tag_article
from index.backend import SearchRequest
from index.tantivy_backend import TantivyBackend
from ingest import state
from ingest.crawl import Crawler
from ingest.fetch import make_client
from ingest.sources import HtmlListParams, Source
from tests.alertkit import article, memory_alerter
from tests.loopback import LoopbackServer

NOTICE_PATH = "/article/zwgk/202601/20260129001.shtml"
NOTICE_TITLE = "商务部公告2026年第5号 关于批准英伟达H200芯片进口许可申请的公告"
NOTICE = (
    "商务部公告2026年第5号。根据有关法律法规，经审查，商务部决定批准有关企业进口英伟达H200芯片的"
    "许可申请。申请企业应当按照许可载明的用途使用相关物项，不得转让。"
    "本公告为测试而编写，不描述任何真实事件。"
    "有关部门将依法加强事中事后监管，对违反规定的行为依法追究责任。"
    "本公告自发布之日起施行。"
)


def listing() -> str:
    rows = (
        (NOTICE_PATH, NOTICE_TITLE, "2026年1月29日"),
        (
            "/article/zwgk/202601/20260105001.shtml",
            "商务部公告2026年第1号 示例公告",
            "2026年1月5日",
        ),
    )
    items = "".join(
        f"<li><a href='{p}' target='_blank'>{t}</a><span>{d}</span></li>" for p, t, d in rows
    )
    return (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>政策发布</title>"
        f"</head><body><div class='nav'><a href='/'>首页</a></div><ul class='txtList'>{items}</ul>"
        "</body></html>"
    )


def notice_page(title: str, text: str) -> str:
    paragraphs = "".join(f"<p>{s}。</p>" for s in text.split("。") if s)
    return (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>{title}</title></head><body><div class='nav'><a href='/'>首页</a></div>"
        f"<div class='art-con'><h1>{title}</h1>{paragraphs}</div>"
        "<div class='footer'>测试网站</div></body></html>"
    )


@pytest.fixture
def mofcom(server: LoopbackServer) -> LoopbackServer:
    server.add("/article/zwgk/", listing(), Content_Type="text/html; charset=utf-8")
    server.add(NOTICE_PATH, notice_page(NOTICE_TITLE, NOTICE), Content_Type="text/html")
    server.add(
        "/article/zwgk/202601/20260105001.shtml",
        notice_page("商务部公告2026年第1号 示例公告", "本公告为测试而编写。" * 12),
        Content_Type="text/html",
    )
    return server


def source(server: LoopbackServer, official: bool) -> Source:
    return Source(
        id="mofcom-announcements",
        name="商务部 政策发布",
        feed=server.url("/article/zwgk/"),
        kind="html_list",
        official=official,
        agency="CN:MOFCOM",
        language="zh",
        html_list=HtmlListParams(item="ul.txtList li", date="span"),
    )


@pytest.fixture
def crawled(mofcom: LoopbackServer, settings: Settings) -> Iterator[dict[bool, EnrichedArticle]]:
    """The notice as crawled and tagged, from an official source and from the same source
    with the flag off (separate state files)."""
    out: dict[bool, EnrichedArticle] = {}
    for official in (True, False):
        mine = settings.model_copy(update={"data_dir": settings.data_dir / str(official)})
        conn = state.connect(mine.state_db)
        client = make_client(mine)
        try:
            crawler = Crawler(mine, conn, client, None)
            report = crawler.poll_feed(source(mofcom, official))
            assert report.outcomes.get("ok") == 2, report
            rows = conn.execute("SELECT value FROM outbox ORDER BY seq").fetchall()
            raws = [RawArticle.model_validate_json(bytes(v)) for (v,) in rows]
        finally:
            client.close()
            conn.close()
        (raw,) = [r for r in raws if r.url.endswith(NOTICE_PATH)]
        out[official] = tag_article(raw)
    yield out


def restricted_by_the_press(alerter: Alerter) -> None:
    """China's state on H200 is `restrict`, confirmed by two outlets in mid-January."""
    for n, publisher in ((1, "wire-a.example.com"), (2, "wire-b.example.net")):
        alerter.ingest(article(n, "restrict", 3 + n, publisher))
    alerter.evaluate([("H200", "CN")], datetime(2026, 1, 20, tzinfo=UTC))
    assert alerter.state("H200", "CN").confirmed == "restrict"


def test_the_crawled_notice_is_official_chinese_and_tagged_cn_ease(
    crawled: dict[bool, EnrichedArticle],
) -> None:
    notice = crawled[True]
    assert notice.source.official and notice.source.agency == "CN:MOFCOM"
    assert notice.language == "zh" and notice.document_type == "announcement"
    assert (
        notice.published_at is not None and notice.published_at.date().isoformat() == "2026-01-29"
    )
    assert notice.acting_jurisdiction == "CN" and notice.stance == "ease"
    assert any(s.subject == "H200" and s.direction == "ease" for s in notice.signals)


def test_an_official_notice_confirms_chinas_state_on_its_own(
    crawled: dict[bool, EnrichedArticle], settings: Settings
) -> None:
    alerter = memory_alerter(settings)
    restricted_by_the_press(alerter)
    pairs = alerter.ingest(crawled[True])
    assert ("H200", "CN") in pairs
    events = alerter.evaluate(pairs, datetime(2026, 1, 30, tzinfo=UTC))
    (event,) = [e for e in events if (e.subject, e.jurisdiction) == ("H200", "CN")]
    assert (event.previous, event.current) == ("restrict", "ease")
    assert event.article_ids == [crawled[True].id] and len(event.outlets) == 1
    assert alerter.state("H200", "CN").confirmed == "ease"


def test_the_same_notice_without_the_official_flag_needs_corroboration(
    crawled: dict[bool, EnrichedArticle], settings: Settings
) -> None:
    # on loopback the host is no government domain: only the sources file's flag counts
    alerter = memory_alerter(settings)
    restricted_by_the_press(alerter)
    pairs = alerter.ingest(crawled[False])
    assert alerter.evaluate(pairs, datetime(2026, 1, 30, tzinfo=UTC)) == []
    assert alerter.state("H200", "CN").confirmed == "restrict"


def test_the_notice_is_found_by_a_chinese_query(
    crawled: dict[bool, EnrichedArticle], tmp_path: Path
) -> None:
    backend = TantivyBackend(tmp_path / "index")
    try:
        backend.upsert([crawled[True]])
        backend.commit()
        found = backend.search(SearchRequest(query="英伟达 H200 进口", facets=False))
        assert [h.id for h in found.hits] == [crawled[True].id]
        assert backend.search(SearchRequest(query="英伟达 出口", facets=False)).total == 0
    finally:
        backend.close()
