"""The chip-model grammar, the agency-name grammar and the entity exclusions.

Model names here are deliberately ones chips.yaml does not list: the grammar, not the
list, must find and normalise them.
"""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enrich.grammar import chip_grammar
from enrich.lexicon import load_lexicon
from enrich.match import matcher
from enrich.tag import tag_text


def chips(text: str) -> list[str]:
    return [m.key for m in matcher().find(text) if m.kind == "chip"]


def kinds(text: str, kind: str) -> list[str]:
    return [m.key for m in matcher().find(text) if m.kind == kind]


@pytest.mark.parametrize(
    ("text", "model"),
    [
        ("Nvidia is preparing the H30 for Chinese buyers.", "H30"),
        ("The B350 is Nvidia's next data-centre GPU.", "B350"),
        ("Nvidia's GB400 servers ship next year.", "GB400"),
        ("A cut-down L30S chip for China is planned.", "L30S"),
        ("AMD will launch the MI450X accelerator in 2026.", "MI450X"),
        ("The GeForce RTX 6090D is a China-only gaming card.", "RTX 6090D"),
        ("An RTX PRO 7000D variant was reported.", "RTX Pro 7000D"),
        ("Gamers bought the RTX 5070 Ti.", "RTX 5070 Ti"),
        ("Huawei's Ascend 960 is due in 2027.", "Ascend 960"),
        ("华为将推出昇腾970芯片。", "Ascend 970"),
        ("Huawei's 910D chips are in testing.", "Ascend 910D"),
        ("The Mate 80 runs the Kirin 9030.", "Kirin 9030"),
        ("Phones with the Snapdragon 8 Elite Gen 5 launched.", "Snapdragon 8 Elite Gen 5"),
        ("Snapdragon 8 Gen 4 phones sold well.", "Snapdragon 8 Gen 4"),
        ("MediaTek's Dimensity 9500 is made by TSMC.", "Dimensity 9500"),
        ("Apple's M5 chip is made in Taiwan.", "M5"),
        ("Intel's Gaudi 4 was cancelled.", "Gaudi 4"),
        ("Baidu showed the Kunlun P900 cluster.", "Kunlun P900"),
        ("Cambricon's Siyuan 690 ships to Chinese clouds.", "MLU690"),
        ("SK Hynix samples HBM4E.", "HBM4E"),
        ("Samsung's HBM3e passed Nvidia's tests.", "HBM3E"),
        ("Amazon's Trainium3 chips power the cluster.", "Trainium3"),
        ("AMD agreed to pay the fee to export MI 308 chips.", "MI308"),
        ("The phone runs the Kirin 9010s processor.", "Kirin 9010S"),
        ("Laptops with the Intel Core Ultra 7 265K sold out.", "Core Ultra 7 265K"),
        ("Xiaomi's XRING O2 chip is its second.", "Xring O2"),
        ("The Radeon RX 9070 XT is sold in China.", "RX 9070 XT"),
        ("Clouds rent the NVIDIA L6 Tensor Core GPU by the hour.", "L6"),
        ("Nvidia's T8 GPU targets inference.", "T8"),
        ('Each node has AMD EPYC "Venice" processors.', "EPYC Venice"),
        ("小米2017年推出澎湃S2芯片。", "Surge S2"),
        # a tier or a suffix glued to the number, a name glued to the Chinese after it
        ("华为Mate 90搭载麒麟9050Pro芯片。", "Kirin 9050 Pro"),
        ("苹果A21Pro芯片将由台积电代工。", "A21 Pro"),
        ("英伟达RTX6090D显卡在中国开售。", "RTX 6090D"),
        ("Huawei's Kirin X100 laptop chip is made by SMIC.", "Kirin X100"),
        ("高通骁龙8s至尊版芯片发布。", "Snapdragon 8s Elite"),
        # phone and PC processors and accelerators of vendors beyond the first list
        ("Samsung's Exynos 2700 will power the next Galaxy.", "Exynos 2700"),
        ("The Pixel 12 runs Google's Tensor G7.", "Tensor G7"),
        ("Unisoc's T9100 chip targets budget phones.", "T9100"),
        ("紫光展锐T9300芯片出货。", "T9300"),
        ("龙芯3A7000处理器通过测试。", "3A7000"),
        ("Loongson 3C7000 server CPUs ship to state firms.", "3C7000"),
        ("华为鲲鹏950处理器亮相。", "Kunpeng 950"),
        ("Intel's Arc C770 GPU launched.", "Arc C770"),
        ("阿里平头哥倚天920芯片上线。", "Yitian 920"),
        ("Alibaba's Zhenwu 920 accelerator is in testing.", "Zhenwu 920"),
        ("Microsoft's Maia 300 chip is delayed.", "Maia 300"),
        ("Meta deployed MTIA v4 in its data centres.", "MTIA v4"),
        ("Cerebras unveiled the WSE-4 wafer-scale chip.", "WSE-4"),
        ("SambaNova's SN50L chip doubles memory.", "SN50L"),
        ("MatX Two will follow the first chip.", "MatX Two"),
        ("沐曦曦云C700芯片量产。", "C700"),
        ("英伟达6090D显卡将在中国销售。", "RTX 6090D"),
        ("Nvidia's 5070 Super sold out.", "RTX 5070 Super"),
        ("英伟达推出L3芯片。", "L3"),
        ("华为服务器采用鲲鹏930处理器。", "Kunpeng 930"),
        ("龙芯中科发布龙芯3B6600处理器。", "3B6600"),
        ("英伟达推出RTX 5090D显卡。", "RTX 5090D"),  # a CJK character right after
        ("英伟达RTX 4070 Ti显卡在中国销售。", "RTX 4070 Ti"),
        # full-width letters and digits, as Chinese pages sometimes write codes
        ("英伟达Ｈ３０芯片将在中国销售。", "H30"),
        ("Nvidia is said to plan an H30 Lite chip for China.", "H30 Lite"),
        ("Nvidia's VR300 racks ship in 2027.", "VR300"),
        ("Qualcomm says laptops with the X Plus chips sold out.", "Snapdragon X Plus"),
        # PC processors by tier and number; Intel's number after a space as well as a hyphen
        ("The AMD Ryzen 7 9700X beat its rival.", "Ryzen 7 9700X"),
        ("Un Ryzen 5 8600G basta para jugar.", "Ryzen 5 8600G"),
        ("Es más rápido que el Core i7 12700K.", "Core i7 12700K"),
        ("Benchmarks of the Core i5-13600K leaked.", "Core i5 13600K"),
        # Korean brand names and generations written after the number ("N세대")
        ("신형 폰에는 스냅드래곤 8 4세대가 들어간다.", "Snapdragon 8 Gen 4"),
        ("갤럭시에 '스냅드래곤® 7 3세대'를 탑재했다.", "Snapdragon 7 Gen 3"),
        ("삼성은 엑시노스2600을 유럽에 넣는다.", "Exynos 2600"),
        # a tier glued to the number, as Chinese pages write it
        ("新机首发骁龙8Elite Gen6芯片。", "Snapdragon 8 Elite Gen 6"),
    ],
)
def test_models_released_after_the_list_are_found_and_normalised(text: str, model: str) -> None:
    assert chips(text) == [model]


