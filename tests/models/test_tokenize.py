import pytest

from models.lexicon import (
    LexiconError,
    aliases,
    canonicalize,
    expand_aliases,
    load_lexicon,
    parse_lexicon,
)
from models.tokenize import tokens


@pytest.mark.parametrize("term", ["开盒", "社工库", "四件套", "过人脸", "医保记录", "人脸解封"])
def test_lexicon_terms_stay_whole_tokens(term: str) -> None:
    assert term in tokens(f"本店可做{term}业务,价格私聊")


def test_tokens_are_of_the_normalised_text_without_punctuation_or_spaces() -> None:
    assert tokens("ＣＸ：户籍,开\u200b盒!") == ["cx", "户籍", "开盒"]


def test_canonical_forms_are_whole_tokens_too() -> None:
    assert tokens(canonicalize("可cx户籍 kf 飞机@abcde")) == [
        "可",
        "查询",
        "户籍",
        "开房",
        "telegram",
        "abcde",
    ]


def test_the_shipped_lexicon_has_every_section_and_meanings() -> None:
    terms = load_lexicon()
    assert {term.section for term in terms} == {"service", "offer", "contact", "money"}
    by_term = {term.term: term for term in terms}
    assert by_term["cx"].meaning == "pinyin initials of 查询"
    assert by_term["cx"].canonical == "查询"
    assert by_term["医保记录"].section == "service"
    assert by_term["扣"].condition == "handle"


def test_the_shipped_aliases_cover_codes_contacts_and_money() -> None:
    canonical = {term.term: term.canonical for term in aliases()}
    assert {"cx": "查询", "kf": "开房", "hj": "户籍", "sfz": "身份证"}.items() <= canonical.items()
    assert {canonical[alias] for alias in ("薇", "薇锌", "v", "vx", "wx")} == {"微信"}
    assert {canonical[alias] for alias in ("扣", "扣扣", "q", "企鹅")} == {"qq"}
    assert {canonical[alias] for alias in ("飞机", "纸飞机", "电报", "tg")} == {"telegram"}
    assert canonical["u"] == "usdt"


@pytest.mark.parametrize(
    ("text", "expanded"),
    [
        ("可cx户籍 kf hj sfz", "可查询户籍 开房 户籍 身份证"),
        ("vx:abc123 wx abc 薇信", "微信:abc123 微信 abc 微信"),
        ("扣 12345678 扣扣 企鹅:123456 q12345", "qq 12345678 qq qq:123456 qq12345"),
        ("飞机 @kaihe_bot tg 纸飞机 电报", "telegram @kaihe_bot telegram telegram telegram"),
        ("300u 50 u", "300usdt 50 usdt"),
    ],
)
def test_aliases_become_their_canonical_form(text: str, expanded: str) -> None:
    assert expand_aliases(text) == expanded


@pytest.mark.parametrize(
    "text",
    [
        "mcx kfc hjx",
        "商品打折扣,扣款成功",
        "坐飞机去北京",
        "张薇老师",
        "u盘 vip qq群",
        "企鹅很可爱",
    ],
)
def test_ordinary_words_and_letters_inside_words_are_not_aliases(text: str) -> None:
    assert expand_aliases(text) == text


def test_canonicalize_normalises_rewrites_and_joins() -> None:
    assert canonicalize("ＣＸ * 户籍 ✈️ @abc_1") == "查询户籍telegram @abc_1"
    assert canonicalize("q 0u") == canonicalize(canonicalize("q 0u"))


def test_lexicon_errors_name_the_line() -> None:
    with pytest.raises(LexiconError, match="lex:1: term before the first"):
        parse_lexicon("开盒\n", "lex")
    with pytest.raises(LexiconError, match=r"lex:2: unknown section \[prices\]"):
        parse_lexicon("# comment\n[prices]\n", "lex")
    with pytest.raises(LexiconError, match="lex:2: unknown condition 'always'"):
        parse_lexicon("[contact]\nv = 微信 | always\n", "lex")
    with pytest.raises(LexiconError, match="lex:2: empty canonical form"):
        parse_lexicon("[contact]\nv = \n", "lex")
    with pytest.raises(LexiconError, match="canonical form 'vx' is also an alias"):
        parse_lexicon("[contact]\nvx = 微信\nv = vx\n", "lex")


def test_an_analyst_can_add_an_alias_without_code() -> None:
    terms = parse_lexicon("[service]\ngj = 轨迹 → pinyin initials of 轨迹\n", "lex")
    assert expand_aliases("可gj", terms) == "可轨迹"
