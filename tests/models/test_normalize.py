from models.normalize import normalize


def test_full_width_letters_and_digits_fold_to_ascii_lower_case() -> None:
    assert normalize("ＣＸ户籍 ＶＸ：ａｂｃ１２３") == "cx户籍 vx:abc123"


def test_zero_width_characters_no_longer_split_words() -> None:
    assert normalize("开\u200b盒 查\u200d档 社\ufeff工库 加薇❤\ufe0f") == "开盒 查档 社工库 加薇❤"


def test_whitespace_runs_collapse_to_one_space() -> None:
    assert normalize("  户籍\t\t开房\n\n\u3000轨迹  ") == "户籍 开房 轨迹"


def test_chinese_text_is_unchanged() -> None:
    text = "医院不会出售患者信息。"
    assert normalize(text) == text


def test_normalize_is_idempotent() -> None:
    once = normalize("Ｔ．ｍｅ／Ｋａｉｈｅ  开\u200b盒")
    assert normalize(once) == once