@pytest.mark.parametrize(
    ("model", "vendor", "family"),
    [
        ("B350", "Nvidia", "Blackwell"),
        ("H30", "Nvidia", "Hopper"),
        ("R200", "Nvidia", "Rubin"),
        ("RTX 6090D", "Nvidia", "Blackwell"),
        ("MI450X", "AMD", "Instinct"),
        ("Ascend 960", "Huawei", "Ascend"),
        ("Kirin 9030", "Huawei", "Kirin"),
        ("Kunpeng 930", "Huawei", "Kunpeng"),
        ("Snapdragon 8 Elite", "Qualcomm", "Snapdragon"),
        ("Dimensity 9400", "MediaTek", "Dimensity"),
        ("HBM4E", "HBM", "HBM"),
    ],
)
def test_a_model_id_knows_its_vendor_and_family(model: str, vendor: str, family: str) -> None:
    chip = chip_grammar().normalise(model)
    assert chip is not None
    assert (chip.vendor, chip.family, chip.model) == (vendor, family, model)
    lexicon = load_lexicon()
    assert lexicon.chip_family.get(model) == family
    assert lexicon.chip_names.get(model) == chip.name
    assert chip.name == (f"{model} memory" if vendor == "HBM" else f"{vendor} {model}")


@pytest.mark.parametrize(
    ("surface", "model"),
    [
        ("GeForce RTX 5090 D", "RTX 5090D"),
        ("RTX PRO 6000D", "RTX Pro 6000D"),
        ("RTX 4070Ti", "RTX 4070 Ti"),
        ("昇騰910C", "Ascend 910C"),
        ("HBM 3e", "HBM3E"),
        ("H-20", "H20"),
        ("Instinct MI355X", "MI355X"),
        ("思元590", "MLU590"),
        ("Kunlunxin P800", "Kunlun P800"),
    ],
)
def test_spellings_normalise_to_one_id(surface: str, model: str) -> None:
    chip = chip_grammar().normalise(surface)
    assert chip is not None and chip.model == model


