"""The labelling command: an analyst goes through the posts the model was least sure of."""

from __future__ import annotations

import getpass
import sys
from datetime import datetime
from typing import Annotated

import typer

from monitor.cli.state import State, err_console, out_console
from monitor.errors import UsageProblem


def register(app: typer.Typer, state: State) -> None:
    @app.command()
    def label(
        order: Annotated[str, typer.Option(
            "--order", help="uncertain (closest to a threshold first), recent, random, or "
            "disagree (analysts disagree with each other or with the model).")] = "uncertain",
        source: Annotated[str | None, typer.Option(
            "--source", help="Only posts of this source.")] = None,
        since: Annotated[str | None, typer.Option(
            "--since", help="Only posts first seen on or after this date (YYYY-MM-DD).")] = None,
        category: Annotated[str | None, typer.Option(
            "--category", help="Only posts the model flags, or scores highest, for this "
            "category.")] = None,
        limit: Annotated[int | None, typer.Option(
            "--limit", min=1, help="At most this many posts.")] = None,
        analyst: Annotated[str | None, typer.Option(
            "--analyst", help="Who is labelling (else [label] analyst in the configuration, "
            "else the login name).")] = None,
        plain: Annotated[bool, typer.Option(
            "--plain", help="One line per post, one command per line (the only mode for now; "
            "for scripts and screen readers).")] = False,
    ) -> None:
        """Label posts, most uncertain first: 1 2 3 for medical, doxxing, biometric (typed
        together: 13), 0 benign, a accept the model, s skip, u undo, n NOTE, ? help, q quit.
        What counts as an offer is in docs/labelling.md."""
        from monitor.classify import classify_pending
        from monitor.label_session import LabelSession, run_line_mode
        from monitor.labels import label_queue

        config, db = state.config(), state.database()
        who = analyst or config.label.analyst or getpass.getuser()
        classifier = state.classifier()
        classify_pending(db, classifier)
        queue = label_queue(db, classifier.version, classifier.thresholds, who, order=order,
                            source=source, since=_date(since), category=category, limit=limit)
        err_console().print(f"{who}: {len(queue)} posts to label ({order}); ? for help",
                            markup=False)
        session = LabelSession(db, who, queue)
        console = out_console()
        run_line_mode(session, _read_line, lambda line: console.print(line, markup=False))


def _read_line() -> str | None:
    """The next command typed, None at end of input."""
    sys.stdout.write("> ")
    sys.stdout.flush()
    line = sys.stdin.readline()
    return line.rstrip("\n") if line else None


def _date(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageProblem(f"--since: not a date (YYYY-MM-DD): {value!r}") from None
    return moment if moment.tzinfo else moment.astimezone()
