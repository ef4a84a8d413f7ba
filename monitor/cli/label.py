"""The labelling command: an analyst goes through the posts the model was least sure of."""

from __future__ import annotations

import getpass
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from monitor.cli.state import State, err_console, out_console
from monitor.errors import UsageProblem


def register(app: typer.Typer, state: State) -> None:
    labels_app = typer.Typer(help="Analysts' labels.", no_args_is_help=True)
    app.add_typer(labels_app, name="labels")

    @labels_app.command("stats")
    def labels_stats() -> None:
        """Labels per category and analyst; agreement (Cohen's kappa) where several analysts
        labelled the same post, and the posts they disagree on."""
        from models import CATEGORIES
        from monitor.labels import label_stats

        stats = label_stats(state.database())
        console = out_console()
        console.print(f"{stats.posts} labelled posts: " + ", ".join(
            f"{c} {stats.per_category[c]}" for c in CATEGORIES) + f", benign {stats.benign}")
        console.print("per analyst: " + (", ".join(
            f"{a} {n}" for a, n in stats.per_analyst.items()) or "none"), markup=False)
        console.print(f"labelled by more than one analyst: {stats.shared}; Cohen's kappa: "
                      + ", ".join(f"{c} {'n/a' if k is None else f'{k:.2f}'}"
                                  for c, k in stats.kappa.items()))
        for post, views in stats.disagreements:
            console.print(f"  post {post}: " + "; ".join(
                f"{a} {', '.join(v) or 'benign'}" for a, v in sorted(views.items())),
                markup=False)

    @labels_app.command("export")
    def labels_export(
        fmt: Annotated[str, typer.Option(
            "--format", help="jsonl, csv, doccano (text classification JSON lines) or "
            "label-studio (Label Studio's JSON tasks, one per post).")] = "jsonl",
        out: Annotated[Path | None, typer.Option(
            "--out", help="Write to this file (default: standard output).", dir_okay=False)] = None,
    ) -> None:
        """Each analyst's latest label of each post, for another labelling tool or a backup."""
        from monitor.labels_io import FORMATS, exported_labels, render

        if fmt not in FORMATS:
            raise UsageProblem(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
        labels = exported_labels(state.database())
        content = render(labels, fmt)
        if out is None:
            sys.stdout.write(content)
            return
        out.write_text(content, encoding="utf-8")
        err_console().print(f"wrote {len(labels)} labels to {out}", markup=False)

    @labels_app.command("import")
    def labels_import(
        file: Annotated[Path, typer.Argument(
            help="A file exported by doxwatch, doccano or Label Studio (Export → JSON).",
            dir_okay=False)],
        fmt: Annotated[str, typer.Option(
            "--format", help="jsonl, csv, doccano or label-studio.")] = "jsonl",
        analyst: Annotated[str | None, typer.Option(
            "--analyst", help="For records that name no analyst (else [label] analyst, else "
            "the login name).")] = None,
    ) -> None:
        """Store labels from a file; every line is checked first, and a file with a bad line
        imports nothing. Importing the same file twice stores nothing new."""
        from monitor.labels_io import import_labels

        try:
            content = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise UsageProblem(f"cannot read {file}: {error}") from error
        who = analyst or state.config().label.analyst or getpass.getuser()
        report = import_labels(state.database(), content, fmt, who)
        for error in report.errors:
            err_console().print(f"rejected {error}", markup=False)
        if report.errors:
            err_console().print(f"nothing imported: {len(report.errors)} records rejected",
                                markup=False)
            raise typer.Exit(1)
        out_console().print(f"{report.imported} labels imported, {report.unchanged} unchanged")

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
            "--plain", help="One line per post, one command per line, for scripts and "
            "screen readers (also used when the terminal is not interactive).")] = False,
        exclusive: Annotated[bool, typer.Option(
            "--exclusive", help="Never show a post another --exclusive session is showing "
            "(leases expire after [label] lease_minutes).")] = False,
    ) -> None:
        """Label posts, most uncertain first: 1 2 3 toggle medical, doxxing, biometric and
        Enter saves them, 0 benign, a accept the model, s skip, u undo, n note, ? help,
        q quit. In --plain mode each line is one command (13 saves medical + biometric).
        What counts as an offer is in docs/labelling.md."""
        from datetime import timedelta

        from monitor.classify import classify_pending
        from monitor.label_leases import Leases
        from monitor.label_session import open_session, run_line_mode

        config, db = state.config(), state.database()
        who = analyst or config.label.analyst or getpass.getuser()
        classifier = state.classifier()
        classify_pending(db, classifier)
        leases = Leases(db, who, timedelta(minutes=config.label.lease_minutes)) \
            if exclusive else None
        session = open_session(db, classifier.version, classifier.thresholds, who, leases,
                               order=order, source=source, since=_date(since),
                               category=category, limit=limit)
        full_screen = not plain and sys.stdin.isatty() and sys.stdout.isatty()
        err_console().print(f"{who}: {len(session.queue)} posts to label ({order})"
                            + ("" if full_screen else "; ? for help"), markup=False)
        console = out_console()
        try:
            if full_screen:
                from monitor.label_screen import LabelScreen
                from monitor.label_session import summary

                LabelScreen(session, f"{who} · {order}").run()
                console.print(summary(session), markup=False)
            else:
                run_line_mode(session, _read_line, lambda line: console.print(line, markup=False))
        finally:
            session.close()


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