def test_a_listed_alias_keeps_its_listed_id() -> None:
    assert chips("AMD's MI308X and Huawei's Ascend 950PR chips.") == ["MI308", "Ascend 950"]


@pytest.mark.parametrize(
    ("text", "models"),
    [
        ("Nvidia showed the Blackwell Ultra chip.", ["Blackwell Ultra"]),
        ("Rubin Ultra follows in 2027.", ["Rubin Ultra"]),
        ("Nvidia's Grace CPU ships beside the Grace Hopper Superchip.", ["Grace", "Grace Hopper"]),
        ("Memory bandwidth is 2.4x that of Grace Blackwell.", ["Grace Blackwell"]),
        ("Clouds deploy Nvidia's Hopper- and Ampere-architecture GPUs.", ["Hopper", "Ampere"]),
    ],
)
def test_a_longer_product_name_wins_over_the_listed_family_inside_it(
    text: str, models: list[str]
) -> None:
    assert [c.id for c in tag_text(text).tags.chips] == models


@pytest.mark.parametrize(
    "text",
    ["Grace Kelly flew to Paris.", "Richard Feynman taught physics at Caltech."],
)
def test_a_given_name_is_not_a_chip_without_nvidia_near(text: str) -> None:
    assert tag_text(text).tags.chips == []


def test_a_generation_name_counts_beside_another_generation_or_a_chip_word() -> None:
    text = "The ban covers the latest Blackwell chips and the planned Rubin chips."
    assert [c.id for c in tag_text(text).tags.chips] == ["Blackwell", "Rubin"]
    chinese = "最新的Blackwell芯片及规划中的Rubin芯片仍被禁止出口。"
    assert [c.id for c in tag_text(chinese).tags.chips] == ["Blackwell", "Rubin"]
    roadmap = "The roadmap teases Rubin Ultra (2027) and Feynman (2028) chips."
    assert {c.id for c in tag_text(roadmap).tags.chips} == {"Rubin Ultra", "Feynman"}
    assert tag_text("Vera Rubin studied galaxies; Rubin said so.").tags.chips == []


def test_an_ultra_generation_does_not_hide_the_generation_named_alone() -> None:
    text = "Nvidia unveils the Rubin chip, with Rubin Ultra to follow."
    assert {c.id for c in tag_text(text).tags.chips} == {"Rubin", "Rubin Ultra"}


def test_a_series_name_is_tagged_only_when_none_of_its_models_is() -> None:
    alone = tag_text("AMD ships the MI450 series to clouds.")
    with_models = tag_text("AMD's MI450 series includes the MI450X and the MI455X accelerators.")
    assert [c.id for c in alone.tags.chips] == ["MI450"]
    assert [c.id for c in with_models.tags.chips] == ["MI450X", "MI455X"]
    # a model of the same name written alone is a model, series or not
    both = tag_text("Huawei's Kirin 9100 series: the Kirin 9100 and the Kirin 9100E chips.")
    assert [c.id for c in both.tags.chips] == ["Kirin 9100", "Kirin 9100E"]


