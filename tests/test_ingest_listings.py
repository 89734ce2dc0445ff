"""Official-source adapters on loopback servers: the Federal Register documents API (JSON
pages in the API's own shape) and an agency's announcement listing (HTML with Chinese dates),
read by the crawler into articles that carry their agency and the official flag.

Every fixture is written by the team in the source's real format; no real document's text."""

from __future__ import annotations

import json
from datetime import date
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from chipwire.settings import Settings
from ingest import state
from ingest.listings import parse_listing_date
from ingest.sources import (
    FederalRegisterParams,
    HtmlListParams,
    Source,
    SourcesError,
    load_all_sources,
    load_sources,
)
from tests.crawlkit import close_crawlers, crawler, raw_articles  # noqa: F401
from tests.loopback import LoopbackServer

# fictional rule text, long enough for extraction
RULE_BODY = (
    "The Bureau of Industry and Security amends the Export Administration Regulations to "
    "revise license requirements for certain advanced computing items destined to listed "
    "end users. This sample rule is written for chipwire's tests and describes no real "
    "action. It adds a license requirement for the fictional Model Q9 accelerator and "
    "clarifies how exporters should document end use. Comments are due thirty days after "
    "publication, and the changes take effect on the stated effective date. "
)
ZH_BODY = (
    "根据有关法律法规，为维护国家安全和利益，商务部决定对示例物项实施出口管制措施。"
    "本公告为测试而编写，不描述任何真实事件。出口经营者应当依照规定申请许可，"
    "未经许可不得出口。本公告自发布之日起施行。"
    "有关部门将依法加强监管，对违反规定的行为依法追究责任。"
    "相关企业可以通过政务服务平台咨询具体办理程序，主管部门将及时答复。"
    "本措施适用于所有出口经营者，包括在境内设立的外商投资企业。"
)


def page(title: str, body: str, lang: str = "en", charset: str = "utf-8") -> str:
    paragraphs = "".join(f"<p>{s}</p>" for s in body.replace("。", "。|").split("|") if s)
    return (
        f"<html lang='{lang}'><head><meta charset='{charset}'><title>{title}</title></head>"
        f"<body><nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{paragraphs}"
        "</article><footer>Sample site for tests.</footer></body></html>"
    )


def fr_document(
    server: LoopbackServer, number: str, day: str, kind: str = "Rule"
) -> dict[str, object]:
    return {
        "title": f"Sample Export Rule {number}",
        "type": kind,
        "abstract": "A sample abstract written for tests.",
        "document_number": number,
        "html_url": server.url(f"/documents/{day.replace('-', '/')}/{number}/sample-rule"),
        "pdf_url": server.url(f"/pdf/{number}.pdf"),
        "publication_date": day,
        "effective_on": "2026-02-14",
        "agencies": [
            {
                "raw_name": "DEPARTMENT OF COMMERCE",
                "name": "Commerce Department",
                "id": 54,
                "url": "https://www.federalregister.gov/agencies/commerce-department",
                "json_url": "https://www.federalregister.gov/api/v1/agencies/54",
                "parent_id": None,
                "slug": "commerce-department",
            },
            {
                "raw_name": "Bureau of Industry and Security",
                "name": "Industry and Security Bureau",
                "id": 241,
                "url": "https://www.federalregister.gov/agencies/industry-and-security-bureau",
                "json_url": "https://www.federalregister.gov/api/v1/agencies/241",
                "parent_id": 54,
                "slug": "industry-and-security-bureau",
            },
        ],
    }


