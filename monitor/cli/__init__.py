"""The ``doxwatch`` command: a Typer app, one module per command family.

Commands parse options and call library functions that return data; this module turns
the library's errors into one line on stderr and an exit status (0 done, 1 failed,
2 bad usage or configuration), with the traceback only under ``--debug``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from monitor.cli import classify as _classify
from monitor.cli import crawl as _crawl
from monitor.cli import digest as _digest
from monitor.cli import evaluate as _evaluate
from monitor.cli import label as _label
from monitor.cli import posts as _posts
from monitor.cli import schedule as _schedule
from monitor.cli import setup as _setup
from monitor.cli import train as _train
from monitor.cli.state import State, stderr_log
from monitor.errors import DoxwatchError, UsageProblem

app = typer.Typer(
    name="doxwatch",
    help="Watch public places for offers of medical records and 开盒 lookups; "
    "send a daily digest of what is for sale.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain usage errors: a short message, not a box
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state = State()


@app.callback()
def _global(
    config: Annotated[Path | None, typer.Option(
        "--config", "-c", help="Configuration file (else $DOXWATCH_CONFIG, else ./doxwatch.toml).",
        dir_okay=False)] = None,
    db: Annotated[str | None, typer.Option(
        "--db", help="Database URL, overriding the configuration's [database] url.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and crawl logs.")] = False,
    version: Annotated[bool, typer.Option(
        "--version", help="Print the version and exit.", is_eager=True,
        callback=lambda shown: _print_version(shown))] = False,
) -> None:
    _state.reset(config_path=config, db_url=db, debug=debug)


for module in (_setup, _crawl, _classify, _evaluate, _train, _digest, _posts, _label,
               _schedule):
    module.register(app, _state)


def _print_version(shown: bool) -> None:
    if shown:
        from monitor.config import package_version

        sys.stdout.write(f"doxwatch {package_version()}\n")
        raise typer.Exit()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script.

    Typer (click) reports usage errors itself (exit 2); what the library raises is
    turned into one line here, so a user never meets a traceback without ``--debug``.
    """
    with stderr_log() as handler:
        _state.log_handler = handler
        _run(argv)


def _run(argv: list[str] | None) -> None:
    try:
        app(args=argv, prog_name="doxwatch")
    except DoxwatchError as error:
        if _state.debug:
            raise
        _fail(str(error), 2 if isinstance(error, UsageProblem) else 1)
    except Exception as error:  # noqa: BLE001 - one line, not a traceback, unless --debug
        if _state.debug:
            raise
        _fail(f"{type(error).__name__}: {error} (run with --debug for details)", 1)


def _fail(message: str, status: int) -> None:
    sys.stderr.write(f"Error: {message}\n")
    sys.exit(status)


__all__ = ["app", "main"]