def test_a_chinese_family_word_followed_by_latin_letters_is_a_whole_word() -> None:
    text = "美國商務部表示,使用華為昇騰AI芯片違反出口管制。"
    assert [c.id for c in tag_text(text).tags.chips] == ["Ascend"]


def test_a_vendor_written_in_lower_case_still_names_its_models() -> None:
    assert chips("A filing shows nvidia plans the B350 for China.") == ["B350"]
    assert chips("A filing shows someone plans the B350 for China.") == []


def test_a_family_word_is_a_tag_but_never_the_subject_of_a_move() -> None:
    result = tag_text("The U.S. warned that using Huawei Ascend chips anywhere violates its rules.")
    assert [c.id for c in result.tags.chips] == ["Ascend"]
    assert "Ascend" not in {s.subject for s in result.signals}


def test_a_family_word_is_tagged_only_without_a_model_of_it() -> None:
    alone = tag_text("Huawei said its Kirin chips are made by SMIC.")
    with_model = tag_text("Huawei said its Kirin chips, such as the Kirin 9030, are made by SMIC.")
    assert [c.id for c in alone.tags.chips] == ["Kirin"]
    assert [c.id for c in with_model.tags.chips] == ["Kirin 9030"]


@pytest.mark.parametrize(
    "text",
    [
        "The Airbus A380 flight to Dubai was delayed by a chip shortage.",
        "Emirates retired its A380 aircraft; chips were not the reason.",
        "Take the B200 bus to the chip plant.",
        "Traffic on the M2 motorway near the Apple store was slow.",
        "Drink H20 water, the chip vendor advised.",
        "Sales rose 20% in H1 2025 and 910 workers were hired.",
        "The A14 road links Cambridge to Felixstowe.",
        "Flight CA910 landed in Beijing.",
        "He paid $300 for shares on 12 May 2025.",
        "Route R100 is closed.",
        "The B-52 bombers flew over the chip fab.",
        "Part XH200 and H2000 boards and the A1000 kit.",
        "Apple pies cost 5 dollars at the M4 exit.",
        "Nvidia staff took the L4 bus route; the T4 form was filed.",
        "Nvidia's T4 tax return and L4 level filing were due.",
        "澎湃S2 the weather service said.",
        "Route T820 and form P900 were filed with the chip ministry.",
        "The 3D printing firm shipped 3A4000 parts to chip plants.",
        "The C919 jet uses no MetaX chips.",
        "The Tensor Core count of the GPU doubled.",
        "Maia 300 people live near the chip plant.",
        "Nvidia aims for net zero by 2050 and 4090 suppliers.",
        "英伟达计划在2030年前实现碳中和。",
        # a 3GPP release, a process node, a three-digit RTX typo, a supernode's size
        "Huawei's modem chip supports 3GPP R19 features.",
        "TSMC's A14 process will make chips for Apple and Nvidia from 2028.",
        "Apple's next chips use TSMC's A16 technology.",
        "Nvidia's RTX Pro 700D typo appeared in a chip report.",
        "Huawei's Ascend 512 supernode links many chips.",
        # a bare Apple code needs a text about Apple
        "The M3 chip of the tractor maker is a controller.",
        # a Korean generation count that follows no Snapdragon, a Core count
        "삼성 2세대 공장은 7 3세대 라인을 쓴다.",
        "The Ryzen line has 16 cores at 5.7 GHz; Core 2 Duo was older.",
    ],
)
def test_numbers_that_are_not_chips(text: str) -> None:
    assert chips(text) == []


