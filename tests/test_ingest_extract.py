"""Extraction: the article body without the page chrome, dates only from the page's own
metadata, and bytes decoded by the charset the server or the page declares."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ingest.extract import decode_html, decode_page, extract_page

BODY = (
    "<p>Officials in the fictional port of Lanport held a container of accelerator cards on "
    "Tuesday while importers were asked for more paperwork about the end users.</p>"
    "<p>At the trade show in 2026 executives said the review would take weeks, and the "
    "agency did not say which models were covered by the instruction.</p>"
    "<p>Distributors said the pause added to a month of uncertainty for the regional market.</p>"
)


def page(head: str = "") -> bytes:
    return (
        f"<html lang='en'><head><title>Cards held at Lanport</title>{head}</head><body>"
        "<nav><a href='/'>Home</a><a href='/markets'>Markets</a></nav>"
        f"<article><h1>Cards held at Lanport</h1>{BODY}</article>"
        "<aside>Related: Newsletter sign-up and more stories</aside>"
        "<footer>Copyright Example Media</footer></body></html>"
    ).encode()


def test_body_without_chrome_title_and_language() -> None:
    extracted = extract_page(page(), "text/html", "https://lanport.example/cards")
    assert extracted is not None
    assert "container of accelerator cards" in extracted.text
    assert "Copyright" not in extracted.text and "Home" not in extracted.text
    assert extracted.title == "Cards held at Lanport"
    assert extracted.language == "en"


def test_no_date_is_guessed_from_the_running_text() -> None:
    extracted = extract_page(page(), "text/html", "https://lanport.example/cards")
    assert extracted is not None and extracted.published_at is None


def test_date_from_the_page_metadata() -> None:
    meta = '<meta property="article:published_time" content="2026-01-14T09:15:00+00:00">'
    extracted = extract_page(page(meta), "text/html", "https://lanport.example/cards")
    assert extracted is not None and extracted.published_at is not None
    assert extracted.published_at.date().isoformat() == "2026-01-14"


def test_a_page_without_an_article_gives_nothing() -> None:
    assert (
        extract_page(b"<html><body><nav>Home</nav></body></html>", None, "https://x.example/")
        is None
    )


def test_charset_from_header_then_meta_then_utf8() -> None:
    text = "Café Zürich — 海关"
    assert decode_html(text.encode("utf-8"), "text/html; charset=utf-8") == text
    latin = "<meta charset='iso-8859-1'>Café".encode("latin-1")
    assert decode_html(latin, None).endswith("Café")
    assert decode_html("Café".encode("latin-1"), "text/html; charset=bogus").startswith("Caf")


@given(st.binary(max_size=3000), st.sampled_from([None, "text/html", "text/html; charset=utf-16"]))
def test_any_bytes_decode_to_text(body: bytes, content_type: str | None) -> None:
    assert isinstance(decode_html(body, content_type), str)


ZH = (
    "海关总署周二表示，一批图形处理器在兰港口岸接受检查，进口商被要求补充最终用户的申报材料。"
    "业内人士说，这次暂停让区域电子市场又经历了一周的不确定，经销商自秋季以来一直在等待许可规则的明确说明。"
)
WESTERN = (
    "Les douanes ont déclaré mardi qu’un conteneur de processeurs graphiques était retenu à "
    "Lanport. « C’est une vérification de routine », a précisé un porte-parole — les "
    "importateurs doivent fournir des déclarations supplémentaires sur les utilisateurs finaux."
)


def test_an_undeclared_gbk_page_is_detected_not_garbled() -> None:
    body = f"<html><body><p>{ZH}</p></body></html>".encode("gbk")
    text, encoding, warning = decode_page(body, "text/html")
    assert ZH in text and "\ufffd" not in text
    assert encoding.lower() in ("gbk", "gb2312", "gb18030", "cp936")
    assert warning is not None and "no charset declared" in warning


def test_an_undeclared_cp1252_page_is_detected() -> None:
    body = f"<html><body><p>{WESTERN}</p></body></html>".encode("cp1252")
    text, _, warning = decode_page(body, None)
    assert WESTERN in text
    assert warning is not None


def test_a_wrongly_declared_charset_is_cross_checked() -> None:
    body = f"<html><body><p>{ZH}</p></body></html>".encode("gbk")
    text, _, warning = decode_page(body, "text/html; charset=utf-8")
    assert ZH in text
    assert warning is not None and "declared charset utf-8" in warning


def test_a_byte_order_mark_wins() -> None:
    body = "\ufeff<p>Zürich 海关</p>".encode("utf-16")
    assert decode_page(body, "text/html; charset=iso-8859-1")[0].endswith("<p>Zürich 海关</p>")
