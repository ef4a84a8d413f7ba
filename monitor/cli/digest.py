"""The digest command."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli.state import State, counted, out_console

if TYPE_CHECKING:  # the judging stack loads only for commands that judge
    from monitor.digest import DigestReport


def register(app: typer.Typer, state: State) -> None:
    @app.command()
    def digest(
        dry_run: Annotated[bool, typer.Option(
            "--dry-run", help="Print the next digest; send and record nothing.")] = False,
    ) -> None:
        """Send what was flagged since the last digest to the configured channels."""
        from alerts.render import render_text
        from monitor.classify import classify_pending
        from monitor.digest import preview_digest, run_digest

        config, db = state.checked_config(), state.database()
        classifier = state.classifier()
        if dry_run:
            out_console().print(render_text(preview_digest(config, db, classifier)),
                                markup=False)
            return
        classify_pending(db, classifier)
        report = run_digest(config, db, classifier.version)
        print_digest_report(report)
        if report.failed:
            raise typer.Exit(1)


def print_digest_report(report: DigestReport) -> None:
    console = out_console()
    if report.digest is None:
        console.print("digest: nothing new since the last digest")
    else:
        console.print(f"digest {report.digest.id}: {counted(len(report.digest.entries), 'offer')}")
    for d in report.deliveries:
        line = f"  digest {d.digest_id} → {d.channel}: {d.status}"
        console.print(line + (f" ({d.error})" if d.error else ""), markup=False)