@pytest.mark.parametrize(
    ("text", "agency"),
    [
        ("Japan's Ministry of Finance said it would watch the yen.", "JP:MOF"),
        ("Japan’s Finance Ministry declined to comment.", "JP:MOF"),
        (
            "The Malaysian Ministry of Investment, Trade and Industry issued a permit rule.",
            "MY:MITI",
        ),
        # the listed regulator (labels: KR:FTC, whichever way its English name is written)
        ("The Korea Fair Trade Commission fined Qualcomm.", "KR:FTC"),
        ("Vietnam's Ministry of Industry and Trade approved the plant.", "VN:MIT"),
        ("Germany's Federal Cartel Office cleared the deal.", "DE:FCO"),
        ("India's Ministry of Commerce and Industry announced incentives.", "IN:MCI"),
        ("The China Securities Regulatory Commission approved the listing.", "CN:CSRC"),
        ("Ministry of Justice of Japan officials met on Monday.", "JP:MJ"),
        ("The South Korean Supreme Court ruled on wartime labour.", "KR:SC"),
        ("China's Ministry of Commerce announced export licences.", "CN:MOFCOM"),
        ("The Federal Trade Commission sued the chipmaker.", "US:FTC"),
        ("Taiwan's Executive Yuan approved the bill.", "TW:EXEC"),
    ],
)
def test_agency_names_by_their_shape_and_country(text: str, agency: str) -> None:
    assert [a.id for a in tag_text(text).tags.agencies] == [agency]


@pytest.mark.parametrize(
    "text",
    [
        "The Ministry of Magic said nothing.",
        "Xinhua News Agency of China reported the decision.",
        "The Commission on Human Rights met in Geneva.",
        "Bank of America raised its target for Nvidia.",
    ],
)
def test_names_of_no_government_body(text: str) -> None:
    assert tag_text(text).tags.agencies == []


def test_a_built_agency_id_names_its_jurisdiction() -> None:
    lexicon = load_lexicon()
    assert lexicon.agency_jurisdiction["VN:MIT"] == "VN"
    assert lexicon.agency_jurisdiction["JP:METI"] == "JP"
    with pytest.raises(KeyError):
        lexicon.agency_jurisdiction["nonsense"]


@pytest.mark.parametrize(
    "text",
    [
        "The South China Morning Post reported that shipments resumed.",
        "Bank of America analysts cut their estimates.",
        "Intel's plant in New Mexico will make the chips.",
        "Taiwan Semiconductor Manufacturing raised prices.",
        "Revenue reached US$11 billion.",
        "European automakers worry about supplies.",
        "英國金融時報報導，晶片出口受限。",
    ],
)
def test_country_words_inside_other_names_are_no_country(text: str) -> None:
    assert tag_text(text).tags.countries == []


@pytest.mark.parametrize(
    ("text", "countries"),
    [
        # a capital as the city where something happens is no country
        ("Negotiators met for talks in Lisbon on chip tariffs.", []),
        ("At a Canberra press conference the chipmaker spoke.", []),
        ("Nairobi: the chip plant opened on Monday.", []),
        ("The rule takes effect at noon Beijing time.", []),
        ("双方代表在北京举行芯片会谈。", []),
        # a capital standing for its government still counts, and so does a country name
        ("Tokyo said it would curb exports of chip tools.", ["JP"]),
        ("Talks were held in Japan, and Seoul agreed.", ["JP", "KR"]),
    ],
)
def test_a_capital_counts_only_for_its_government(text: str, countries: list[str]) -> None:
    assert [c.id for c in tag_text(text).tags.countries] == countries


def test_a_country_word_inside_a_company_or_an_outlet_name_is_no_country() -> None:
    result = tag_text("台湾积体电路制造公司在熊本建厂。 - 俄罗斯卫星通讯社, 1920")
    assert [c.id for c in result.tags.countries] == []
    assert [c.id for c in result.tags.companies] == ["TSMC"]


def test_the_eu_is_named_by_its_bodies() -> None:
    result = tag_text("The European Commission approved the aid.")
    assert [c.id for c in result.tags.countries] == ["EU"]


def test_companies_outlets_and_banks() -> None:
    text = (
        "OpenAI, Foxconn and Hikvision were named, Reuters reported; "
        "Morgan Stanley and Bloomberg commented. 英偉達與華為回應。"
    )
    assert kinds(text, "company") == ["OpenAI", "Foxconn", "Hikvision", "Nvidia", "Huawei"]


