"""Checking a source's kind-specific options before any crawl starts (no I/O).

A selector is compiled against an empty document: a typo in the configuration then fails
when the configuration is loaded, with the option's name, not hours later in a crawl.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from cssselect import SelectorError
from parsel import Selector

from spiders.extract import select

_EMPTY_DOCUMENT = Selector(text="<html><body></body></html>")


class OptionsError(ValueError):
    """A source's options are wrong; ``field`` names the option, ``message`` says how."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def check_known_keys(options: Mapping, known: Collection[str]) -> None:
    for key in options:
        if key not in known:
            raise OptionsError(str(key), f"unknown option; expected one of {', '.join(known)}")


def check_selector(options: Mapping, field: str) -> None:
    """``options[field]``, if present, must be a selector that compiles."""
    if field not in options:
        return
    expression = options[field]
    if not isinstance(expression, str) or not expression.strip():
        raise OptionsError(field, "must be a non-empty CSS or XPath selector")
    try:
        select(_EMPTY_DOCUMENT, expression)
    except (SelectorError, ValueError) as error:
        raise OptionsError(field, f"not a valid selector: {error}") from error


def check_bool(options: Mapping, field: str) -> None:
    if field in options and not isinstance(options[field], bool):
        raise OptionsError(field, "must be true or false")
