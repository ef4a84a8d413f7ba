"""The text near-duplicates are compared on, and a helper process that makes it for many posts.

Normalising is most of the time clustering takes (``models.normalize``, about 20 µs a post),
and it is pure Python, so a second CPU is the one way to make it quicker: for a batch of at
least :data:`HELPER_FROM` distinct texts, :class:`Features` hands :data:`HELPER_SHARE` of
them to a helper process (``python -m monitor.cluster_text``: a JSON list of texts on
standard input, the JSON list of feature strings on standard output) and the caller does
other work meanwhile. This module imports nothing heavy, so the helper starts in a tenth of
a second. Anything that goes wrong with the helper (it cannot start, fails, is killed) only
means its share is computed here instead: the result is the same either way.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Sequence

from models.normalize import normalize

FEATURE_CHARS = 2_000  # a post can be 100,000 characters; an ad is in its beginning
HELPER_FROM = 20_000  # distinct texts; fewer take less time than a helper takes to start
HELPER_SHARE = 0.7  # of the distinct texts; the caller has other work to do meanwhile
HELPER_TIMEOUT = 600.0  # seconds, after the caller has done its share

_NOT_WORD = re.compile(r"[\W_]+")


def feature_text(text: str) -> str:
    """What similarity is measured on: the normalised text, letters, digits and CJK only."""
    return _NOT_WORD.sub("", normalize(text[:FEATURE_CHARS]))


class Features:
    """The feature strings of ``texts``, in their order; :meth:`result` waits for them.

    Each distinct text is normalised once (exact reposts are common). With enough of them
    and a second CPU, a helper process starts on its share at once.
    """

    def __init__(self, texts: Sequence[str], *, helper_from: int | None = None) -> None:
        self._texts = texts
        self._distinct = list(dict.fromkeys(texts))
        threshold = HELPER_FROM if helper_from is None else helper_from
        self._split = 0
        self._helper: _Helper | None = None
        if len(self._distinct) >= max(threshold, 2) and _cpus() > 1:
            self._split = int(len(self._distinct) * HELPER_SHARE)
            self._helper = _Helper.start(self._distinct[:self._split])
            if self._helper is None:
                self._split = 0

    @property
    def helped(self) -> bool:
        """Whether a helper process took a share."""
        return self._helper is not None

    def result(self) -> list[str]:
        mine = [feature_text(text) for text in self._distinct[self._split:]]
        theirs = self._helper.result() if self._helper is not None else []
        if len(theirs) != self._split:  # the helper failed: its share is done here
            theirs = [feature_text(text) for text in self._distinct[:self._split]]
        found = dict(zip(self._distinct, theirs + mine, strict=True))
        return [found[text] for text in self._texts]


class _Helper:
    """``python -m monitor.cluster_text`` working on ``texts``; threads feed and drain its
    pipes, so neither side waits on the other."""

    def __init__(self, process: subprocess.Popen[bytes], texts: list[str]) -> None:
        self._process = process
        self._output: list[bytes] = []
        self._writer = threading.Thread(target=self._write, args=(_encode(texts),),
                                        daemon=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._writer.start()
        self._reader.start()

    @classmethod
    def start(cls, texts: list[str]) -> _Helper | None:
        if not sys.executable:
            return None
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "monitor.cluster_text"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except OSError:
            return None
        return cls(process, texts)

    def _write(self, data: bytes) -> None:
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(data)
            self._process.stdin.close()
        except OSError:  # the helper died: result() notices
            pass

    def _read(self) -> None:
        assert self._process.stdout is not None
        self._output.append(self._process.stdout.read())

    def result(self) -> list[str]:
        """The helper's feature strings, or [] if it failed."""
        self._reader.join(HELPER_TIMEOUT)
        if self._reader.is_alive():
            self._process.kill()
            self._reader.join()
        self._writer.join()
        if self._process.wait() != 0 or not self._output:
            return []
        try:
            found = json.loads(self._output[0])
        except ValueError:
            return []
        return found if isinstance(found, list) else []


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _encode(texts: list[str]) -> bytes:
    """JSON, never pickle, even between a process and its own helper: the texts are
    scraped, and a pickle stream is code."""
    return json.dumps(texts, ensure_ascii=False).encode("utf-8", "surrogatepass")


def main() -> None:
    """The helper: texts in, feature strings out (JSON lists)."""
    texts = json.loads(sys.stdin.buffer.read().decode("utf-8", "surrogatepass"))
    sys.stdout.buffer.write(_encode([feature_text(text) for text in texts]))


if __name__ == "__main__":
    main()
