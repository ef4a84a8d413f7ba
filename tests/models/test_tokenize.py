import pytest

from models.lexicon import LexiconError, load_lexicon, parse_lexicon
from models.tokenize import tokens


@pytest.mark.parametrize("term", ["开盒", "社工库", "四件套", "过人脸", "医保记录", "人脸解封"])
def test_lexicon_terms_stay_whole_tokens(term: str) -> None:
    assert term in tokens(f"本店可做{term}业务,价格私聊")


def test_tokens_are_of_the_normalised_text_without_punctuation_or_spaces() -> None:
    assert tokens("ＣＸ：户籍,开\u200b盒!") == ["cx", "户籍", "开盒"]


def test_the_shipped_lexicon_has_every_section_and_meanings() -> None:
    terms = load_lexicon()
    assert {term.section for term in terms} == {"service", "offer", "contact"}
    by_term = {term.term: term for term in terms}
    assert by_term["cx"].meaning == "pinyin initials of 查询"
    assert by_term["医保记录"].section == "service"


def test_lexicon_errors_name_the_line() -> None:
    with pytest.raises(LexiconError, match="lex:1: term before the first"):
        parse_lexicon("开盒\n", "lex")
    with pytest.raises(LexiconError, match=r"lex:2: unknown section \[prices\]"):
        parse_lexicon("# comment\n[prices]\n", "lex")
