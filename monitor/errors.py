"""The errors the CLI knows how to report in one line.

The library raises, the CLI translates: ``DoxwatchError`` becomes exit 1 and
``UsageProblem`` (bad config, bad arguments) exit 2, each as one line on stderr.
"""

from __future__ import annotations


class DoxwatchError(Exception):
    """Something failed while doing the work (exit status 1)."""


class UsageProblem(DoxwatchError):
    """The user asked for something that cannot be done as asked (exit status 2)."""
