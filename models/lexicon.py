"""The domain lexicon: the market's words, read from ``models/data/lexicon.txt``.

One file feeds two consumers: the tokenizer (so 开盒 or 社工库 stay whole tokens) and entity
extraction (the ``service`` section names what an offer sells). The file's header documents
its format.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from models.normalize import normalize

SECTIONS = ("service", "offer", "contact")


@dataclass(frozen=True)
class Term:
    term: str
    section: str
    meaning: str = ""


class LexiconError(ValueError):
    """A lexicon line that cannot be read; the message names the file and line."""


def parse_lexicon(text: str, source: str = "lexicon") -> tuple[Term, ...]:
    """Parse lexicon *text*; *source* names it in error messages."""
    terms: list[Term] = []
    section: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            if section not in SECTIONS:
                raise LexiconError(f"{source}:{number}: unknown section [{section}]")
            continue
        if section is None:
            raise LexiconError(f"{source}:{number}: term before the first [section]")
        term, _, meaning = line.partition("→")
        term = normalize(term)
        if not term:
            raise LexiconError(f"{source}:{number}: empty term")
        terms.append(Term(term, section, meaning.strip()))
    return tuple(terms)


def load_lexicon(path: Path | None = None) -> tuple[Term, ...]:
    """Read the lexicon at *path*, by default the shipped one (cached)."""
    if path is None:
        return _shipped_lexicon()
    return parse_lexicon(path.read_text(encoding="utf-8"), str(path))


@functools.cache
def _shipped_lexicon() -> tuple[Term, ...]:
    resource = resources.files("models") / "data" / "lexicon.txt"
    return parse_lexicon(resource.read_text(encoding="utf-8"), "models/data/lexicon.txt")
