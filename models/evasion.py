"""How sellers disguise their words, as functions: for the data generator and property tests.

Each transform takes a text and a ``random.Random`` and returns the text disguised one way
(separators between characters, zero-width characters, full-width letters, traditional
characters, emoji, look-alike digits, pinyin codes, contact aliases). Every one is undone or
made harmless by :func:`models.lexicon.canonicalize` (normalisation plus the lexicon's
aliases), so an obfuscated ad must keep its classification; the property tests hold the
classifier to that. The output depends only on the text and the generator's state.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable

import opencc

from models.lexicon import Term, aliases, canonicalize

Transform = Callable[[str, random.Random], str]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")

# What sellers put between two characters of a word (开*盒, 查 档, 户-籍).
SEPARATORS = ("*", ".", "-", "_", "~", "·", "|", "/", " ", " * ", "  ")
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
# Decorations only: emoji that stand for a word (✈ for Telegram, 🐧 for QQ) are not
# decorations, normalisation maps them to their word.
DECORATIONS = ("❤", "❤\ufe0f", "♥", "♡", "✨", "🔥", "⭐", "🌟", "💯", "😊", "👍", "🌸", "💕", "★")
# Look-alikes of the digits 0–9, one string per style (index = digit).
DIGIT_STYLES = (
    "⓪①②③④⑤⑥⑦⑧⑨",  # circled
    "⓿❶❷❸❹❺❻❼❽❾",  # negative circled
    "０１２３４５６７８９",  # full-width
    "０⑴⑵⑶⑷⑸⑹⑺⑻⑼",  # parenthesized (there is no parenthesized zero)
    "⓪➀➁➂➃➄➅➆➇➈",  # dingbat circled sans-serif
)
# The chance that one place open to a disguise (a gap, a word) gets it.
_RATE = 0.5


def separators(text: str, rng: random.Random) -> str:
    """Put separators between Chinese characters: 开盒 → 开*盒, 查 档."""
    return _between_cjk(text, rng, SEPARATORS)


def zero_width(text: str, rng: random.Random) -> str:
    """Put invisible zero-width characters between Chinese characters."""
    return _between_cjk(text, rng, ZERO_WIDTH)


def emoji(text: str, rng: random.Random) -> str:
    """Put decorative emoji between Chinese characters: 开❤盒."""
    return _between_cjk(text, rng, DECORATIONS)


def full_width(text: str, rng: random.Random) -> str:
    """Write printable ASCII (letters, digits, @, :) full-width: TG@abc → ＴＧ＠ａｂｃ.

    Each character independently, as sellers mix widths."""
    return "".join(
        chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" and rng.random() < 0.8 else ch for ch in text
    )


def traditional(text: str, rng: random.Random) -> str:
    """Write the text in traditional characters (查档 → 查檔); deterministic."""
    return _simplified_to_traditional().convert(text)


def lookalike_digits(text: str, rng: random.Random) -> str:
    """Write each digit as a look-alike (①, ⓪, ０, ⑴, ❶), the style chosen per digit."""
    return re.sub(r"[0-9]", lambda match: rng.choice(DIGIT_STYLES)[int(match.group(0))], text)


def pinyin(text: str, rng: random.Random) -> str:
    """Write words as the Latin codes the lexicon knows for them (查询 → cx, 户籍 → HJ)."""
    codes: dict[str, list[str]] = {}
    for term in aliases():
        if term.section != "contact" and _is_latin_code(term):
            codes.setdefault(term.canonical, []).append(term.term)
    return _substitute(text, rng, codes)


def contact_aliases(text: str, rng: random.Random) -> str:
    """Write contact words as other aliases of the same app (微信 → 薇/vx/V, QQ → 扣/企鹅,
    TG → 飞机), keeping only those the lexicon reads back as the same app."""
    forms: dict[str, list[str]] = {}
    for term in aliases():
        if term.section == "contact":
            forms.setdefault(term.canonical, [term.canonical]).append(term.term)
    choices = {
        form: [other for other in group if other != form]
        for group in forms.values()
        for form in group
    }
    return _substitute(text, rng, choices)


TRANSFORMS: dict[str, Transform] = {
    "separators": separators,
    "zero_width": zero_width,
    "full_width": full_width,
    "traditional": traditional,
    "emoji": emoji,
    "lookalike_digits": lookalike_digits,
    "pinyin": pinyin,
    "contact_aliases": contact_aliases,
}


def obfuscate(text: str, rng: random.Random, k: int = 2) -> str:
    """Apply *k* distinct transforms, chosen at random, in random order.

    Word-level transforms (pinyin, contact aliases, traditional) run before character-level
    ones, so that a separator or a full-width letter does not hide the word they rewrite.
    """
    names = rng.sample(sorted(TRANSFORMS), k)
    names.sort(key=lambda name: name not in _WORD_LEVEL)
    for name in names:
        text = TRANSFORMS[name](text, rng)
    return text


_WORD_LEVEL = frozenset({"pinyin", "contact_aliases", "traditional"})


def _between_cjk(text: str, rng: random.Random, fillers: tuple[str, ...]) -> str:
    """Insert a random filler into gaps between two CJK characters: each gap with
    probability _RATE, and at least one gap when the text has any."""
    gaps = [i for i in range(1, len(text)) if _CJK.match(text[i - 1]) and _CJK.match(text[i])]
    if not gaps:
        return text
    chosen = {gap for gap in gaps if rng.random() < _RATE} or {rng.choice(gaps)}
    pieces = []
    start = 0
    for gap in sorted(chosen):
        pieces += [text[start:gap], rng.choice(fillers)]
        start = gap
    return "".join(pieces) + text[start:]


def _substitute(text: str, rng: random.Random, choices: dict[str, list[str]]) -> str:
    """Replace words of *text* that are keys of *choices* (case-insensitively) by one of
    their choices, each word with probability _RATE, keeping a replacement only when the text
    still canonicalizes to the same string (an alias the lexicon would not read back, such
    as 飞机 with no handle after it, is refused)."""
    if not choices:
        return text
    pattern = re.compile(
        "|".join(re.escape(word) for word in sorted(choices, key=len, reverse=True)), re.I
    )
    target = canonicalize(text)
    for match in reversed(list(pattern.finditer(text))):
        if rng.random() >= _RATE:
            continue
        options = list(choices[match.group(0).lower()])
        rng.shuffle(options)
        for option in options:
            written = option.upper() if option.isascii() and rng.random() < 0.5 else option
            candidate = text[: match.start()] + written + text[match.end() :]
            if canonicalize(candidate) == target:
                text = candidate
                break
    return text


def _is_latin_code(term: Term) -> bool:
    return term.term.isascii() and term.term.isalpha() and not term.condition


@functools.cache
def _simplified_to_traditional() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")
