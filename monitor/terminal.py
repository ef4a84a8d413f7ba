"""What may reach a terminal from scraped content: text without control characters, and
never Rich markup.

A crawled title holding ESC or OSC bytes would otherwise reach the terminal as commands
(a hidden hyperlink, a rewritten window title, cleared lines), and ``[link=…]`` in a
title would become a live link in Rich output. Every command that prints what a post or
a site said passes it through :func:`printable` and prints it as plain text.
"""

from __future__ import annotations

import re

from rich.text import Text

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` without control characters (C0, DEL and C1; newlines kept if asked)."""
    return (_CONTROL_BUT_NEWLINE if keep_newlines else _CONTROL).sub("", text)


def plain(text: str, *, keep_newlines: bool = False) -> Text:
    """``text`` as a Rich ``Text``: printed as it is, its brackets never read as markup."""
    return Text(printable(text, keep_newlines=keep_newlines))
