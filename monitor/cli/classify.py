"""Commands of judgement: classify (texts, JSON lines, or stored posts) and models."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from monitor.cli.state import State, counted, err_console, open_input, out_console
from monitor.errors import UsageProblem


def register(app: typer.Typer, state: State) -> None:
    models_app = typer.Typer(help="Trained model versions.", no_args_is_help=True)
    app.add_typer(models_app, name="models")

    @app.command()
    def classify(
        texts: Annotated[list[str] | None, typer.Argument(
            help="Texts to judge, for a person at a terminal.")] = None,
        input_: Annotated[str | None, typer.Option(
            "--input", "-i", help='JSON lines {"id","text"} from a file, or - for stdin; '
            "one JSON line out per line in, same order.")] = None,
        explain: Annotated[bool, typer.Option(
            "--explain", help="Show the terms that pushed each judgement.")] = False,
    ) -> None:
        """Classify texts; with no text and no --input, judge the stored posts not yet judged."""
        from monitor.classify import classify_pending

        if texts and input_:
            raise UsageProblem("give texts or --input, not both")
        classifier = state.classifier()
        if input_:
            failed = _classify_stream(classifier, input_, explain)
            if failed:
                raise typer.Exit(1)
        elif texts:
            _classify_texts(classifier, texts, explain)
        else:
            report = classify_pending(state.database(), classifier)
            out_console().print(f"classified {counted(report.classified, 'post')} with model "
                                f"{report.model_version}: {counted(report.flagged, 'offer')}")
            if state.config().immediate is not None:
                _immediate_alerts(state, report.model_version)

    @models_app.command("list")
    def models_list() -> None:
        """Model versions, their metrics, and which one is active."""
        from models import CATEGORIES
        from monitor.modelstore import list_models

        table = Table("active", "version", "created", "macro F1")
        table.add_column("training texts", no_wrap=True)
        for m in list_models(state.database()):
            f1s = [m.metrics.get(c, {}).get("f1") for c in CATEGORIES]
            macro = sum(f1s) / len(f1s) if all(isinstance(f, float) for f in f1s) else None
            table.add_row("*" if m.active else "", m.version,
                          m.created_at.isoformat(timespec="seconds"),
                          f"{macro:.3f}" if macro is not None else "",
                          _texts(m.training_summary))
        out_console().print(table)

    @models_app.command("activate")
    def models_activate(version: Annotated[str, typer.Argument(help="Model version.")]) -> None:
        """Make VERSION the model that judges new posts."""
        from monitor.modelstore import activate

        info = activate(state.database(), version)
        out_console().print(f"model {info.version} is active")


def _texts(summary: dict) -> str:
    """The training texts, and how many analysts' labels were among them."""
    labels = summary.get("analyst_labels")
    if not labels:
        return str(summary.get("examples", ""))
    return f"{summary['examples'] - summary.get('analyst_posts', 0)} +{labels} analyst labels"


def _classify_stream(classifier, source: str, explain: bool) -> bool:
    """Write one JSON line per input line; True if any line could not be judged."""
    from monitor.classify import classify_lines

    stream = open_input(source)
    failed = False
    for result in classify_lines(classifier, stream, explain=explain):
        sys.stdout.write(result.line + "\n")
        if result.error:
            failed = True
            err_console().print(f"skipped {result.error}", markup=False)
    sys.stdout.flush()
    return failed


def _classify_texts(classifier, texts: list[str], explain: bool) -> None:
    from models import CATEGORIES

    console = out_console()
    for text, judgement in zip(texts, classifier.predict(texts), strict=True):
        verdict = ("[bold red]OFFER[/] " + ", ".join(judgement.labels)
                   if judgement.is_offer else "[green]benign[/]")
        scores = "  ".join(f"{c} {judgement.scores[c]:.0%}" for c in CATEGORIES)
        console.print(f"{verdict}  ({scores})")
        console.print(f"  {text[:120]}", markup=False)
        if explain and judgement.terms:
            console.print("  because: " + ", ".join(
                f"{term} ({weight:+.2f})" for term, weight in judgement.terms), markup=False)


def _immediate_alerts(state: State, version: str) -> None:
    """Send the immediate alerts for what was just flagged; exit 1 if a send failed (the
    outbox retries it)."""
    from monitor.immediate import send_immediate

    report = send_immediate(state.config(), state.database(), version)
    out_console().print(f"immediate alerts: {report.sent} sent, "
                        f"{report.suppressed} suppressed")
    for failure in report.failed:
        err_console().print(f"immediate alert {failure.digest_id} -> {failure.channel}: "
                            f"failed ({failure.error})", markup=False)
    if report.failed:
        raise typer.Exit(1)