class FederalRegister:
    """The documents API: two pages linked by next_page_url, honouring the date condition."""

    def __init__(self, server: LoopbackServer) -> None:
        self.server = server
        self.queries: list[dict[str, list[str]]] = []
        self.documents = [
            fr_document(server, "2026-01003", "2026-01-15"),
            fr_document(server, "2026-01002", "2026-01-14", "Proposed Rule"),
            fr_document(server, "2026-01001", "2026-01-13", "Notice"),
        ]
        server.add_handler("/api/v1/documents.json", self.handle)
        for doc in self.documents:
            path = urlsplit(str(doc["html_url"])).path
            server.add(path, page(str(doc["title"]), RULE_BODY), Content_Type="text/html")

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        query = parse_qs(urlsplit(request.path).query)
        self.queries.append(query)
        since = query.get("conditions[publication_date][gte]", [""])[0]
        matching = [d for d in self.documents if str(d["publication_date"]) >= since]
        per_page = 2
        number = int(query.get("page", ["1"])[0])
        chunk = matching[(number - 1) * per_page : number * per_page]
        body: dict[str, object] = {
            "count": len(matching),
            "description": "Documents from Industry and Security Bureau",
            "total_pages": max(1, -(-len(matching) // per_page)),
            "results": chunk,
        }
        if number * per_page < len(matching):
            rest = request.path.split("?", 1)[1]
            body["next_page_url"] = self.server.url(
                f"/api/v1/documents.json?page={number + 1}&{rest}"
            )
        data = json.dumps(body).encode()
        request.send_response(200)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)


def mofcom_listing(
    server: LoopbackServer, rows: list[tuple[str, str, str]], next_path: str | None
) -> str:
    """An announcement listing in the shape Chinese ministries use: a list of links with the
    date in a span, and a 下一页 (next page) link."""
    items = "".join(
        f"<li><a href='{path}' title='{title}'>{title}</a><span class='date'>{day}</span></li>"
        for path, title, day in rows
    )
    pager = (
        f"<div class='pager'><a class='next' href='{next_path}'>下一页</a></div>"
        if next_path
        else ""
    )
    return (
        "<html lang='zh-CN'><head><meta charset='utf-8'><title>公告</title></head><body>"
        f"<div class='nav'><a href='/'>首页</a></div><ul class='list'>{items}</ul>{pager}"
        "</body></html>"
    )


def fr_source(server: LoopbackServer) -> Source:
    return Source(
        id="fr-bis",
        name="Federal Register — BIS",
        feed=server.url("/api/v1/documents.json"),
        kind="federal_register",
        official=True,
        federal_register=FederalRegisterParams(per_page=2),
    )


def test_federal_register_pages_become_official_articles_with_their_agency(
    server: LoopbackServer, settings: Settings
) -> None:
    api = FederalRegister(server)
    c = crawler(settings)
    report = c.poll_feed(fr_source(server))
    assert report.status == "ok" and report.outcomes == {"seen": 0, "ok": 3}
    first = api.queries[0]
    assert first["conditions[agencies][]"] == ["industry-and-security-bureau"]
    assert first["conditions[type][]"] == ["RULE", "PRORULE", "NOTICE"]
    assert first["order"] == ["newest"] and first["per_page"] == ["2"]
    assert "conditions[publication_date][gte]" not in first
    assert len(api.queries) == 2  # the second page came from next_page_url
    articles = {a.title: a for a in raw_articles(c.conn)}
    rule = articles["Sample Export Rule 2026-01003"]
    assert rule.source.official and rule.source.agency == "US:BIS"
    assert rule.document_type == "rule" and rule.effective_on == date(2026, 2, 14)
    assert rule.language == "en" and rule.published_at is not None
    assert rule.published_at.date() == date(2026, 1, 15)
    assert articles["Sample Export Rule 2026-01002"].document_type == "proposed_rule"
    assert articles["Sample Export Rule 2026-01001"].document_type == "notice"
    assert state.feed_state(c.conn, "fr-bis").cursor == "2026-01-15"


def test_federal_register_asks_only_for_documents_since_its_cursor(
    server: LoopbackServer, settings: Settings
) -> None:
    api = FederalRegister(server)
    c = crawler(settings)
    c.poll_feed(fr_source(server))
    api.documents.insert(0, fr_document(server, "2026-01004", "2026-01-16"))
    path = urlsplit(str(api.documents[0]["html_url"])).path
    server.add(path, page("Sample Export Rule 2026-01004", RULE_BODY), Content_Type="text/html")
    api.queries.clear()
    report = c.poll_feed(fr_source(server))
    assert api.queries[0]["conditions[publication_date][gte]"] == ["2026-01-15"]
    assert report.outcomes == {"seen": 1, "ok": 1}  # the same day is asked again, not re-sent
    assert state.feed_state(c.conn, "fr-bis").cursor == "2026-01-16"


def test_federal_register_never_follows_a_next_page_to_another_host(
    server: LoopbackServer, settings: Settings
) -> None:
    elsewhere = LoopbackServer("127.0.0.2")
    try:
        hit = elsewhere.add("/api/v1/documents.json", "{}")
        body = {"count": 1, "results": [fr_document(server, "2026-01005", "2026-01-15")]}
        body["next_page_url"] = hit + "?page=2"
        server.add("/api/v1/documents.json", json.dumps(body), Content_Type="application/json")
        server.add(
            "/documents/2026/01/15/2026-01005/sample-rule",
            page("Sample Export Rule", RULE_BODY),
            Content_Type="text/html",
        )
        report = crawler(settings).poll_feed(fr_source(server))
        assert report.outcomes == {"seen": 0, "ok": 1}
        assert elsewhere.hits == {}
    finally:
        elsewhere.close()


def test_a_broken_api_answer_is_feed_state_not_a_crash(
    server: LoopbackServer, settings: Settings
) -> None:
    server.add("/api/v1/documents.json", "<html>maintenance</html>", Content_Type="text/html")
    c = crawler(settings)
    report = c.poll_feed(fr_source(server))
    assert report.status == "listing-unparseable"
    feed = state.feed_state(c.conn, "fr-bis")
    assert feed.error_count == 1 and "not JSON" in (feed.last_error or "")


def mofcom_source(server: LoopbackServer, **overrides: object) -> Source:
    fields: dict[str, object] = {
        "id": "mofcom-announcements",
        "name": "商务部 公告",
        "feed": server.url("/article/announcements/"),
        "kind": "html_list",
        "official": True,
        "agency": "CN:MOFCOM",
        "language": "zh",
        "html_list": HtmlListParams(item="ul.list li", date="span.date", next="a.next"),
        **overrides,
    }
    return Source.model_validate(fields)


def mofcom_site(server: LoopbackServer) -> None:
    server.add(
        "/article/announcements/",
        mofcom_listing(
            server,
            [
                (
                    "/article/202601/20260109001.shtml",
                    "商务部公告2026年第3号 示例物项出口管制",
                    "2026年1月9日",
                ),
                (
                    "/article/202601/20260108001.shtml",
                    "商务部公告2026年第2号 示例许可程序",
                    "2026-01-08",
                ),
            ],
            "/article/announcements/index_2.shtml",
        ),
        Content_Type="text/html; charset=utf-8",
    )
    server.add(
        "/article/announcements/index_2.shtml",
        mofcom_listing(
            server,
            [("/article/202512/20251230001.shtml", "商务部公告2025年第9号 示例公告", "2025/12/30")],
            None,
        ),
        Content_Type="text/html; charset=utf-8",
    )
    for path, title in (
        ("/article/202601/20260109001.shtml", "商务部公告2026年第3号 示例物项出口管制"),
        ("/article/202601/20260108001.shtml", "商务部公告2026年第2号 示例许可程序"),
        ("/article/202512/20251230001.shtml", "商务部公告2025年第9号 示例公告"),
    ):
        server.add(
            path, page(title, ZH_BODY, lang="zh-CN"), Content_Type="text/html; charset=utf-8"
        )


def test_a_chinese_listing_is_read_by_selectors_with_paging_and_chinese_dates(
    server: LoopbackServer, settings: Settings
) -> None:
    mofcom_site(server)
    c = crawler(settings)
    report = c.poll_feed(mofcom_source(server))
    assert report.outcomes == {"seen": 0, "ok": 3}
    articles = {a.url.rsplit("/", 1)[1]: a for a in raw_articles(c.conn)}
    notice = articles["20260109001.shtml"]
    assert notice.source.official and notice.source.agency == "CN:MOFCOM"
    assert notice.language == "zh" and notice.document_type == "announcement"
    assert notice.published_at is not None and notice.published_at.date() == date(2026, 1, 9)
    assert "出口管制" in notice.title and "商务部决定" in notice.text
    assert articles["20251230001.shtml"].published_at.date() == date(2025, 12, 30)  # type: ignore[union-attr]
    assert state.feed_state(c.conn, "mofcom-announcements").cursor == "2026-01-09"


def test_a_listing_stops_paging_at_a_page_older_than_its_cursor(
    server: LoopbackServer, settings: Settings
) -> None:
    mofcom_site(server)
    c = crawler(settings)
    c.poll_feed(mofcom_source(server))
    server.hits.clear()
    report = c.poll_feed(mofcom_source(server))
    # page one still holds the cursor's day: it is read again; page two is all older
    assert report.outcomes == {"seen": 1}
    assert "/article/announcements/index_2.shtml" not in server.hits


def test_a_gbk_listing_is_decoded(server: LoopbackServer, settings: Settings) -> None:
    html = mofcom_listing(server, [("/gbk/1.shtml", "海关总署公告 示例", "2026年01月12日")], None)
    server.add(
        "/gbk/",
        html.replace("charset='utf-8'", "charset='gbk'").encode("gbk"),
        Content_Type="text/html; charset=GBK",
    )
    server.add(
        "/gbk/1.shtml", page("海关总署公告 示例", ZH_BODY, lang="zh"), Content_Type="text/html"
    )
    source = mofcom_source(server, id="gac", feed=server.url("/gbk/"), agency="CN:GAC")
    c = crawler(settings)
    assert c.poll_feed(source).outcomes == {"seen": 0, "ok": 1}
    (article,) = raw_articles(c.conn)
    assert article.source.agency == "CN:GAC"
    assert article.published_at is not None and article.published_at.date() == date(2026, 1, 12)


def test_a_plain_feed_carries_its_sources_agency_and_official_flag(
    server: LoopbackServer, settings: Settings
) -> None:
    server.add("/p.html", page("Sample ministry notice", RULE_BODY), Content_Type="text/html")
    server.add(
        "/rss.xml",
        "<?xml version='1.0'?><rss version='2.0'><channel><title>t</title><item><title>n</title>"
        f"<link>{server.url('/p.html')}</link></item></channel></rss>",
    )
    source = Source(
        id="meti", name="METI", feed=server.url("/rss.xml"), official=True, agency="JP:METI"
    )
    c = crawler(settings)
    c.poll_feed(source)
    (article,) = raw_articles(c.conn)
    assert article.source.official and article.source.agency == "JP:METI"
    assert article.document_type is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025年11月9日", date(2025, 11, 9)),
        ("发布时间：2025 年 11 月 09 日 10:30", date(2025, 11, 9)),
        ("[2025-11-09]", date(2025, 11, 9)),
        ("2025/11/9", date(2025, 11, 9)),
        ("2025.11.09", date(2025, 11, 9)),
        ("9 November 2025", date(2025, 11, 9)),
        ("Nov. 9, 2025", date(2025, 11, 9)),
        ("November 9, 2025", date(2025, 11, 9)),
        ("2025年13月40日", None),
        ("第3号", None),
        ("", None),
    ],
)
def test_listing_dates(text: str, expected: date | None) -> None:
    assert parse_listing_date(text) == expected


