"""The same reading in Japanese, Korean, German, Spanish, French, Italian, Portuguese,
Indonesian, Dutch, Hungarian, Hindi, Russian and Arabic, from the words in
enrich/taxonomy/languages/, on sentences written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from enrich import lexicon
from enrich.eval import RELEVANCE_THRESHOLD
from enrich.tag import tag_text

MOVES = [
    # (language, text, stance, acting jurisdiction)
    ("ja", "経済産業省は韓国向けの半導体材料の輸出規制を強化した。", "restrict", "JP"),
    ("ja", "日本政府は半導体材料の輸出規制を解除すると発表した。", "ease", "JP"),
    ("ja", "経済産業省はフッ化水素の韓国への輸出を許可した。", "ease", "JP"),
    ("ko", "일본 경제산업성은 반도체 소재 수출 규제를 해제하기로 결정했다.", "ease", "JP"),
    ("ko", "산업통상자원부는 일본산 반도체 소재에 대한 수입 금지를 발표했다.", "restrict", "KR"),
    (
        "de",
        "Die Bundesregierung hat den Verkauf des Chipwerks an einen Käufer aus China untersagt.",
        "restrict",
        "DE",
    ),
    (
        "de",
        "Das Bundeswirtschaftsministerium hat die Übernahme des Halbleiterherstellers genehmigt.",
        "ease",
        "DE",
    ),
    (
        "es",
        "La Casa Blanca anunció aranceles del 100 % a los semiconductores importados.",
        "restrict",
        "US",
    ),
    (
        "es",
        "Estados Unidos levantó las restricciones a la exportación de semiconductores.",
        "ease",
        "US",
    ),
    (
        "fr",
        "Le gouvernement néerlandais a annoncé des contrôles à l'exportation sur les "
        "machines de lithographie.",
        "restrict",
        "NL",
    ),
    (
        "fr",
        "La Maison Blanche a autorisé les exportations de semi-conducteurs vers la Chine.",
        "ease",
        "US",
    ),
    (
        "it",
        "Il governo Meloni ha vietato la vendita dell'azienda di chip a un gruppo cinese.",
        "restrict",
        "IT",
    ),
    ("it", "Gli Stati Uniti hanno revocato i dazi sui semiconduttori.", "ease", "US"),
    (
        "pt",
        "O governo britânico proibiu a venda da fabricante de semicondutores.",
        "restrict",
        "GB",
    ),
    ("pt", "A Casa Branca autorizou as exportações de semicondutores para a China.", "ease", "US"),
    ("id", "Pemerintah Jepang melarang ekspor semikonduktor ke Korea Selatan.", "restrict", "JP"),
    (
        "nl",
        "De Nederlandse regering heeft een exportverbod voor chipmachines naar China ingesteld.",
        "restrict",
        "NL",
    ),
    (
        "nl",
        "De Europese Commissie heeft de overname van de chipfabrikant goedgekeurd.",
        "ease",
        "EU",
    ),
    (
        "hu",
        "Japán exportkorlátozásokat vezet be a chipgyártó berendezések kivitelére.",
        "restrict",
        "JP",
    ),
    ("hi", "अमेरिका ने हुवावे को अमेरिकी कंपनियों से चिप खरीदने की अनुमति दे दी है।", "ease", "US"),
    (
        "ru",
        "США ввели экспортные ограничения на поставки полупроводников в Китай.",
        "restrict",
        "US",
    ),
    ("ar", "فرضت الولايات المتحدة قيودا على تصدير الرقائق إلى الصين.", "restrict", "US"),
]


@pytest.mark.parametrize(("language", "text", "stance", "actor"), MOVES)
def test_a_move_reads_the_same_in_each_language(
    language: str, text: str, stance: str, actor: str
) -> None:
    # the reading's own conclusion: the fitted decider also weighs a wording model
    # trained on English and Chinese, so its verdict on these languages waits for a refit
    assert tag_text(text).read_stance == (stance, actor), language


NO_MOVES = [
    ("ja", "経済産業省は輸出規制の緩和を検討している。"),  # considering
    ("ko", "일본 정부는 수출 규제 해제를 검토하고 있다."),  # considering
    ("de", "Die Bundesregierung hat den Verkauf des Chipwerks nicht untersagt."),
    ("es", "La Casa Blanca nunca autorizó las exportaciones de semiconductores."),
    ("fr", "La Maison Blanche n'a pas autorisé les exportations de semi-conducteurs."),
    ("ja", "経済産業省はフッ化水素の輸出を許可しなかった。"),
    ("it", "Il governo non ha vietato la vendita dell'azienda di semiconduttori."),
]


SPOKEN_OF = [
    ("ko", "산업통상자원부 관계자는 일본이 불화수소 수출을 허가했다고 밝혔다."),
    ("ja", "韓国の産業通商資源部によると、日本は韓国向けフッ化水素の輸出を許可した。"),
]


@pytest.mark.parametrize(("language", "text"), SPOKEN_OF)
def test_the_subject_marked_country_acts_not_the_ministry_that_tells(
    language: str, text: str
) -> None:
    assert tag_text(text).read_stance == ("ease", "JP"), language


@pytest.mark.parametrize(("language", "text"), NO_MOVES)
def test_a_negated_or_considered_move_is_none(language: str, text: str) -> None:
    result = tag_text(text)
    assert (result.read_stance[0], result.stance) == ("none", "none"), language


AGENCIES = [
    ("経済産業省は発表した。", "JP:METI"),
    ("산업통상자원부는 밝혔다.", "KR:MOTIE"),
    ("Das Bundeswirtschaftsministerium teilte mit.", "DE:MOEA"),
    ("La Casa Blanca lo confirmó.", "US:WH"),
    ("Le gouvernement néerlandais l'a confirmé.", "NL:GOV"),
    ("Palazzo Chigi lo ha confermato.", "IT:GOV"),
    # generic ministry names the country decides, the country before or after them
    ("Das chinesische Handelsministerium kündigte Ausnahmen an.", "CN:MOFCOM"),
    ("El Ministerio de Comercio de China anunció licencias.", "CN:MOFCOM"),
    ("El Ministerio de Comercio chino anunció licencias.", "CN:MOFCOM"),
    ("Le ministre néerlandais de l'Économie a suspendu l'ordre.", "NL:MOEA"),
    ("Il ministro dello Sviluppo economico ha bloccato la vendita.", "IT:MED"),
    ("日本の半導体輸出について、政府は規制を発表した。", "JP:GOV"),
]


@pytest.mark.parametrize(("text", "agency"), AGENCIES)
def test_government_names_become_agencies_with_their_country(text: str, agency: str) -> None:
    tags = tag_text(text).tags
    assert agency in {a.id for a in tags.agencies}


def test_a_language_file_only_adds_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "xx.yaml").write_text(
        yaml.safe_dump({"agencies": {"JP:METI": ["Testministerium"]}, "cues": {"denial": ["x"]}}),
        encoding="utf-8",
    )
    monkeypatch.setattr(lexicon, "LANGUAGES_DIR", tmp_path)
    agencies = lexicon._read("agencies.yaml")["agencies"]
    meti = next(a for a in agencies if a["id"] == "JP:METI")
    assert "Testministerium" in meti["aliases"] and "経済産業省" in meti["aliases"]
    assert "x" in lexicon._read("cues.yaml")["denial"]
    (tmp_path / "xx.yaml").write_text(yaml.safe_dump({"agencies": {"XX:NEW": ["A"]}}))
    with pytest.raises(ValueError, match="unknown 'XX:NEW'"):
        lexicon._read("agencies.yaml")


COUNTRIES = [
    # each language names countries in its own words: names, adjectives, scripts
    (
        "ja",
        "イギリス、フランス、オーストラリアとカナダは同様の規制を導入した。",
        {"GB", "FR", "AU", "CA"},
    ),
    ("ja", "ロシアやイランなどへの輸出が対象となる。", {"RU", "IR"}),
    ("ko", "영국, 프랑스, 호주와 캐나다도 비슷한 통제를 도입했다.", {"GB", "FR", "AU", "CA"}),
    ("ko", "이번 조치는 러시아, 이란 등을 겨냥한다.", {"RU", "IR"}),
    (
        "de",
        "Großbritannien und Russland reagierten, die spanische Regierung schwieg.",
        {"GB", "RU", "ES"},
    ),
    (
        "fr",
        "Le Royaume-Uni, la Russie et l'Espagne ont réagi ; le groupe français aussi.",
        {"GB", "RU", "ES", "FR"},
    ),
    (
        "es",
        "El Reino Unido, Francia y Rusia respondieron; el grupo británico también.",
        {"GB", "FR", "RU"},
    ),
    ("it", "Il Regno Unito, la Francia e Israele hanno reagito.", {"GB", "FR", "IL"}),
]


@pytest.mark.parametrize(("language", "text", "countries"), COUNTRIES)
def test_countries_are_named_in_each_language(
    language: str, text: str, countries: set[str]
) -> None:
    assert countries <= {c.id for c in tag_text(text).tags.countries}, language


def test_no_word_is_two_readings_of_one_country() -> None:
    # a language's adjective spelled like another language's name ("india", "Italien")
    # would make the name an adjective, and the country no longer an actor
    readings: dict[str, set[tuple[str, str]]] = {}
    for pattern in lexicon.load_lexicon().patterns:
        if pattern.kind == "country":
            readings.setdefault(pattern.surface.lower(), set()).add((pattern.key, pattern.extra))
    clashing = {
        surface: sorted(found)
        for surface, found in readings.items()
        if len({extra for _, extra in found}) > 1
    }
    assert not clashing


COMPANIES = [
    (
        "ja",
        "クアルコムとソニー、デンソーが新しい車載チップを共同開発する。",
        {"Qualcomm", "Sony", "Denso"},
    ),
    (
        "ja",
        "アリババとテンセントはエヌビディアの半導体を購入した。",
        {"Alibaba", "Tencent", "Nvidia"},
    ),
    ("ko", "퀄컴과 삼성이 새 모바일 칩을 공개했다.", {"Qualcomm", "Samsung"}),
]


@pytest.mark.parametrize(("language", "text", "companies"), COMPANIES)
def test_vendors_are_named_in_their_local_script(
    language: str, text: str, companies: set[str]
) -> None:
    assert {c.name for c in tag_text(text).tags.companies} == companies, language


@pytest.mark.parametrize(
    "text", ["새 애플리케이션은 인텔리전스 기능을 갖췄다.", "삼성동 사무실에서 회의가 열렸다."]
)
def test_a_vendor_name_inside_a_common_korean_word_is_no_vendor(text: str) -> None:
    assert not tag_text(text).tags.companies


FINES = [
    # a competition fine or raid is a restriction by the competition authority
    (
        "fr",
        "L'Autorité de la concurrence a infligé une amende de 20 millions d'euros "
        "au fabricant de puces.",
        "FR",
    ),
    ("de", "Das Bundeskartellamt hat gegen den Halbleiterhersteller eine Geldbuße verhängt.", "DE"),
    (
        "it",
        "L'Autorità garante della concorrenza e del mercato ha multato "
        "il produttore di semiconduttori.",
        "IT",
    ),
    ("ko", "공정거래위원회는 반도체 업체에 과징금 500억원을 부과했다.", "KR"),
    ("ja", "公正取引委員会は半導体メーカーに課徴金の納付を命じた。", "JP"),
]


@pytest.mark.parametrize(("language", "text", "actor"), FINES)
def test_a_competition_fine_restricts_in_each_language(
    language: str, text: str, actor: str
) -> None:
    result = tag_text(text)
    assert result.read_stance == ("restrict", actor), language
    assert {s.action for s in result.signals} == {"antitrust_probe"}, language


SUBSIDIES = [
    ("ja", "経済産業省は半導体工場の建設に4000億円の補助金を出すと発表した。", "JP"),
    ("ko", "산업통상자원부는 반도체 공장에 보조금 1조원을 지급한다고 발표했다.", "KR"),
]


@pytest.mark.parametrize(("language", "text", "actor"), SUBSIDIES)
def test_a_state_subsidy_eases_in_japanese_and_korean(language: str, text: str, actor: str) -> None:
    result = tag_text(text)
    assert result.read_stance == ("ease", actor), language
    assert {s.action for s in result.signals} == {"subsidy"}, language


POLICY_NEWS = [
    # policy words and subjects each language has its own words for
    ("ja", "中国政府はレアアースの日本向け輸出の許可を停止したと発表した。"),
    ("ko", "정부는 희토류 수출통제에 대응해 국가안보 차원의 대책을 발표했다."),
    (
        "fr",
        "Le gouvernement français a ouvert une enquête de sécurité nationale "
        "sur les cartes graphiques de Nvidia.",
    ),
]


@pytest.mark.parametrize(("language", "text"), POLICY_NEWS)
def test_policy_news_in_each_language_is_relevant(language: str, text: str) -> None:
    assert tag_text(text).relevance >= RELEVANCE_THRESHOLD, language


@pytest.mark.parametrize(
    ("text", "chips"),
    [
        ("갤럭시용 스냅드래곤® 8 2세대를 탑재했다.", {"Snapdragon 8 Gen 2"}),
        (
            "한국은 스냅드래곤8 1세대를, 유럽은 엑시노스 2200을 쓴다.",
            {"Snapdragon 8 Gen 1", "Exynos 2200"},
        ),
    ],
)
def test_phone_chips_written_in_hangul(text: str, chips: set[str]) -> None:
    assert {c.id for c in tag_text(text).tags.chips} == chips


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("ja", "米商務省は中国の半導体企業をエンティティーリストに追加した。"),
        ("ko", "미국 상무부는 중국 반도체 기업을 엔티티 리스트에 추가했다."),
    ],
)
def test_the_entity_list_in_japanese_and_korean(language: str, text: str) -> None:
    result = tag_text(text)
    assert result.read_stance == ("restrict", "US"), language
    assert {s.action for s in result.signals} == {"entity_list"}, language


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("ja", "中国商務部は米国の半導体輸出規制に断固反対を表明した。"),
        ("ko", "중국 상무부는 미국의 반도체 수출통제에 강력히 반대했다."),
    ],
)
def test_a_reaction_to_a_move_is_not_the_reacting_government_s_move(
    language: str, text: str
) -> None:
    assert tag_text(text).read_stance[1] != "CN", language


def test_a_reaction_named_after_another_actor_leaves_the_move_standing() -> None:
    text = "米国が半導体の輸出規制を強化し、中国は反対した。"
    assert tag_text(text).read_stance == ("restrict", "US")


def test_the_japanese_comma_ends_a_clause_only_in_japanese() -> None:
    from enrich.context import Tokens
    from enrich.text import Sentence

    def clause(text: str, word: str) -> str:
        tokens = Tokens(Sentence(0, 0, len(text), text, False, 0))
        first, last = tokens.clause_of(tokens.index_at(text.index(word)))
        return text[tokens.items[first].start : tokens.items[last - 1].end]

    # Japanese: after a topic or a company the clause ends; a list of katakana names stays one
    assert clause("サムスン、韓国政府が規制を解除", "政府") == "韓国政府が規制を解除"
    assert clause("ガリウム、ゲルマニウム、アンチモンを規制", "規制") == (
        "ガリウム、ゲルマニウム、アンチモンを規制"
    )
    # Chinese: "、" only joins the items of a list
    assert clause("镓、锗和锑被禁止出口", "禁止") == "镓、锗和锑被禁止出口"


def test_a_company_named_before_the_japanese_comma_does_not_make_the_move() -> None:
    text = "サムスン、韓国政府が半導体材料の輸出規制を解除"
    assert tag_text(text).read_stance == ("ease", "KR")


@pytest.mark.parametrize(
    ("language", "text"),
    [
        (
            "ja",
            "サムスン電子の四半期決算は半導体の売上高が増え、営業利益が過去最高となった。"
            "米国の輸出規制の影響は限定的だった。株価は上昇した。",
        ),
        (
            "ko",
            "삼성전자는 1분기 실적에서 반도체 매출과 영업이익이 늘었다고 밝혔다. "
            "미국의 수출 규제 영향은 작았다. 주가는 올랐다.",
        ),
        (
            "de",
            "Infineon meldete für das Quartal mehr Umsatz und Gewinn mit Halbleitern. "
            "Die Exportkontrollen der USA spielten kaum eine Rolle; die Prognose steigt.",
        ),
    ],
)
def test_an_earnings_story_naming_a_curb_in_passing_is_not_policy_news(
    language: str, text: str
) -> None:
    assert tag_text(text).relevance < RELEVANCE_THRESHOLD, language


@pytest.mark.parametrize(
    ("language", "text", "actor"),
    [
        (
            "fr",
            "Le gouvernement chinois a interdit les exportations de gallium vers les États-Unis.",
            "CN",
        ),
        (
            "es",
            "El gobierno japonés prohibió las exportaciones de semiconductores a Rusia.",
            "JP",
        ),
    ],
)
def test_a_demonym_after_the_government_word_names_the_actor(
    language: str, text: str, actor: str
) -> None:
    assert tag_text(text).read_stance == ("restrict", actor), language


@pytest.mark.parametrize(
    ("language", "text", "actor"),
    [
        ("es", "Bruselas multó a Intel por abuso de posición dominante en semiconductores.", "EU"),
        ("pt", "Tóquio proibiu as exportações de semicondutores para a Rússia.", "JP"),
        ("de", "Brüssel hat gegen den Chiphersteller Intel eine Geldbuße verhängt.", "EU"),
    ],
)
def test_a_capital_stands_for_its_government_in_each_language(
    language: str, text: str, actor: str
) -> None:
    assert tag_text(text).read_stance == ("restrict", actor), language


def test_a_korean_headline_s_one_hanja_country_names_the_body() -> None:
    agencies = {a.id for a in tag_text("中 상무부, 갈륨 수출 통제 발표").tags.agencies}
    assert agencies == {"CN:MOFCOM"}


@pytest.mark.parametrize(
    ("language", "text"),
    [
        (
            "fr",
            "La Commission européenne a autorisé une aide d'État de 5 milliards d'euros "
            "pour une nouvelle usine de puces en Allemagne.",
        ),
        (
            "es",
            "La Comisión Europea autorizó una ayuda de Estado de 5.000 millones de euros "
            "para una nueva fábrica de chips en Italia.",
        ),
        (
            "it",
            "La Commissione europea ha autorizzato un aiuto di Stato di 5 miliardi di euro "
            "per una nuova fabbrica di chip in Spagna.",
        ),
        (
            "pt",
            "A Comissão Europeia aprovou um auxílio estatal de 5 mil milhões de euros "
            "para uma nova fábrica de chips em Portugal.",
        ),
    ],
)
def test_state_aid_the_commission_clears_is_a_subsidy_in_each_language(
    language: str, text: str
) -> None:
    """The rules read cleared state aid as none (DECISIONS s8b): a subsidy, not an
    approval of trade."""
    assert {s.action for s in tag_text(text).signals} == {"subsidy"}, language


@pytest.mark.parametrize(
    ("language", "text"),
    [
        (
            "fr",
            "La Commission européenne confirme l'annulation de l'amende du fabricant de puces.",
        ),
        (
            "fr",
            "Le Tribunal de l'Union européenne a annulé l'amende infligée au fabricant de puces.",
        ),
        (
            "es",
            "La Comisión Europea confirmó la anulación de la multa al fabricante de chips.",
        ),
        (
            "it",
            "La Commissione europea conferma l'annullamento della multa al produttore di chip.",
        ),
        (
            "pt",
            "A Comissão Europeia confirmou a anulação da multa aplicada ao fabricante de chips.",
        ),
        ("de", "Die EU-Kommission annulliert die Geldbuße gegen den Chiphersteller."),
    ],
)
def test_a_fine_annulled_eases_in_each_language(language: str, text: str) -> None:
    assert {s.direction for s in tag_text(text).signals} == {"ease"}, language


@pytest.mark.parametrize(
    ("language", "text"),
    [
        (
            "de",
            "Die Behörde CFIUS hat die Übernahme des Chipherstellers ohne Einwände freigegeben.",
        ),
        (
            "nl",
            "De Europese Commissie heeft de chipmaker zonder voorwaarden goedgekeurd.",
        ),
        (
            "fr",
            "La Commission européenne a autorisé sans conditions le rachat du fabricant de puces.",
        ),
        ("es", "La Comisión Europea aprobó sin condiciones la compra del fabricante de chips."),
    ],
)
def test_an_approval_without_conditions_is_no_negated_approval(language: str, text: str) -> None:
    assert {s.direction for s in tag_text(text).signals} == {"ease"}, language


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("pt", "A fabricante de chips recebeu licenças do governo dos EUA para vender sensores."),
        (
            "es",
            "El fabricante de chips obtuvo licencias del gobierno de EE.UU. para vender sensores.",
        ),
        ("de", "Der Chiphersteller erhielt Exportlizenzen der US-Regierung für seine Sensoren."),
    ],
)
def test_a_firm_receiving_licences_eases_in_each_language(language: str, text: str) -> None:
    assert {s.direction for s in tag_text(text).signals} == {"ease"}, language


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("es", "Las autoridades de Taiwán han detenido e imputado a dos ingenieros por chips."),
        ("es", "Taiwán imputó a dos ingenieros por filtrar tecnología de chips a China."),
        ("pt", "A polícia de Taiwan prendeu dois engenheiros por contrabando de chips."),
        ("it", "Le autorità di Taiwan hanno arrestato due ingegneri per contrabbando di chip."),
        ("fr", "Taïwan a inculpé deux ingénieurs pour la fuite de secrets sur les puces."),
        ("de", "Taiwan hat zwei Ingenieure wegen des Verrats von Chip-Geheimnissen angeklagt."),
        ("nl", "Taiwan heeft twee ingenieurs aangeklaagd voor het lekken van geheimen over chips."),
    ],
)
def test_a_prosecution_or_arrest_restricts_in_each_language(language: str, text: str) -> None:
    assert {(s.direction, s.jurisdiction) for s in tag_text(text).signals} == {
        ("restrict", "TW")
    }, language


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("es", "Rusia restringió las exportaciones de neón para la industria de chips."),
        ("pt", "A Rússia limitou as exportações de néon para a indústria de chips."),
        ("fr", "La Russie a limité les exportations de néon pour l'industrie des puces."),
    ],
)
def test_a_past_tense_restriction_restricts(language: str, text: str) -> None:
    assert {(s.direction, s.jurisdiction) for s in tag_text(text).signals} == {
        ("restrict", "RU")
    }, language
