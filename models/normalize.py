"""Text normalisation shared by the tokenizer, the features and entity extraction.

Ads dodge keyword filters by writing the same word many ways: full-width letters (ｃｘ),
traditional characters (戶籍), look-alike digits and letters (①②③, ❶, Cyrillic о), invisible
or decorative characters inside words (开\u200b盒, 开❤盒) and separators between characters
(开*盒, 查 档). Folding all of these first lets one vocabulary match every variant.

:func:`normalize` is idempotent (``normalize(normalize(x)) == normalize(x)``), so text may be
normalised more than once on its way to the classifier; the property tests check it.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import opencc

# Chinese characters (the unified ideographs and their extensions); a separator is removed
# only between two of these, so "1-2天", "a.b@c.com" and English text keep theirs.
_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U000323af"
_HAN_CHAR = re.compile(f"[{_HAN}]")
# Characters that need no folding beyond NFKC and lower-casing: ASCII, whitespace, Chinese
# characters and common punctuation. Everything else is looked at one character at a time
# (see _fold), which is cheap because ads are mostly made of these.
_PLAIN = (
    r"\t\n\r\x20-\x7e\u2010-\u2027\u2030-\u205e"
    r"\u3001-\u3003\u3008-\u3011\u3014-\u301f\u4e00-\u9fff"
)
_UNUSUAL = re.compile(f"[^{_PLAIN}]+")
# What sellers put between the characters of a word: 开*盒, 开.盒, 户-籍, 查 档, 开·盒.
_SEPARATORS = re.compile(rf"(?<=[{_HAN}])[\s*.\-_~·|/•‧・]+(?=[{_HAN}])")
_WHITESPACE = re.compile(r"\s+")


def _digit_run(first: int, values: range) -> dict[int, str]:
    return {first + offset: str(value) for offset, value in enumerate(values)}


def _letter_run(first: int) -> dict[int, str]:
    return {first + offset: chr(ord("a") + offset) for offset in range(26)}


# Look-alikes that NFKC leaves alone or turns into more than the digit or letter ("⑴" → "(1)").
_LOOKALIKES: dict[int, str] = {
    **_digit_run(0x2776, range(1, 11)),  # ❶–❿ negative circled
    **_digit_run(0x2780, range(1, 11)),  # ➀–➉ dingbat circled sans-serif
    **_digit_run(0x278A, range(1, 11)),  # ➊–➓ dingbat negative circled sans-serif
    **_digit_run(0x24EB, range(11, 21)),  # ⓫–⓴ negative circled
    **_digit_run(0x24F5, range(1, 11)),  # ⓵–⓾ double circled
    0x24FF: "0",  # ⓿
    0x1F10B: "0",  # dingbat circled sans-serif zero
    0x1F10C: "0",  # dingbat negative circled sans-serif zero
    **_digit_run(0x2474, range(1, 21)),  # ⑴–⒇ parenthesized
    **_digit_run(0x2488, range(1, 21)),  # ⒈–⒛ with full stop
    **_letter_run(0x249C),  # ⒜–⒵ parenthesized
    **_letter_run(0x1F110),  # 🄐–🄩 parenthesized capitals
    **_letter_run(0x1F150),  # 🅐–🅩 negative circled
    **_letter_run(0x1F170),  # 🅰–🆉 negative squared
    **_letter_run(0x1F1E6),  # 🇦–🇿 regional indicators
}

# Cyrillic and Greek letters that look Latin. Capitals are looked up before lower-casing
# and small letters after, because the two cases of one letter can look like different Latin
# letters (Greek Η/η: H and n).
_CAPITAL_LOOKALIKES_MAP = dict(
    zip("АВЕКМНОРСТУХЅІЈԚԜҮΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "abekmhopctyxsijqwyabezhikmnoptyx", strict=True)
)
_SMALL_LOOKALIKES_MAP = dict(
    zip("аеорсухѕіјԁһԛԝѵүкмαονρικυχτε", "aeopcyxsijdhqwvykmaovpikuxte", strict=True)
)

# Emoji that stand for a word in this market; every other emoji or symbol is decoration.
_WORD_EMOJI = {
    "✈": "飞机",
    "🛩": "飞机",
    "🛫": "飞机",
    "🐧": "企鹅",
    "☎": "电话",
    "📞": "电话",
    "📱": "手机",
}


def normalize(text: str) -> str:
    """Return *text* folded to one spelling: look-alike digits and letters to ASCII, NFKC
    (full-width to ASCII), Cyrillic/Greek look-alikes to Latin, Latin lower-cased,
    invisible characters removed, emoji that name a contact app replaced by its name and
    other emoji and symbols dropped, separators between two Chinese characters removed,
    traditional characters made simplified, whitespace runs collapsed to one space.
    """
    text = _LOOKALIKE_CHARS.sub(lambda match: _LOOKALIKES[ord(match.group(0))], text)
    text = unicodedata.normalize("NFKC", text)
    text = _UNUSUAL.sub(lambda match: "".join(map(_fold, match.group(0))), text).lower()
    text = _SEPARATORS.sub("", text)
    if _HAN_CHAR.search(text):
        text = _traditional_to_simplified().convert(text)
    return _WHITESPACE.sub(" ", text).strip()


_LOOKALIKE_CHARS = re.compile(
    "[\u2474-\u24b5\u24eb-\u24ff\u2776-\u2793"
    "\U0001f10b\U0001f10c\U0001f110-\U0001f129\U0001f150-\U0001f169\U0001f170-\U0001f189"
    "\U0001f1e6-\U0001f1ff]"
)
# Combining marks that decorate rather than spell (strike-through 开̶盒̶, keycap 1️⃣),
# variation selectors, emoji skin tones and Hangul fillers: all invisible, like the format
# characters (Cf: zero-width space and joiners, soft hyphen, bidi controls) and controls.
_INVISIBLE_RANGES = (
    (0x0300, 0x036F),
    (0x1AB0, 0x1AFF),
    (0x1DC0, 0x1DFF),
    (0x20D0, 0x20FF),
    (0xFE00, 0xFE0F),
    (0xFE20, 0xFE2F),
    (0x1F3FB, 0x1F3FF),
    (0x115F, 0x1160),
    (0x3164, 0x3164),
    (0xFFA0, 0xFFA0),
    (0xE0100, 0xE01EF),
)
# Other symbols (So: emoji, ❤, ★), private use, surrogates and unassigned code points
# (emoji newer than this Python's Unicode database) are decoration: replaced by a space.
_SYMBOL_CATEGORIES = frozenset({"So", "Co", "Cs", "Cn"})


@functools.lru_cache(maxsize=8192)
def _fold(char: str) -> str:
    """The folded form of one character outside _PLAIN (cached: ads repeat their symbols)."""
    if char in _CAPITAL_LOOKALIKES_MAP:
        return _CAPITAL_LOOKALIKES_MAP[char]
    return "".join(_fold_small(small) for small in char.lower())


def _fold_small(char: str) -> str:
    if char in _SMALL_LOOKALIKES_MAP:
        return _SMALL_LOOKALIKES_MAP[char]
    if char in _WORD_EMOJI:
        return _WORD_EMOJI[char]
    code = ord(char)
    category = unicodedata.category(char)
    if category == "Cf" or (category == "Cc" and not char.isspace()):
        return ""
    if any(first <= code <= last for first, last in _INVISIBLE_RANGES):
        return ""
    return " " if category in _SYMBOL_CATEGORIES else char


@functools.cache
def _traditional_to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")