def test_the_sources_file_checks_kinds_and_selectors(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  - {id: a, name: A, feed: 'https://x.example/', kind: html_list}\n")
    with pytest.raises(SourcesError, match="html_list"):
        load_sources(path)
    path.write_text(
        "sources:\n  - {id: a, name: A, feed: 'https://x.example/', kind: html_list,"
        " html_list: {item: 'ul >> li'}}\n"
    )
    with pytest.raises(SourcesError, match="CSS selector"):
        load_sources(path)
    path.write_text("sources:\n  - {id: a, name: A, feed: 'https://x.example/', agency: mofcom}\n")
    with pytest.raises(SourcesError, match="agency"):
        load_sources(path)
    path.write_text(
        "sources:\n  - {id: a, name: A, feed: 'https://x.example/', enabled: false,"
        " kind: federal_register}\n"
    )
    assert load_sources(path) == [] and load_all_sources(path)[0].kind == "federal_register"


def test_a_short_chinese_notice_is_a_document_not_a_teaser() -> None:
    from ingest.extract import MIN_TEXT_CHARS, extract_page

    short_zh = "本公告为测试而编写，不描述任何真实事件。" * 4  # 80 characters
    short_en = "This sample notice was written for tests. " * 2  # 84 characters
    assert len(short_zh) < MIN_TEXT_CHARS
    zh_page = page("示例公告", short_zh, lang="zh").encode()
    en_page = page("Sample notice", short_en).encode()
    assert extract_page(zh_page, "text/html; charset=utf-8", "http://x.test/zh") is not None
    assert extract_page(en_page, "text/html; charset=utf-8", "http://x.test/en") is None
