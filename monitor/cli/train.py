"""``doxwatch train``: learn from the analysts' labels, and take over only if not worse."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from monitor.cli.state import State, err_console, out_console

if TYPE_CHECKING:  # the model stack loads only when the command runs
    from models.predict import Classifier
    from monitor.training import Candidate, TrainingData


def register(app: typer.Typer, state: State) -> None:
    @app.command()
    def train(
        force: Annotated[bool, typer.Option(
            "--force", help="Activate the new model even if it is worse on an evaluation "
            "set.")] = False,
        dry_run: Annotated[bool, typer.Option(
            "--dry-run", help="Train and compare, but save and activate nothing.")] = False,
    ) -> None:
        """Train on the shipped data plus the analysts' labels (the majority label of each
        post; an analyst's label replaces a shipped one of the same text), compare with the
        active model on every evaluation set, and activate the new model only if it is not
        worse there. Exits 1 when the new model is kept inactive for being worse."""
        from monitor.training import adopt, training_data

        db = state.database()
        active = state.classifier()
        data = training_data(db)
        console = out_console()
        _describe_data(console, data)
        if data.version == active.version and not force:
            console.print(f"model {active.version}, active, was trained on exactly this data: "
                          "nothing new to learn (--force trains it again)", markup=False)
            return
        candidate = _train_with_progress(data, active)
        console.print(_comparison(candidate, active.version))
        regressions = candidate.regressions
        version = candidate.classifier.version
        for reason in regressions:
            console.print(f"worse on {reason}", markup=False)
        if dry_run:
            console.print(f"dry run: model {version} was not saved", markup=False)
            return
        activate = force or not regressions
        path = adopt(db, candidate, activate=activate)
        if activate:
            console.print(f"model {version} is active now ({path})", markup=False)
            return
        err_console().print(f"model {version} is worse than the active {active.version}; "
                            f"saved but not activated (`doxwatch models activate {version}` "
                            "or `doxwatch train --force` activates it)", markup=False)
        raise typer.Exit(1)


def _describe_data(console: Console, data: TrainingData) -> None:
    labels = data.analyst
    console.print(
        f"training on {len(data.examples)} texts: {len(data.examples) - len(labels.examples)} "
        f"shipped ({data.replaced} replaced by analysts' labels), {len(labels.examples)} posts "
        f"from {len(labels.label_ids)} analyst labels", markup=False)
    if labels.ties:
        console.print(f"left out, analysts split evenly: {len(labels.ties)} posts ("
                      + ", ".join(f"post {post}" for post in labels.ties[:20])
                      + (", …" if len(labels.ties) > 20 else "") + ")", markup=False)


def _train_with_progress(data: TrainingData, active: Classifier) -> Candidate:
    from monitor.training import train_candidate

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}"
                  "/{task.total} fits"), TimeElapsedColumn(), console=err_console(),
                  transient=True) as bar:
        task = bar.add_task("training", total=None)
        return train_candidate(data, active, progress=lambda done, total: bar.update(
            task, completed=done, total=total,
            description="training" if done < total else "evaluating"))


def _comparison(candidate: Candidate, active_version: str) -> Table:
    table = Table("set", "offer recall", "false positives", "macro F1",
                  title=f"active {active_version} → new {candidate.classifier.version}",
                  box=box.SIMPLE_HEAD)
    for name, (new, active) in candidate.comparison.items():
        table.add_row(name, f"{active['offer']['recall']:.3f} → {new['offer']['recall']:.3f}",
                      f"{active['false_positive_rate']:.2%} → {new['false_positive_rate']:.2%}",
                      f"{active['macro_f1']:.3f} → {new['macro_f1']:.3f}")
    return table
