"""Chinese search through the real tantivy index: a Chinese article, indexed as character
bigrams by its detected language, is found by a Chinese query on the normal search path.
The articles are our own invented text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chipwire.contract import EnrichedArticle
from index import elastic_query as esq
from index.backend import SearchRequest
from index.cjk import is_chinese, zh_tokens
from index.query import parse_query
from index.tantivy_backend import TantivyBackend
from tests.test_search_samples import ALL, day, make_article

ZH_APPROVAL = make_article(
    "zh-approval",
    "示例：海关批准首批英伟达H200芯片进口",
    "据知情人士透露，有关部门已批准部分大型互联网企业进口英伟达H200芯片。"
    "这是该芯片此前被要求暂停采购后的首次放行。本文为测试而编写，不描述真实事件。",
    published=day(28),
    chips=("H200",),
    companies=("nvidia",),
    agencies=("CN:GAC",),
    countries=("CN",),
    stance="ease",
    jurisdiction="CN",
    source="zhwire",
)
ZH_OTHER = make_article(
    "zh-other",
    "示例：某手机厂商发布折叠屏新品",
    "该公司周一发布了新款折叠屏手机，电池容量更大，预计下月开始发货。本文为测试而编写。",
    published=day(20),
    source="zhwire",
)
ZH_TRADITIONAL = make_article(
    "zh-hant",
    "示例：英偉達H200晶片出口許可",
    "報導指出，相關出口許可申請仍在審查之中。本文為測試而編寫，不描述真實事件。",
    published=day(21),
    source="twwire",
)
CHINESE = (ZH_APPROVAL, ZH_OTHER, ZH_TRADITIONAL)


def zh(article: EnrichedArticle, language: str | None = "zh") -> EnrichedArticle:
    return article.model_copy(update={"language": language})


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[TantivyBackend]:
    made = TantivyBackend(tmp_path / "index")
    made.upsert([*ALL, zh(ZH_APPROVAL), zh(ZH_OTHER), zh(ZH_TRADITIONAL, "zh-TW")])
    made.commit()
    yield made
    made.close()


def ids(backend: TantivyBackend, query: str) -> set[str]:
    return {h.id for h in backend.search(SearchRequest(query=query, facets=False)).hits}


def test_a_chinese_query_finds_the_chinese_article(backend: TantivyBackend) -> None:
    assert ids(backend, "英伟达 H200 进口") == {ZH_APPROVAL.id}
    assert ids(backend, "批准 进口") == {ZH_APPROVAL.id}
    assert ids(backend, "title:海关") == {ZH_APPROVAL.id}
    assert ids(backend, '"首批英伟达"') == {ZH_APPROVAL.id}


def test_words_are_matched_as_adjacent_bigrams_not_loose_characters(
    backend: TantivyBackend,
) -> None:
    # ZH_APPROVAL says 进口 (import), not 出口 (export); the traditional article says 出口
    assert ids(backend, "英伟达 出口") == {ZH_TRADITIONAL.id}
    assert ids(backend, "芯片 出口") == set()
    assert ids(backend, "达芯") == set()  # 达 and 芯 never sit together
    assert ids(backend, "英伟达 NOT 进口") == {ZH_TRADITIONAL.id}


def test_traditional_and_simplified_find_each_other(backend: TantivyBackend) -> None:
    assert ids(backend, "英伟达 许可") == {ZH_TRADITIONAL.id}
    assert ids(backend, "英偉達 進口") == {ZH_APPROVAL.id}


def test_english_queries_and_articles_are_unchanged(backend: TantivyBackend) -> None:
    english = ids(backend, "H200")
    assert {a.id for a in ALL if "H200" in a.text or "H200" in a.title} <= english
    assert ZH_APPROVAL.id in english  # H200 inside Chinese text is a word of its own there
    assert ZH_OTHER.id not in ids(backend, "phone")


def test_the_language_chooses_the_field(tmp_path: Path) -> None:
    made = TantivyBackend(tmp_path / "index")
    try:
        # declared English: no Chinese field, so the Chinese query finds nothing
        made.upsert([zh(ZH_APPROVAL, "en")])
        made.commit()
        assert ids(made, "英伟达") == set()
        # no language at all: the share of Han characters decides
        made.upsert([zh(ZH_APPROVAL, None)])
        made.commit()
        assert ids(made, "英伟达") == {ZH_APPROVAL.id}
    finally:
        made.close()


def test_tokens() -> None:
    assert zh_tokens("英伟达H200进口") == ["英伟", "伟达", "h200", "进口"]
    assert zh_tokens("Ｈ２００，芯") == ["h200", "芯"]
    assert zh_tokens("英偉達") == ["英伟", "伟达"]
    assert is_chinese(zh(ZH_APPROVAL, None)) and not is_chinese(ALL[0])


def test_elasticsearch_gets_a_cjk_field_for_chinese_articles_only() -> None:
    mapping = esq.index_template()["template"]["mappings"]["properties"]
    for twin in ("title_zh", "summary_zh", "text_zh"):
        assert mapping[twin] == {"type": "text", "analyzer": "cjk", **mapping[twin]}
        assert mapping[twin]["analyzer"] == "cjk"  # built in: no plugin needed
    source = esq.to_source(zh(ZH_APPROVAL))
    assert source["text_zh"] == ZH_APPROVAL.text and source["title_zh"] == ZH_APPROVAL.title
    assert set(source) <= set(mapping)  # dynamic: strict accepts it
    assert esq.from_source(source) == zh(ZH_APPROVAL)
    assert "text_zh" not in esq.to_source(ALL[0])
    rendered = esq.render(parse_query("英伟达"))
    assert "text_zh" in rendered["multi_match"]["fields"]
