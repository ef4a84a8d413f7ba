"""``doxwatch evaluate``: the active model against the keyword baseline on labelled texts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from monitor.cli.state import State, out_console
from monitor.errors import UsageProblem

_SIDES = ("model", "baseline")


def register(app: typer.Typer, state: State) -> None:
    @app.command()
    def evaluate(
        data: Annotated[list[Path] | None, typer.Option(
            "--data", help='JSON lines {"text", "labels"} (optional "genre"); repeat for '
            "several files. Default: the shipped held-out split, the held-out real public "
            "texts and the blind set.", dir_okay=False)] = None,
        as_json: Annotated[bool, typer.Option(
            "--json", help="Print one JSON object, for machines.")] = False,
    ) -> None:
        """Precision, recall and F1 of the active model and of a keyword baseline, side by
        side, on each evaluation set."""
        from models.dataset import DatasetError, evaluation_sets
        from models.evaluate import evaluate as run_evaluation

        sets = {path.stem: path for path in data} if data else evaluation_sets()
        classifier = state.classifier()
        try:
            reports = {name: run_evaluation(classifier, path) for name, path in sets.items()}
        except DatasetError as error:
            raise UsageProblem(str(error)) from error
        if as_json:
            out_console().print_json(json.dumps(
                {"model": classifier.version, "sets": reports}, ensure_ascii=False))
            return
        console = out_console()
        for report in reports.values():
            print_report(console, report)
        if len(reports) > 1:
            print_summary(console, reports)


def print_summary(console: Console, reports: dict[str, dict]) -> None:
    """One row per evaluation set: the figures that decide whether a model is better."""
    table = Table("set", "texts", *(f"{side[0].upper()}:{figure}" for side in _SIDES
                                    for figure in ("offer R", "FP rate", "macro F1")),
                  title="Every set side by side: model | keyword baseline", box=box.SIMPLE_HEAD)
    for name, report in reports.items():
        table.add_row(name, str(report["examples"]), *(
            cell for side in _SIDES for cell in (
                f"{report[side]['offer']['recall']:.3f}",
                f"{report[side]['false_positive_rate']:.2%}",
                f"{report[side]['macro_f1']:.3f}")))
    console.print(table)


def print_report(console: Console, report: dict) -> None:
    """The figures of ``models.evaluate.evaluate`` as tables, model and baseline side by side."""
    from models import CATEGORIES

    model, baseline = report["model"], report["baseline"]
    console.print(f"{report['data']}: {report['examples']} texts, {report['offers']} offers, "
                  f"{report['benign']} benign", markup=False)
    console.print(f"model {model['version']} vs keyword baseline", markup=False)
    scores = Table(title="Precision (P), recall (R) and F1: model | keyword baseline",
                   box=box.SIMPLE_HEAD)
    scores.add_column("", no_wrap=True)
    for side in _SIDES:
        for figure in ("P", "R", "F1"):
            scores.add_column(f"{side[0].upper()}:{figure}", justify="right")
    scores.add_column("n", justify="right")
    for row in (*CATEGORIES, "offer"):
        scores.add_row(row, *(f"{report[side][row][figure]:.3f}" for side in _SIDES
                              for figure in ("precision", "recall", "f1")),
                       str(model[row]["support"]))
    scores.add_row("macro F1", "", "", f"{model['macro_f1']:.3f}",
                   "", "", f"{baseline['macro_f1']:.3f}", "")
    console.print(scores)

    confusion = Table("offer vs benign", *_SIDES, title="Confusion")
    for cell in ("true_offer", "missed_offer", "false_alarm", "true_benign"):
        confusion.add_row(cell.replace("_", " "),
                          *(str(report[side]["confusion"][cell]) for side in _SIDES))
    confusion.add_row("false-positive rate",
                      *(f"{report[s]['false_positive_rate']:.2%}" for s in _SIDES))
    console.print(confusion)

    genres = Table("benign genre", "texts", *(f"{side} flagged" for side in _SIDES),
                   title="False positives per benign genre")
    for genre, figures in model["benign_genres"].items():
        genres.add_row(genre, str(figures["texts"]), *(
            f"{report[s]['benign_genres'][genre]['flagged']} "
            f"({report[s]['benign_genres'][genre]['rate']:.1%})" for s in _SIDES))
    console.print(genres)
