import pytest

from models.normalize import normalize


def test_full_width_letters_and_digits_fold_to_ascii_lower_case() -> None:
    assert normalize("ＣＸ户籍 ＶＸ：ａｂｃ１２３") == "cx户籍 vx:abc123"


def test_zero_width_characters_no_longer_split_words() -> None:
    assert normalize("开\u200b盒,查\u200d档,社\ufeff工库,加薇\u2060信") == "开盒,查档,社工库,加薇信"


def test_whitespace_runs_collapse_to_one_space() -> None:
    assert normalize("  cx\t\tkf\n\n\u3000hj  ") == "cx kf hj"


def test_chinese_text_is_unchanged() -> None:
    text = "医院不会出售患者信息。"
    assert normalize(text) == text


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("开*盒", "开盒"),
        ("查 档", "查档"),
        ("开.盒", "开盒"),
        ("户-籍", "户籍"),
        ("开 · 盒 | 查 / 档 ~ 轨_迹", "开盒查档轨迹"),
        ("开❤️盒 查🔥档", "开盒查档"),
    ],
)
def test_separators_and_decorations_between_chinese_characters_are_removed(
    written: str, normal: str
) -> None:
    assert normalize(written) == normal


@pytest.mark.parametrize(
    "text", ["1-2天", "a.b@c.com", "t.me/x", "hello world - a test", "3.5元", "q: 1 2 3"]
)
def test_separators_elsewhere_survive(text: str) -> None:
    assert normalize(text) == text


def test_traditional_characters_become_simplified() -> None:
    assert normalize("開盒 查檔 戶籍 醫療記錄 身份證") == "开盒查档户籍医疗记录身份证"


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("①②③④⑤⑥", "123456"),
        ("⓪０⑴❶➀⒈", "001111"),
        ("⑽⓬", "1012"),
        ("🅠🅠 Ⓠ", "qq q"),
        ("Ⅴ:abc", "v:abc"),
    ],
)
def test_digit_and_letter_lookalikes_fold(written: str, normal: str) -> None:
    assert normalize(written) == normal


def test_cyrillic_and_greek_lookalikes_fold_to_latin() -> None:
    # Cyrillic В, Х, Т and Greek Τ, Κ written where sellers mean Latin letters.
    assert normalize("\u0412\u0425 \u0422g \u03a4\u039a") == "bx tg tk"
    assert normalize("v\u0445 \u0440\u043e") == "vx po"


def test_contact_emoji_become_words_and_other_emoji_disappear() -> None:
    assert normalize("✈️@abc_1 🐧12345678") == "飞机@abc_1 企鹅12345678"
    assert normalize("薇❤abc_123 ★推荐★ 1️⃣") == "薇 abc_123 推荐 1"


def test_control_and_format_characters_disappear() -> None:
    assert normalize("开\u202e盒\x00 a\u00adb") == "开盒 ab"


@pytest.mark.parametrize(
    "text",
    ["Ｔ．ｍｅ／Ｋａｉｈｅ  开\u200b盒", "開*盒 ①② ✈️ İstanbul", "乾隆 干燥 後面", "\u0130\u0307"],
)
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
