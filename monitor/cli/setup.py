"""Commands that set things up or look at them: init, db upgrade, status, demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from monitor.cli.state import State, counted, out_console
from monitor.db import mask_url, upgrade_database
from monitor.errors import UsageProblem
from monitor.terminal import plain


def register(app: typer.Typer, state: State) -> None:
    db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
    app.add_typer(db_app, name="db")

    @app.command()
    def init(
        path: Annotated[Path, typer.Argument(help="Where to write the starter file.")] = Path(
            "doxwatch.toml"),
        force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    ) -> None:
        """Write a commented starter configuration file."""
        from monitor.config import STARTER_CONFIG

        if path.exists() and not force:
            raise UsageProblem(f"{path} exists; use --force to overwrite it")
        path.write_text(STARTER_CONFIG, encoding="utf-8")
        out_console().print(f"Wrote {path}. Edit it, then run: doxwatch --config {path} status")

    @db_app.command("upgrade")
    def db_upgrade() -> None:
        """Bring the database schema up to date (Alembic migrations)."""
        url = state.config().database_url
        revision = upgrade_database(url)
        out_console().print(f"{mask_url(url)} is at revision {revision}")

    @app.command()
    def status() -> None:
        """Sources and their last runs, post counts, the active model, the last digest."""
        from monitor.status import collect_status

        report = collect_status(state.checked_config(), state.database())
        _print_status(report)

    @app.command()
    def demo(
        db: Annotated[Path | None, typer.Option(
            "--db", help="Keep the demo database in this SQLite file.")] = None,
        out: Annotated[Path | None, typer.Option(
            "--out", help="Folder for the HTML digest (default: a temporary folder).")] = None,
    ) -> None:
        """Crawl the built-in demo site, classify, and show the digest."""
        from monitor.demo import run_demo

        console = out_console()
        console.print("[bold]doxwatch demo[/]: serving the demo site on loopback, crawling it…")
        report = run_demo(db, out, debug=state.debug)
        console.print("[bold]Summary[/]")
        for run in report.crawls:
            console.print(f"  crawled {run.source}: {run.status}, {run.items} posts"
                          + (f" ({run.error})" if run.error else ""))
        console.print(f"  classified {counted(report.classified.classified, 'post')} with model "
                      f"{report.classified.model_version}: "
                      f"{counted(report.classified.flagged, 'offer')}")
        for path in report.html_files:
            console.print(f"HTML digest: {path}")
        console.print(f"Database: {report.database_url}" if report.database_url else
                      "Database: thrown away (--db FILE keeps it)")
        if report.digest.failed or any(r.status == "failed" for r in report.crawls):
            raise typer.Exit(1)


def _model_line(report) -> str:
    if report.model is None:
        return "none yet (trained on first use)"
    if report.model_problem is None:
        return f"{report.model} (loads)"
    return (f"{report.model} DOES NOT LOAD: {report.model_problem}; the next command that "
            "classifies trains a replacement from the shipped data")


def _print_status(report) -> None:
    console = out_console()
    console.print(f"Configuration: {report.config_path or 'built-in defaults'}")
    console.print(f"Database: {report.database}")
    console.print(f"Posts: {report.posts}  flagged: {report.flagged}  "
                  f"not yet classified: {report.unclassified}")
    console.print(f"Active model: {_model_line(report)}", markup=False)
    console.print(f"Last digest: {report.last_digest or 'never'}"
                  + (f"  (deliveries waiting for retry: {report.failed_deliveries})"
                     if report.failed_deliveries else ""))
    if report.immediate is not None:
        sent, suppressed = report.immediate
        console.print(f"Immediate alerts, last 24 h: {sent} sent, {suppressed} suppressed")
    if report.given_up:
        from alerts.render import RETRY_GIVEN_UP, undelivered_text

        console.print(f"Not delivered ({RETRY_GIVEN_UP} tries again once the channel works):",
                      markup=False, soft_wrap=True)
        for item in report.given_up:  # unwrapped: an error is copied and searched for
            console.print(plain(f"  {undelivered_text(item)}"), soft_wrap=True)
    if not report.sources:
        console.print("No sources configured.")
        return
    table = Table("source", "kind", "schedule", "posts", "last run", "pages", "took",
                  "status", "health")
    for s in report.sources:
        table.add_row(s.name, s.kind, s.schedule, str(s.posts), s.last_run or "never",
                      str(s.pages), f"{s.seconds:.0f} s" if s.seconds is not None else "",
                      s.last_status or "", "BROKEN" if s.broken else "ok")
    console.print(table)
    for s in report.sources:
        if s.broken:
            console.print(plain(f"broken: {s.name}: {s.broken}"))