def test_subsidiaries_and_long_names_are_their_own_companies() -> None:
    text = (
        "LG Display Co. and BOE Technology Group bid; Fujian Jinhua Integrated Circuit "
        "and the Run:ai team were named, as were JASM and FTDI."
    )
    assert kinds(text, "company") == [
        "LG Display",
        "BOE",
        "Fujian Jinhua",
        "Run:ai",
        "JASM",
        "FTDI",
    ]


def test_the_arm_server_chip_designer_is_named_by_its_long_name_only() -> None:
    text = "Ampere Computing sells Arm server chips; Nvidia's Ampere GPUs are older."
    assert set(kinds(text, "company")) == {"Ampere", "Arm", "Nvidia"}
    assert kinds("Nvidia's Ampere GPUs are older than Hopper.", "company") == ["Nvidia"]


def test_a_short_chinese_company_name_inside_a_longer_word_is_no_company() -> None:
    assert kinds("训练所用计算能力大于十的二十五次方的模型须通报。", "company") == []


def test_a_company_whose_short_name_is_also_a_unit_or_a_term_needs_its_longer_name() -> None:
    assert kinds("The new SUV's engine makes 300 hp and 280 lb-ft.", "company") == []
    assert kinds("Doctors said the condition, called HP, was caused by feathers.", "company") == []
    assert kinds("HP Inc and Dell said they would raise PC prices.", "company") == ["HP", "Dell"]


def test_traditional_chinese_finds_simplified_aliases() -> None:
    text = "大陸海關總署表示，輝達H200晶片不被允許進入；美國商務部回應。"
    found = {(m.kind, m.key) for m in matcher().find(text)}
    assert {
        ("agency", "CN:GAC"),
        ("company", "Nvidia"),
        ("chip", "H200"),
        ("agency", "US:DOC"),
    } <= found
    assert ("country", "CN") in found


_CHIP_TEXT = st.text(
    alphabet=string.ascii_letters + string.digits + " .,'’-+\n" + "昇腾麒麟芯片英伟达华为",
    max_size=200,
)


@given(_CHIP_TEXT)
def test_the_grammar_never_raises_and_spans_point_into_the_text(text: str) -> None:
    for found in chip_grammar().find(text):
        assert 0 <= found.start < found.end <= len(text)


_SURFACES = st.one_of(
    st.builds(
        lambda p, n, s: f"{p}{n}{s}",
        st.sampled_from(["H", "B", "GB", "A", "L", "R", "MI", "HBM", "MLU"]),
        st.integers(1, 999),
        st.sampled_from(["", "A", "E", "X", "S", "e"]),
    ),
    st.builds(
        lambda b, n, s: f"{b}{n}{s}",
        st.sampled_from(
            ["RTX ", "RTX Pro ", "GeForce RTX ", "Ascend ", "昇腾", "Kirin ", "Dimensity "]
        ),
        st.integers(100, 9999),
        st.sampled_from(["", "D", " D", " Ti", " Super", "C", "+"]),
    ),
    st.builds(
        lambda n, e, g: f"Snapdragon {n}{e}{g}",
        st.sampled_from(["8", "8s", "7", "X", "888"]),
        st.sampled_from(["", " Elite"]),
        st.sampled_from(["", " Gen 3", " Gen 5"]),
    ),
)


@given(_SURFACES)
def test_normalisation_is_idempotent(surface: str) -> None:
    chip = chip_grammar().normalise(surface)
    if chip is not None:
        again = chip_grammar().normalise(chip.model)
        assert again is not None and again == chip


@given(_SURFACES)
def test_a_found_model_is_its_own_normal_form(surface: str) -> None:
    """The id reads back to itself (an id two vendors share, such as Apple's and
    Nvidia's "A10", may read back to the other vendor: the id is what is labelled)."""
    for found in chip_grammar().find(f"Nvidia, AMD and Huawei chips: {surface} ships."):
        again = chip_grammar().normalise(found.chip.model)
        assert again is not None and again.model == found.chip.model


@pytest.mark.parametrize(
    ("text", "model"),
    [
        ("Microsoft may ship Nvidia's GB400 Grace Blackwell processors to the Gulf.", "GB400"),
        ("Nvidia's GH300 Grace Hopper Superchip was approved.", "GH300"),
    ],
)
def test_a_product_name_right_after_a_model_describes_it(text: str, model: str) -> None:
    assert [c.id for c in tag_text(text).tags.chips] == [model]


