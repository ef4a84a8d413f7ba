"""Chinese word tokens via jieba, with the domain lexicon as a user dictionary.

Every lexicon term and every canonical form an alias stands for is a user word, so both
``可cx户籍`` and its canonical form ``可查询户籍`` keep 户籍 and 查询 whole.

A private ``jieba.Tokenizer`` keeps our dictionary out of the process-wide default one (other
code in the same process may use jieba too), and it is built lazily on first use because
loading jieba's dictionary takes about a second.
"""

from __future__ import annotations

import functools
import logging
import unicodedata

import jieba

from models.lexicon import load_lexicon
from models.normalize import normalize

# Frequency given to every lexicon term: high enough that jieba prefers the whole term
# (开盒, 医保记录) over splitting it into common words.
_TERM_FREQUENCY = 200_000


def tokens(text: str) -> list[str]:
    """Return the jieba tokens of the normalised *text*, without whitespace or bare punctuation.

    Punctuation-only tokens carry no meaning for the classifier; symbols (¥, ❤) are kept
    because ads use them.
    """
    return normalized_tokens(normalize(text))


def normalized_tokens(text: str) -> list[str]:
    """:func:`tokens` of a text that is normalised already (the classifier's canonical
    texts): normalising twice would give the same tokens at a tenth of jieba's cost again.
    """
    return [token for token in _tokenizer().lcut(text) if _is_meaningful(token)]


@functools.lru_cache(maxsize=200_000)
def _is_meaningful(token: str) -> bool:
    """Cached: the same few thousand tokens recur in every post."""
    return any(not ch.isspace() and not unicodedata.category(ch).startswith("P") for ch in token)


@functools.cache
def _tokenizer() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for term in load_lexicon():
        tokenizer.add_word(term.term, freq=_TERM_FREQUENCY)
        if term.canonical:
            tokenizer.add_word(term.canonical, freq=_TERM_FREQUENCY)
    return tokenizer
