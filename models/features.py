"""The text views the classifier learns from: word tokens and character n-grams.

Both start from :func:`prepare`, which also replaces every run of digits by ``#``: what
matters in ``1200元`` or ``Q 123456789`` is that a number stands next to 元 or Q, not which
number, and the collapse lets one feature cover every price and every handle. These are
module-level functions (not lambdas) so that skops can save and load a pipeline using them.
"""

from __future__ import annotations

import re

from models.normalize import normalize
from models.tokenize import tokens

# Longest text the classifier reads. Scraped posts are hostile and may be huge; the first
# 20,000 characters are plenty to judge an ad, and the cap bounds the cost of one post.
MAX_TEXT_CHARS = 20_000

_DIGITS = re.compile(r"\d+")


def prepare(text: str) -> str:
    """Normalise *text*, cap its length and collapse digit runs to ``#``."""
    return _DIGITS.sub("#", normalize(text[:MAX_TEXT_CHARS]))


def word_analyzer(text: str) -> list[str]:
    """Word features: jieba tokens of the prepared text."""
    return tokens(prepare(text))
