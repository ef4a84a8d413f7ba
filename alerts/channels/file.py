"""Digest files in a folder: the HTML to open in a browser, text, Markdown or JSON for tools.

Each file is written to a temporary name and renamed into place, so a reader (a web server,
a sync tool, the analyst) never sees half a digest. Files are readable by the owner only
(``mkstemp``'s mode): they quote posts that sell people's data.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx

from alerts.channels.base import Channel
from alerts.channels.options import Option, subset_of, text
from alerts.digest import Digest
from alerts.errors import DeliveryError
from alerts.render import render_html, render_markdown, render_text


def _render_json(digest: Digest) -> str:
    return json.dumps(digest.to_dict(), ensure_ascii=False, indent=2) + "\n"


RENDERERS: dict[str, Callable[[Digest], str]] = {
    "html": render_html,
    "txt": render_text,
    "md": render_markdown,
    "json": _render_json,
}


class FileChannel(Channel[dict[Path, str]]):
    kind = "file"
    OPTIONS = {
        "path": Option(text, required=True, path=True),
        "formats": Option(subset_of(*RENDERERS), default=["html", "txt"]),
    }

    def configure(self, env: Mapping[str, str], client: httpx.Client | None) -> None:
        self.directory = Path(self.options["path"]).expanduser()
        # The files the last successful send wrote, in ``formats`` order: the demo says where.
        self.last_paths: tuple[Path, ...] = ()

    def prepare(self, digest: Digest) -> dict[Path, str]:
        return {
            self.directory / f"digest-{digest.key}.{extension}": RENDERERS[extension](digest)
            for extension in self.options["formats"]
        }

    def deliver(self, message: dict[Path, str]) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for path, content in message.items():
                write_atomically(path, content)
        except OSError as error:
            raise DeliveryError(
                f"cannot write to {self.directory}: {error.strerror or error}"
            ) from error
        self.last_paths = tuple(message)

    def describe(self, message: dict[Path, str]) -> str:
        return "files " + ", ".join(str(path) for path in message)


def write_atomically(path: Path, content: str) -> None:
    """Write to a temporary file beside ``path``, then rename it over ``path``."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                             suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(content)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
