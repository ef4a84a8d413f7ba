"""Text normalisation shared by the tokenizer, the features and entity extraction.

Ads dodge keyword filters with full-width letters (ｃｘ), zero-width characters inside words
(开\u200b盒) and odd spacing; folding these first lets one vocabulary match every variant.
"""

import re
import unicodedata

# Invisible characters that only ever serve to split a word: zero-width space/joiners,
# word joiner, byte-order mark, soft hyphen, Mongolian vowel separator and the emoji
# presentation selectors (which otherwise leave a stray invisible token after ❤).
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\ufe0e\ufe0f"), None)
_WHITESPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Return *text* with NFKC width folding, invisible characters removed, Latin letters
    lower-cased and every run of whitespace collapsed to one space (stripped at the ends).
    """
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return _WHITESPACE.sub(" ", text.lower()).strip()
