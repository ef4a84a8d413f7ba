"""Commands that bring posts in and keep the loop going: crawl, worker, ingest, run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli.digest import print_digest_report
from monitor.cli.state import State, counted, err_console, open_input, out_console
from monitor.terminal import plain

if TYPE_CHECKING:  # the crawl machinery loads only for commands that crawl
    from monitor.crawl import CrawlSummary


def register(app: typer.Typer, state: State) -> None:
    @app.command()
    def crawl(
        sources: Annotated[list[str] | None, typer.Argument(
            help="Source names to crawl (default: every enabled source).")] = None,
    ) -> None:
        """Crawl sources now and store their posts (exit 1 if a source failed). SIGINT or
        SIGTERM stops the crawl gracefully: the runs are recorded interrupted with what
        they brought, and the exit status is 128 + the signal's number (130, 143)."""
        from monitor.crawl import crawl as run_crawl
        from monitor.crawl import stop_on_signals

        config, db = state.config(), state.database()
        with stop_on_signals() as stop:
            summaries = run_crawl(config, db, sources or (), debug=state.debug)
        print_crawls(summaries)
        if stop.signum:
            raise typer.Exit(128 + stop.signum)
        if any(s.status == "failed" for s in summaries):
            raise typer.Exit(1)

    @app.command()
    def worker(
        idle_exit: Annotated[float | None, typer.Option(
            "--idle-exit", min=0, help="Stop once every queue has been empty this many "
            "seconds (default: run until stopped).")] = None,
    ) -> None:
        """Work on the crawls shared through Redis ([crawl] backend = "redis"): any number
        of workers on any number of machines take requests from the same queues, and no
        page is fetched twice in one crawl. `doxwatch crawl` seeds the queues."""
        from monitor.crawl import work

        outcomes = work(state.config(), state.database(), idle_exit=idle_exit,
                        debug=state.debug)
        console = out_console()
        for name, outcome in outcomes.items():
            failures = outcome.get("failures") or []
            console.print(f"{name}: {outcome['items']} posts from {outcome.get('pages', 0)} "
                          f"pages" + (f", {len(failures)} failures" if failures else ""),
                          markup=False)

    @app.command()
    def ingest(
        file: Annotated[str, typer.Argument(
            help="JSON lines file of posts collected elsewhere, or - for stdin.")],
        source: Annotated[str, typer.Option(
            "--source", "-s", help="The source these posts belong to: a configured one, or "
            "any other name for posts another tool collected (recorded, never crawled).")],
    ) -> None:
        """Store posts given as JSON lines {"id","url","title","text","author","posted_at"}."""
        from monitor.config import external_source
        from monitor.ingest import ingest_lines

        config = state.config()
        source_config = next((s for s in config.sources if s.name == source), None)
        if source_config is None:
            source_config = external_source(source)
            err_console().print(f"{source}: not in the configuration, recorded as an external "
                                "source (never crawled)", markup=False)
        lines = open_input(file)
        report = ingest_lines(state.database(), source_config, lines)
        for error in report.errors:
            err_console().print(f"skipped {error}", markup=False)
        out_console().print(f"{report.new} new, {report.updated} updated, "
                            f"{len(report.errors)} skipped")
        if report.errors:
            raise typer.Exit(1)

    @app.command()
    def run(
        once: Annotated[bool, typer.Option(
            "--once", help="Run every job once (crawl, classify, digest) and exit.")] = False,
    ) -> None:
        """Run the scheduler: each source on its cron, the digest on its cron."""
        from monitor.scheduler import run_forever, run_once

        config, db = state.checked_config(), state.database()
        if not once:
            state.log_verbosely()
            err_console().print(f"doxwatch: {len(config.sources)} sources, digest at "
                                f"'{config.digest.schedule}' ({config.digest.timezone}); "
                                "Ctrl-C to stop")
            run_forever(config, db, debug=state.debug)
            return
        report = run_once(config, db, debug=state.debug)
        print_crawls(report.crawls)
        if report.stopped_by:
            raise typer.Exit(128 + report.stopped_by)
        out_console().print(f"classified {counted(report.classified.classified, 'post')}, "
                            f"{counted(report.classified.flagged, 'offer')}")
        print_digest_report(report.digest)
        if not report.ok:
            raise typer.Exit(1)


def print_crawls(summaries: list[CrawlSummary]) -> None:
    console = out_console()
    for s in summaries:
        line = f"{s.source}: {s.status}, {s.items} items, {s.new_posts} new"
        console.print(plain(line + (f" — {s.error}" if s.error else "")))
