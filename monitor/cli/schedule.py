"""The schedule command: what the scheduler will run, when, and what it missed."""

from __future__ import annotations

from datetime import datetime

import typer

from monitor.cli.state import State, out_console


def register(app: typer.Typer, state: State) -> None:
    @app.command()
    def schedule() -> None:
        """List every job: its trigger, its next run (in [digest] timezone), missed runs."""
        from monitor.scheduler import read_schedule

        report = read_schedule(state.config(), state.database())
        console = out_console()
        console.print(f"Scheduler: running, {report.running}" if report.running
                      else "Scheduler: not running (`doxwatch run` starts it)", markup=False)
        console.print(f"Times in {report.timezone}.", markup=False)
        rows = [(job.name, job.trigger, _next(job.next_run), _state(job, report.running))
                for job in report.jobs]
        widths = [max((len(row[i]) for row in rows), default=0) for i in range(3)]
        for row in rows:
            line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
            console.print(f"{line}  {row[3]}".rstrip(), markup=False)


def _next(moment: datetime | None) -> str:
    return f"next {moment:%Y-%m-%d %H:%M %Z}" if moment else "next: never"


def _state(job, running: str | None) -> str:
    parts = []
    if job.missed:
        runs = "1 run" if job.missed == 1 else f"{job.missed} runs"
        when = f"{job.missed_since:%Y-%m-%d %H:%M}"
        then = ("the scheduler is behind" if running
                else "done once when `doxwatch run` starts")
        parts.append(f"MISSED {runs} since {when}: {then}")
    if job.note:
        parts.append(job.note)
    return "; ".join(parts)
