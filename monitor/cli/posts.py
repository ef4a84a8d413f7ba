"""Looking at stored posts: posts list, posts show."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from monitor.cli.state import State, out_console
from monitor.terminal import plain


def register(app: typer.Typer, state: State) -> None:
    posts_app = typer.Typer(help="Stored posts.", no_args_is_help=True)
    app.add_typer(posts_app, name="posts")

    @posts_app.command("list")
    def posts_list(
        flagged: Annotated[bool, typer.Option(
            "--flagged", help="Only posts the active model flags as offers.")] = False,
        source: Annotated[str | None, typer.Option("--source", help="Only this source.")] = None,
        limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many.")] = 50,
        since: Annotated[str | None, typer.Option(
            "--since", help="Only posts first seen at or after this: 2026-12-01, "
                            "\"2026-12-01 09:00\" (in [digest] timezone unless an offset is "
                            "given) or 2d / 12h / 30m ago.")] = None,
        until: Annotated[str | None, typer.Option(
            "--until", help="Only posts first seen at or before this (as --since).")] = None,
    ) -> None:
        """The newest posts, with the active model's verdict."""
        from monitor.posts import list_posts, parse_moment

        timezone = state.config().digest.timezone
        rows = list_posts(
            state.database(), flagged=flagged, source=source, limit=limit,
            since=parse_moment(since, timezone, "--since") if since else None,
            until=parse_moment(until, timezone, "--until") if until else None)
        table = Table("id", "source", "first seen", "labels", "title")
        for row in rows:
            table.add_row(str(row.id), plain(row.source), row.first_seen,
                          ", ".join(row.labels) or "-", plain((row.title or row.text)[:60]))
        out_console().print(table)

    @posts_app.command("show")
    def posts_show(post_id: Annotated[int, typer.Argument(help="Post id.")]) -> None:
        """One post in full: text, judgements, entities, labels."""
        from monitor.posts import show_post

        detail = show_post(state.database(), post_id)
        console = out_console()
        console.print(Text.assemble((f"#{detail.id}", "bold"),
                                    plain(f" {detail.source}  {detail.url}")))
        console.print(plain(f"title: {detail.title or '-'}"))
        console.print(plain(f"author: {detail.author or '-'}  posted: {detail.posted_at or '-'}"
                            f"  first seen: {detail.first_seen}"))
        console.print(plain(detail.text, keep_newlines=True))
        for p in detail.predictions:
            console.print(f"model {p['model_version']}: {', '.join(p['labels']) or 'benign'} "
                          f"{p['scores']}", markup=False)
        for kind, value in detail.entities:
            console.print(plain(f"  {kind}: {value}"))
