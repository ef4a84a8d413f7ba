import random
import re

import pytest

from models.evasion import DECORATIONS, TRANSFORMS, ZERO_WIDTH, obfuscate
from models.lexicon import canonicalize

AD = "可查询户籍 开房 轨迹,加微信 abc12345 或 QQ 123456789,飞机 @kaihe_bot 价格300元 1-2天出"
NO_CJK_PAIRS = "QQ 123456789 t.me/abc"


def test_the_promised_transforms_exist() -> None:
    assert set(TRANSFORMS) >= {
        "separators",
        "zero_width",
        "full_width",
        "traditional",
        "emoji",
        "lookalike_digits",
        "pinyin",
        "contact_aliases",
    }


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transforms_are_deterministic_given_the_generator(name: str) -> None:
    transform = TRANSFORMS[name]
    assert transform(AD, random.Random(7)) == transform(AD, random.Random(7))


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_every_transform_changes_an_ad_that_offers_it_something(name: str) -> None:
    changed = [TRANSFORMS[name](AD, random.Random(seed)) != AD for seed in range(5)]
    assert all(changed)


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_canonicalize_undoes_every_transform(name: str) -> None:
    for seed in range(20):
        disguised = TRANSFORMS[name](AD, random.Random(seed))
        assert canonicalize(disguised) == canonicalize(AD), disguised


def test_separators_zero_width_and_emoji_go_only_between_chinese_characters() -> None:
    for name in ("separators", "zero_width", "emoji"):
        assert TRANSFORMS[name](NO_CJK_PAIRS, random.Random(1)) == NO_CJK_PAIRS
    text = TRANSFORMS["zero_width"]("开盒", random.Random(1))
    assert text[0] == "开" and text[-1] == "盒" and text[1:-1] in ZERO_WIDTH
    text = TRANSFORMS["emoji"]("开盒", random.Random(1))
    assert text[1:-1] in DECORATIONS


def test_full_width_and_lookalike_digits_leave_no_ascii_digit_behind() -> None:
    rng = random.Random(3)
    assert not re.search(r"[0-9]", TRANSFORMS["lookalike_digits"]("Q 1234567890", rng))
    assert "ＱＱ" in {TRANSFORMS["full_width"]("QQ", random.Random(s)) for s in range(10)}


def test_traditional_writes_traditional_characters() -> None:
    assert TRANSFORMS["traditional"]("查档 户籍 轨迹", random.Random(0)) == "查檔 戶籍 軌跡"


def test_pinyin_writes_lexicon_codes() -> None:
    written = {TRANSFORMS["pinyin"]("可查询户籍", random.Random(s)).lower() for s in range(20)}
    assert {"可cx户籍", "可查询hj", "可cxhj"} & written


def test_pinyin_never_glues_a_code_to_latin_letters() -> None:
    assert TRANSFORMS["pinyin"]("abc查询xyz", random.Random(0)) == "abc查询xyz"


def test_contact_aliases_keep_ordinary_words() -> None:
    text = "坐飞机去北京,商品打折扣"
    assert all(TRANSFORMS["contact_aliases"](text, random.Random(s)) == text for s in range(20))


def test_contact_aliases_use_conditional_aliases_before_a_handle() -> None:
    written = {TRANSFORMS["contact_aliases"]("QQ 12345678", random.Random(s)) for s in range(40)}
    assert {"扣 12345678", "企鹅 12345678"} & written


def test_obfuscate_applies_k_distinct_transforms_deterministically() -> None:
    assert obfuscate(AD, random.Random(5), k=3) == obfuscate(AD, random.Random(5), k=3)
    assert obfuscate(AD, random.Random(5), k=0) == AD
    for seed in range(10):
        assert canonicalize(obfuscate(AD, random.Random(seed), k=3)) == canonicalize(AD)
    with pytest.raises(ValueError):
        obfuscate(AD, random.Random(0), k=len(TRANSFORMS) + 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("报单找 TG @dw_demo_bot", "报单找 telegram @dw_demo_bot"),  # a handle is not a code
        ("cx_bot 在线", "cx_bot 在线"),
        ("可cx户籍 dw 秒出", "可查询户籍定位秒出"),
        ("一单 300u", "一单 300usdt"),  # an amount's unit follows its digits
        ("v123456", "微信123456"),  # a contact alias its handle
    ],
)
def test_latin_aliases_are_words_of_their_own(text: str, expected: str) -> None:
    assert canonicalize(text) == expected