@pytest.mark.parametrize(
    ("text", "models"),
    [
        (
            "Huawei says the Ascend 930B, C and D chips are next.",
            ["Ascend 930B", "Ascend 930C", "Ascend 930D"],
        ),
        ("华为昇腾930B、C和D芯片即将推出。", ["Ascend 930B", "Ascend 930C", "Ascend 930D"]),
        ("Huawei's 930B/C chips ship this year.", ["Ascend 930B", "Ascend 930C"]),
    ],
)
def test_siblings_named_by_their_suffix_letter_alone_are_models(
    text: str, models: list[str]
) -> None:
    assert chips(text) == models


def test_an_article_after_and_is_no_sibling_model() -> None:
    assert chips("Huawei shipped the Ascend 930C and A new chip plant opened.") == ["Ascend 930C"]


def test_a_bare_apple_code_counts_in_a_text_about_apple() -> None:
    text = "Apple launched a new iPad on Tuesday. It beats the M3 chip of last year."
    assert chips(text) == ["M3"]


def test_a_family_word_alone_names_tpus() -> None:
    text = "Google's tensor processing units (TPUs) now rival Nvidia's chips."
    assert [c.id for c in tag_text(text).tags.chips] == ["TPU"]


def test_models_in_a_list_are_each_a_chip() -> None:
    text = "Nvidia's H30/H300 and B50 chips"
    assert [c.id for c in tag_text(text).tags.chips] == ["H30", "H300", "B50"]
    # a single-digit card as the last of a list of models
    assert chips("英伟达将推出H30、L30和L3三款芯片。") == ["H30", "L30", "L3"]
    assert chips("Nvidia's H30, L30 and L3 ship in May.") == ["H30", "L30", "L3"]
    assert chips("Nvidia's H300 has L1 and L3 caches.") == ["H300"]


@pytest.mark.parametrize(
    ("text", "agency"),
    [
        ("The Ministry of Commerce of China announced new licences.", "CN:MOFCOM"),
        ("The Dutch economy minister suspended the order on the chipmaker.", "NL:MOEA"),
        ("Taiwan's Commerce Ministry added two chipmakers to its list.", "TW:MOEA"),
        ("Taiwan's trade administration added two chipmakers to its list.", "TW:ITA"),
        ("Germany's economic ministry blocked the sale of the fab.", "DE:MOEA"),
        ("荷兰政府暂停了对芯片公司的命令。经济大臣表示谈判顺利。", "NL:MOEA"),
        # competition authorities by function, the country before them deciding
        ("Italy's competition authority asked Brussels to review the chip deal.", "IT:CA"),
        ("The French antitrust watchdog searched a GPU maker's offices.", "FR:CA"),
        ("Japan's antitrust regulator opened a probe into the chip designer.", "JP:FTC"),
        ("Taiwan's cabinet approved export permits for chip tools.", "TW:EXEC"),
        # a bare 财政部 in a story of Washington's is the Treasury
        ("白宫表示，美国将限制对华芯片投资，财政部将发布规则。", "US:TREASURY"),
    ],
)
def test_generic_agency_names_resolved_by_their_country(text: str, agency: str) -> None:
    assert agency in [a.id for a in tag_text(text).tags.agencies]


@pytest.mark.parametrize(
    ("text", "agencies"),
    [
        (
            "The licence passed review by the departments of Commerce, Defense and State.",
            ["US:DOC", "US:DOD", "US:STATE"],
        ),
        ("The Departments of Energy and the Treasury objected.", ["US:DOE", "US:TREASURY"]),
        # words no listed body has are no body
        ("The departments of Physics and Chemistry built a chip lab.", []),
        # the head is read case-blind, and Unicode case-blindness is wider than lower():
        # a long s is an s (this text once stopped the tagger with a KeyError)
        ("The Departmentſ of Energy and the Treasury objected.", ["US:DOE", "US:TREASURY"]),
    ],
)
def test_a_plural_head_names_one_body_per_listed_word(text: str, agencies: list[str]) -> None:
    assert [a.id for a in tag_text(text).tags.agencies] == agencies


