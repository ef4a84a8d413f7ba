"""The digest on standard output (or any text stream): for a person at a terminal and the demo."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO

import httpx

from alerts.channels.base import Channel
from alerts.channels.options import Option, one_of
from alerts.digest import Digest
from alerts.errors import DeliveryError
from alerts.render import render_markdown, render_text

RENDERERS = {"text": render_text, "markdown": render_markdown}


class StdoutChannel(Channel[str]):
    kind = "stdout"
    OPTIONS = {"format": Option(one_of(*RENDERERS), default="text")}

    def __init__(
        self,
        name: str,
        options: Mapping[str, Any],
        *,
        env: Mapping[str, str],
        client: httpx.Client | None = None,
        dry_run: bool = False,
        stream: TextIO | None = None,
    ) -> None:
        """``stream`` defaults to the ``sys.stdout`` of the moment of sending, so redirections
        made after construction (the CLI's, pytest's) are honoured."""
        super().__init__(name, options, env=env, client=client, dry_run=dry_run)
        self._stream = stream

    def prepare(self, digest: Digest) -> str:
        return RENDERERS[self.options["format"]](digest)

    def deliver(self, message: str) -> None:
        stream = self._stream or sys.stdout
        try:
            stream.write(message)
            stream.flush()
        except OSError as error:
            raise DeliveryError(f"cannot write to standard output: {error}") from error

    def describe(self, message: str) -> str:
        return f"{len(message.splitlines())} lines of {self.options['format']} to standard output"
