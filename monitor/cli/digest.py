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
        retry_given_up: Annotated[bool, typer.Option(
            "--retry-given-up",
            help="Also retry deliveries that failed [digest] max_attempts times and gave "
                 "up (once the channel is fixed).")] = False,
    ) -> None:
        """Send what was flagged since the last digest to the configured channels.

        Failed deliveries that have not given up are retried at once, whatever their
        backoff: you asked. Given-up ones only with --retry-given-up."""
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
        report = run_digest(config, db, classifier.version,
                            retry="given-up" if retry_given_up else "now")
        print_digest_report(report)
        if report.failed:
            raise typer.Exit(1)


def print_digest_report(report: DigestReport) -> None:
    console = out_console()
    if report.digest is None:
        console.print("digest: nothing new since the last digest")
    else:
        console.print(f"digest {report.digest.id}: {counted(report.digest.total_posts, 'offer')}")
    for d in report.deliveries:
        line = f"  digest {d.digest_id} → {d.channel}: {d.status}"
        detail = d.error or d.note
        console.print(line + (f" ({detail})" if detail else ""), markup=False)