_PLURAL_PIECES = st.sampled_from(
    ["departments", "Departments", "DEPARTMENTS", "ministries", "MinIstries", "xdepartments",
     "1ministries", "-departments", "ministry", " of ", " for ", " the ", ", ", " and ", "\n",
     "Commerce", "State", "Trade", "Dm", "é", "mD"]
)  # fmt: skip


@given(
    st.lists(
        _PLURAL_PIECES | st.sampled_from(["Departmentſ", "MİNİSTRİES", "minKstries", "İ", "ſ"]),
        max_size=12,
    ).map("".join)
)
def test_a_list_of_bodies_in_any_case_is_read_without_failing(text: str) -> None:
    tag_text(text)


@given(st.lists(_PLURAL_PIECES, max_size=12).map("".join))
def test_the_plural_head_pattern_matches_where_its_plain_spelling_does(text: str) -> None:
    """The pattern opens on the heads' first letters for speed; it must match exactly where
    `(?<![A-Za-z])(?i:departments|ministries)` followed by the same list does."""
    bodies = matcher().bodies
    assert bodies is not None and bodies.plural is not None
    plural = bodies.plural
    tail = plural.pattern[plural.pattern.index(r"\s(?:of|for)") :]
    heads = "|".join(h for h, _ in bodies.singular)
    plain = re.compile(rf"(?<![A-Za-z])(?i:{heads}){tail}")
    assert [m.span() for m in plural.finditer(text)] == [m.span() for m in plain.finditer(text)]


@pytest.mark.parametrize(
    ("text", "agency"),
    [
        ("L'Autorité de la concurrence a infligé une amende au fabricant de puces.", "FR:CA"),
        ("L'autorità garante della concorrenza ha aperto un'istruttoria.", "IT:CA"),
        ("공정거래위원회는 반도체 업체에 과징금을 부과했다.", "KR:FTC"),
        ("公正取引委員会は半導体メーカーに立ち入り検査した。", "JP:FTC"),
        ("Das Bundeskartellamt prüft die Übernahme des Chipherstellers.", "DE:FCO"),
        ("经济部投审会核准晶圆厂赴美投资案。", "TW:IC"),
        ("科技部与商务部联合修订技术出口目录。", "CN:MOST"),
        ("The Digital Secretary ordered a review of the chip designer's sale.", "GB:DCMS"),
    ],
)
def test_regulators_by_their_own_names(text: str, agency: str) -> None:
    assert agency in [a.id for a in tag_text(text).tags.agencies]


def test_a_list_a_department_keeps_is_no_body_but_its_officials_title_is() -> None:
    assert tag_text("The note adds two ECCNs to the Commerce Control List.").tags.agencies == []
    text = "The Under Secretary for Industry and Security said the rule would follow."
    assert [a.id for a in tag_text(text).tags.agencies] == ["US:BIS"]


def test_the_dutch_trade_minister_is_the_dutch_government() -> None:
    text = "The Dutch trade minister set licence rules for chip tools."
    assert "NL:MOEA" not in [a.id for a in tag_text(text).tags.agencies]


def test_a_generic_name_goes_to_a_prominent_country_that_has_such_a_body() -> None:
    text = (
        "The Netherlands suspended its order over the chipmaker, and the Dutch cabinet "
        "said talks went well. China welcomed the step. The economic affairs ministry "
        "said more talks would follow."
    )
    assert "NL:MOEA" in [a.id for a in tag_text(text).tags.agencies]


def test_gulf_buyers_and_chip_material_suppliers_are_companies() -> None:
    text = "G42 and Humain bought chips; Air Liquide and Mitsubishi Chemical supply gases."
    names = [c.id for c in tag_text(text).tags.companies]
    assert names == ["G42", "Humain", "Air Liquide", "Mitsubishi Chemical"]


def test_a_fund_named_vanguard_is_no_chipmaker() -> None:
    assert tag_text("Vanguard raised its stake in the chipmaker.").tags.companies == []
