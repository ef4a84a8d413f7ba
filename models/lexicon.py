"""The domain lexicon: the market's words, read from ``models/data/lexicon.txt``.

One file feeds three consumers: the tokenizer (so 开盒 or 社工库 stay whole tokens), entity
extraction (the ``service`` section names what an offer sells) and the features, through
:func:`canonicalize`, which rewrites coded words and contact aliases (cx, 薇, 扣, TG) into the
one form each stands for, so every variant of an ad shares the same features. The file's
header documents its format.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from models.normalize import normalize

SECTIONS = ("service", "offer", "contact", "money")

# When an alias stands for its canonical form. "" means always; the others guard aliases
# that are also ordinary words or letters (扣 "deduct", 飞机 "aeroplane", u in u盘).
CONDITIONS = ("", "handle", "amount")

# What may stand between a contact word and the handle it introduces ("扣: 123456", "V-abc").
HANDLE_SEPARATOR = r"[\s:：=@\-_~.,，|/]*"
_HANDLE = rf"{HANDLE_SEPARATOR}[a-z0-9][a-z0-9_\-]{{3,}}"


@dataclass(frozen=True)
class Term:
    """One lexicon line. *canonical* is what an alias stands for ("" for a plain term), and
    *condition* (see CONDITIONS) when the alias applies."""

    term: str
    section: str
    meaning: str = ""
    canonical: str = ""
    condition: str = ""


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
        where = f"{source}:{number}"
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            if section not in SECTIONS:
                raise LexiconError(f"{where}: unknown section [{section}]")
            continue
        if section is None:
            raise LexiconError(f"{where}: term before the first [section]")
        terms.append(_parse_term(line, section, where))
    _check_aliases(terms, source)
    return tuple(terms)


def _parse_term(line: str, section: str, where: str) -> Term:
    """Read ``term [= canonical [| condition]] [→ meaning]``."""
    definition, _, meaning = line.partition("→")
    term, has_alias, target = definition.partition("=")
    canonical, _, condition = target.partition("|")
    term, canonical, condition = normalize(term), normalize(canonical), condition.strip()
    if not term:
        raise LexiconError(f"{where}: empty term")
    if has_alias and not canonical:
        raise LexiconError(f"{where}: empty canonical form after '='")
    if condition not in CONDITIONS:
        raise LexiconError(f"{where}: unknown condition '{condition}'")
    return Term(term, section, meaning.strip(), canonical, condition)


def _check_aliases(terms: list[Term], source: str) -> None:
    """A canonical form must not itself be an alias, or rewriting would never settle."""
    aliases = {term.term for term in terms if term.canonical}
    for term in terms:
        if term.canonical in aliases:
            raise LexiconError(f"{source}: canonical form '{term.canonical}' is also an alias")


def load_lexicon(path: Path | None = None) -> tuple[Term, ...]:
    """Read the lexicon at *path*, by default the shipped one (cached)."""
    if path is None:
        return _shipped_lexicon()
    return parse_lexicon(path.read_text(encoding="utf-8"), str(path))


@functools.cache
def _shipped_lexicon() -> tuple[Term, ...]:
    resource = resources.files("models") / "data" / "lexicon.txt"
    return parse_lexicon(resource.read_text(encoding="utf-8"), "models/data/lexicon.txt")


def aliases(terms: tuple[Term, ...] | None = None) -> tuple[Term, ...]:
    """The terms of *terms* (default: the shipped lexicon) that stand for a canonical form."""
    return tuple(term for term in (terms or load_lexicon()) if term.canonical)


def expand_aliases(text: str, terms: tuple[Term, ...] | None = None) -> str:
    """Replace every alias in normalised *text* by its canonical form (``可cx户籍`` →
    ``可查询户籍``, ``扣 123456`` → ``qq 123456``).

    Latin aliases match only as whole words (``cx`` but not the ``cx`` in ``mcx``), and
    conditional aliases only where their condition holds (``扣`` before a handle, ``u`` after
    an amount).
    """
    pattern, canonical_of = _alias_matcher(terms) if terms else _shipped_matcher()
    return pattern.sub(lambda match: canonical_of[match.group(0)], text)


def canonicalize(text: str) -> str:
    """Normalise *text* and rewrite its aliases: the form the features should read.

    Idempotent: ``canonicalize(canonicalize(x)) == canonicalize(x)``. Rewriting repeats
    until nothing changes because one rewrite can enable another: normalisation joins a
    rewritten code with its Chinese neighbours (``cx*户籍`` → ``查询户籍``), and a rewritten
    amount can complete a handle (``q 0u`` → ``q 0usdt``). Every rewrite replaces an alias
    by a canonical form that is not an alias, so this settles after a few rounds.
    """
    current = normalize(text)
    for _ in range(_MAX_REWRITES):
        rewritten = expand_aliases(current)
        if rewritten == current:
            break
        current = normalize(rewritten)
    return current


# Rounds of rewriting in canonicalize; real text settles in one, crafted text in two or three.
_MAX_REWRITES = 8


@functools.cache
def _shipped_matcher() -> tuple[re.Pattern[str], dict[str, str]]:
    """The shipped lexicon's matcher, looked up without hashing ~200 terms on every call
    (that hash cost more than the matching itself)."""
    return _alias_matcher(load_lexicon())


@functools.cache
def _alias_matcher(terms: tuple[Term, ...]) -> tuple[re.Pattern[str], dict[str, str]]:
    return _term_matcher(aliases(terms))


def find_services(normal: str) -> list[str]:
    """The shipped lexicon's services named in the normalised text *normal*, in order of first
    appearance, each under its canonical form (``dw`` and ``定位`` are one service, 定位).

    Matches are the longest at each place (查档机器人, not 查档 inside it), and Latin terms are
    words of their own, as for aliases: the ``dw`` in a handle ``@dw_demo`` is not a service.
    """
    pattern, canonical_of = service_matcher()
    return list(dict.fromkeys(canonical_of[match.group(0)] for match in pattern.finditer(normal)))


@functools.cache
def service_matcher() -> tuple[re.Pattern[str], dict[str, str]]:
    """The service terms as one pattern and their canonical forms: for callers that need
    *where* a service is named (a price ties to its nearest service), which
    :func:`find_services` does not say."""
    return _term_matcher(tuple(term for term in load_lexicon() if term.section == "service"))


def _term_matcher(terms: tuple[Term, ...]) -> tuple[re.Pattern[str], dict[str, str]]:
    """One regular expression for every term of *terms*, longest first, and the form each
    match stands for (its canonical form, or itself for a plain term)."""
    found = sorted(terms, key=lambda term: -len(term.term))
    if not found:
        return re.compile(r"(?!)"), {}
    canonical_of = {term.term: term.canonical or term.term for term in found}
    # The leading look-ahead on first characters lets the engine skip most positions fast.
    first = "".join(sorted({re.escape(term.term[0]) for term in found}))
    alternatives = "|".join(_term_pattern(term) for term in found)
    return re.compile(f"(?=[{first}])(?:{alternatives})"), canonical_of


def _term_pattern(term: Term) -> str:
    """A Latin term is a word of its own: never part of a handle or an address
    (``@dw_demo``, ``cx_bot``, ``a.dw``, ``kf.team@example.com``), but an amount's unit
    follows its digits (``300u``) and a contact alias its handle (``v123456``)."""
    pattern = re.escape(term.term)
    if term.term[0].isascii() and term.term[0].isalpha():
        before = "a-z" if term.condition == "amount" else "a-z0-9_@."
        pattern = rf"(?<![{before}])" + pattern
    if term.term[-1].isascii() and term.term[-1].isalpha():
        pattern += r"(?![a-z])" if term.condition == "handle" else r"(?![a-z0-9_@]|\.[a-z0-9])"
    if term.condition == "handle":
        pattern += rf"(?={_HANDLE})"
    elif term.condition == "amount":
        pattern = r"(?:(?<=\d)|(?<=\d\s))" + pattern
    return pattern
