"""How long does an analyst wait in `doxwatch label`? Run by hand, not by pytest:

    python benchmarks/label_queue.py [--posts 100000] [--keys 300] [--key 0]
                                     [--pg-url URL | --no-pg] [--models-dir DIR]

The figure that matters is the time from a key press to the next post on screen, with
100,000 posts in the database, on SQLite and on PostgreSQL (target: under 50 ms, median and
95th percentile). Each database is made fresh and seeded with bulk inserts: N posts of
50–400 characters cut from the shipped data (seeded, so every run sees the same posts) spread
over three sources and 90 days, each with a prediction of the active model version (random
scores, the labels they imply at the model's thresholds, terms taken from the text) and, for
the posts flagged, a few entities. Then, for plain mode and for ``--exclusive`` (leases):

- the time ``label_queue`` takes to build the queue (the analyst waits for it once, at start);
- the key press → next post latency with the real screen: ``LabelScreen(session).run()``, the
  prompt_toolkit full-screen Application `doxwatch label` runs, reads keys from a pipe input
  and draws through a Vt100 output into an 80×24 in-memory terminal that applies the escape
  sequences as a terminal would. A key (``0``, save as benign, by default) is written to the
  pipe and the clock stops when the terminal flush that makes the second line read
  ``post <next id> · <source>`` arrives; the next key is sent only then. Median, 95th
  percentile and max over ``--keys`` presses, and their ratio to the target;
- where the time of a key goes: the key reaching its handler, ``record_label`` (the save and
  its commit), lease release and claim, the rest of the handler (with leases: the list of the
  queue's remaining ids ``_settle`` builds at every key), ``show_post`` (the next post's
  details, read while the screen is drawn), and the drawing itself (the screen's fragments,
  prompt_toolkit's layout and diff, the write). These are timed with ``time.perf_counter``
  around the session's own calls, wrapped for this process only, and the garbage collector's
  pauses (``gc.callbacks``) within them; the screen's fragment functions (``_header`` …
  ``_footer``) are also timed on their own for one post.

The model is trained on first use (20–90 s here) into ``--models-dir`` (default: a temporary
directory, like ``DOXWATCH_HOME``), so nothing of the user's data directory is read or written.
PostgreSQL: a database ``doxwatch_bench_<random>`` is created through ``--pg-url`` (a database
the user may connect to and create databases from) and dropped at the end, also on error.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

TARGET_MS = 50.0
SHORTEST, LONGEST = 50, 400
ROWS, COLUMNS = 24, 80
BATCH = 5_000
ANALYST = "bench"
SOURCES = (("tieba-bench", "forum"), ("telegram-bench", "telegram"), ("market-bench", "forum"))
DEFAULT_PG = os.environ.get("DOXWATCH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
KEY_TIMEOUT = 30.0  # seconds for the next post to appear before the run is given up


# --- the database ---------------------------------------------------------------------------


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh database on the server of ``admin_url``, dropped when the block ends."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"doxwatch_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def build_texts(count: int, seed: int = 0) -> list[str]:
    """*count* texts of SHORTEST–LONGEST characters cut from the shipped data, deterministically."""
    from models.dataset import load_dataset

    corpus = "\n".join(example.text for example in load_dataset())
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        length = rng.randint(SHORTEST, LONGEST)
        start = rng.randrange(len(corpus))
        texts.append((corpus[start:] + corpus)[:length].strip() or "空")
    return texts


def seed_database(db, count: int, version: str, thresholds: dict[str, float]) -> dict[int, str]:
    """Bulk-insert sources, *count* posts, a prediction each and some entities; returns the
    source name of every post id."""
    from sqlalchemy import insert, select

    from models import CATEGORIES
    from monitor.db.schema import Entity, Post, Prediction, Source

    rng = random.Random(1)
    texts = build_texts(count)
    now = datetime.now(UTC)
    with db.engine.begin() as connection:
        connection.execute(insert(Source), [
            {"name": name, "kind": kind, "urls": [], "options": {}, "schedule": "daily",
             "enabled": True, "created_at": now, "updated_at": now} for name, kind in SOURCES])
        source_ids = dict(connection.execute(select(Source.name, Source.id)).all())
    names = [name for name, _ in SOURCES]
    for start in range(0, count, BATCH):
        rows = []
        for number in range(start, min(count, start + BATCH)):
            text = texts[number]
            seen = now - timedelta(seconds=rng.randrange(90 * 24 * 3600))
            source = names[number % len(names)]
            rows.append({
                "source_id": source_ids[source], "external_id": f"bench-{number}",
                "url": f"https://{source}.invalid/t/{number}" if rng.random() < 0.8 else "",
                "author": f"用户{rng.randrange(10_000)}" if rng.random() < 0.7 else None,
                "title": text[:rng.randint(8, 24)].split("\n")[0] if rng.random() < 0.4 else None,
                "text": text,
                "posted_at": seen - timedelta(minutes=rng.randrange(2880))
                if rng.random() < 0.7 else None,
                "fetched_at": seen, "first_seen_at": seen, "updated_at": seen,
                "text_hash": hashlib.sha256(text.encode()).hexdigest(),
                "simhash": rng.getrandbits(63), "cluster_id": None,
            })
        with db.engine.begin() as connection:
            connection.execute(insert(Post), rows)
    with db.engine.begin() as connection:
        posts = connection.execute(select(Post.id, Post.external_id, Post.source_id)).all()
    source_names = {number: name for name, number in source_ids.items()}
    for start in range(0, len(posts), BATCH):
        predictions, entities = [], []
        for post_id, external_id, _ in posts[start:start + BATCH]:
            text = texts[int(external_id.removeprefix("bench-"))]
            scores = {c: round(rng.betavariate(0.7, 3.0), 4) for c in CATEGORIES}
            if rng.random() < 0.3:  # an offer: one category scores high
                scores[rng.choice(CATEGORIES)] = round(rng.uniform(0.3, 1.0), 4)
            labels = [c for c in CATEGORIES if scores[c] >= thresholds[c]]
            predictions.append({
                "post_id": post_id, "model_version": version, "scores": scores,
                "labels": labels, "is_offer": bool(labels), "terms": _terms(text, rng),
                "created_at": now,
            })
            if labels:
                found = {("qq", str(rng.randrange(10**8, 10**10))),
                         ("price", f"{rng.randrange(50, 5000)}元"),
                         ("service", rng.choice(("户籍", "定位", "开房", "流水", "人脸")))}
                entities += [{"post_id": post_id, "kind": kind, "value": value}
                             for kind, value in sorted(found)[:rng.randint(1, 3)]]
        with db.engine.begin() as connection:
            connection.execute(insert(Prediction), predictions)
            if entities:
                connection.execute(insert(Entity), entities)
    return {post_id: source_names[source_id] for post_id, _, source_id in posts}


def _terms(text: str, rng: random.Random) -> list[list]:
    """3–8 [term, weight] pairs, the terms cut from the text as the model's n-grams are."""
    words = {text[i:i + rng.randint(2, 3)] for i in rng.sample(range(max(1, len(text) - 3)),
                                                               min(8, max(1, len(text) - 3)))}
    words = [w for w in words if w.strip() and "\n" not in w][:rng.randint(3, 8)]
    return [[word, round(rng.uniform(0.05, 2.0), 4)] for word in words]


# --- an 80×24 terminal in memory ------------------------------------------------------------

_TOKEN = re.compile(r"\x1b\[([?0-9;]*) ?([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b.?"
                    r"|[\r\n\b\a]|[^\x1b\r\n\b\a]+")


class Terminal:
    """What prompt_toolkit's Vt100 output writes to, applied to a grid of cells as a terminal
    does (cursor moves, erases, wide characters; colours ignored), so the screen can be read
    even though prompt_toolkit only redraws the cells that changed. Each flush is timed."""

    encoding = "utf-8"

    def __init__(self, rows: int = ROWS, columns: int = COLUMNS) -> None:
        self.rows, self.columns = rows, columns
        self.cells = [[" "] * columns for _ in range(rows)]
        self.x = self.y = 0
        self._pending: list[str] = []
        self._changed = threading.Condition()
        self._wanted: str | None = None
        self._seen_at: float | None = None

    # the stdout of Vt100_Output
    def write(self, data: str) -> int:
        self._pending.append(data)
        return len(data)

    def flush(self) -> None:
        now = time.perf_counter()
        data, self._pending = "".join(self._pending), []
        self._feed(data)
        with self._changed:
            if self._wanted is not None and self.line(1).startswith(self._wanted):
                self._wanted, self._seen_at = None, now
                self._changed.notify_all()

    def expect(self, line_start: str) -> None:
        """Watch for the second line of the screen to start with ``line_start``."""
        with self._changed:
            self._seen_at = None
            self._wanted = line_start
            if self.line(1).startswith(line_start):
                self._wanted, self._seen_at = None, time.perf_counter()

    def wait(self, timeout: float = KEY_TIMEOUT) -> float:
        """When the line expected appeared (perf_counter); RuntimeError after ``timeout``."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._seen_at is not None, timeout):
                raise RuntimeError(f"{self._wanted!r} never appeared; the screen:\n{self.text()}")
            return self._seen_at

    def line(self, row: int) -> str:
        return "".join(self.cells[row])

    def text(self) -> str:
        return "\n".join(self.line(row).rstrip() for row in range(self.rows))

    def _feed(self, data: str) -> None:
        from prompt_toolkit.utils import get_cwidth

        for match in _TOKEN.finditer(data):
            token = match.group()
            if match.group(2) is not None:
                self._control(match.group(1), match.group(2))
            elif token == "\r":
                self.x = 0
            elif token == "\n":
                self._line_feed()
            elif token == "\b":
                self.x = max(0, self.x - 1)
            elif token[0] not in "\x1b\a":
                for char in token:
                    width = get_cwidth(char)
                    if width == 0:
                        continue
                    row = self.cells[self.y]
                    row[self.x] = char
                    if width == 2 and self.x + 1 < self.columns:
                        row[self.x + 1] = ""
                    self.x = min(self.x + width, self.columns - 1)  # autowrap is off

    def _control(self, params: str, final: str) -> None:
        numbers = [int(n) for n in params.lstrip("?").split(";") if n]
        count = numbers[0] if numbers else 1
        if final == "A":
            self.y = max(0, self.y - count)
        elif final == "B":
            self.y = min(self.rows - 1, self.y + count)
        elif final == "C":
            self.x = min(self.columns - 1, self.x + count)
        elif final == "D":
            self.x = max(0, self.x - count)
        elif final == "H":
            row, column = (numbers + [1, 1])[:2]
            self.y, self.x = min(self.rows, max(row, 1)) - 1, min(self.columns, max(column, 1)) - 1
        elif final == "K":
            self._erase(self.y, self.x if not numbers or numbers[0] == 0 else 0)
        elif final == "J":
            if numbers and numbers[0] == 2:
                for row in range(self.rows):
                    self._erase(row, 0)
            else:
                self._erase(self.y, self.x)
                for row in range(self.y + 1, self.rows):
                    self._erase(row, 0)
        elif final == "h" and params == "?1049":  # the alternate screen starts blank
            for row in range(self.rows):
                self._erase(row, 0)

    def _erase(self, row: int, start: int) -> None:
        self.cells[row][start:] = [" "] * (self.columns - start)

    def _line_feed(self) -> None:
        if self.y < self.rows - 1:
            self.y += 1
        else:
            self.cells = self.cells[1:] + [[" "] * self.columns]


# --- driving the screen ---------------------------------------------------------------------


@dataclass
class Probe:
    """perf_counter marks and summed durations of the calls made for the key being timed."""

    spent: dict[str, float] = field(default_factory=dict)
    handler_start: float = 0.0
    handler_end: float = 0.0

    def reset(self) -> None:
        self.spent, self.handler_start, self.handler_end = {}, 0.0, 0.0

    def collecting(self, phase: str, info: dict) -> None:
        """A gc callback: the time the garbage collector runs, counted as a part of its own
        (it falls inside the other parts), full collections noted."""
        if phase == "start":
            self._collect_start = time.perf_counter()
            return
        spent = time.perf_counter() - getattr(self, "_collect_start", time.perf_counter())
        self.spent["garbage collection"] = self.spent.get("garbage collection", 0.0) + spent
        if info.get("generation") == 2:
            self.spent["full collections"] = self.spent.get("full collections", 0) + 1

    def timing(self, name: str, call: Callable, *, handler: bool = False) -> Callable:
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                end = time.perf_counter()
                self.spent[name] = self.spent.get(name, 0.0) + end - start
                if handler:
                    self.handler_start, self.handler_end = start, end
        return timed


@dataclass
class Run:
    database: str
    mode: str
    queue_seconds: float
    queue_size: int
    latencies: list[float]  # seconds
    parts: list[dict[str, float]]  # per key, seconds
    fragments: dict[str, float]  # seconds per call of each fragment function


PARTS = ("key to handler", "record_label", "lease release", "lease claim", "rest of handler",
         "show_post", "draw", "garbage collection")  # the last one falls within the others


def measure(db, database: str, mode: str, classifier, sources: dict[int, str], keys: int,
            key: str) -> Run:
    """Build the queue, then press ``key`` ``keys`` times in the real screen."""
    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.data_structures import Size
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output.vt100 import Vt100_Output

    import monitor.label_session as label_session
    from monitor.label_leases import Leases
    from monitor.label_screen import LabelScreen
    from monitor.label_session import open_session

    leases = Leases(db, ANALYST, timedelta(minutes=15)) if mode == "exclusive" else None
    start = time.perf_counter()
    session = open_session(db, classifier.version, classifier.thresholds, ANALYST, leases,
                           order="uncertain")
    queue = session.queue
    queue_seconds = time.perf_counter() - start

    probe = Probe()
    session.save = probe.timing("save", session.save, handler=True)
    session.skip = probe.timing("save", session.skip, handler=True)
    session.detail = probe.timing("show_post", session.detail)
    if leases is not None:
        leases.release = probe.timing("lease release", leases.release)
        leases.claim = probe.timing("lease claim", leases.claim)
    original_record = label_session.record_label
    label_session.record_label = probe.timing("record_label", original_record)

    terminal = Terminal()
    output = Vt100_Output(terminal, lambda: Size(rows=ROWS, columns=COLUMNS),
                          term="xterm-256color", enable_cpr=False)
    latencies: list[float] = []
    parts: list[dict[str, float]] = []
    failure: list[BaseException] = []

    def marker(position: int) -> str:
        post_id = session.queue[position].post_id
        return f"post {post_id} · {sources[post_id]}"

    def drive(pipe) -> None:
        try:
            terminal.expect(marker(session.position))
            terminal.wait()  # the first post is drawn
            for _ in range(keys):
                if session.position + 1 >= len(session.queue):
                    break
                terminal.expect(marker(session.position + 1))
                probe.reset()
                sent = time.perf_counter()
                pipe.send_text(key)
                seen = terminal.wait()
                latencies.append(seen - sent)
                spent = probe.spent
                handler = probe.handler_end - probe.handler_start
                inside = sum(spent.get(name, 0.0) for name in
                             ("record_label", "lease release", "lease claim"))
                parts.append({
                    "key to handler": probe.handler_start - sent,
                    "record_label": spent.get("record_label", 0.0),
                    "lease release": spent.get("lease release", 0.0),
                    "lease claim": spent.get("lease claim", 0.0),
                    "rest of handler": handler - inside,
                    "show_post": spent.get("show_post", 0.0),
                    "draw": seen - probe.handler_end - spent.get("show_post", 0.0),
                    "garbage collection": spent.get("garbage collection", 0.0),
                    "full collections": spent.get("full collections", 0),
                })
        except BaseException as error:  # reported by the main thread
            failure.append(error)
        finally:
            pipe.send_text("q")

    gc.callbacks.append(probe.collecting)
    try:
        with create_pipe_input() as pipe, create_app_session(input=pipe, output=output):
            screen = LabelScreen(session, f"{ANALYST} · uncertain")
            driver = threading.Thread(target=drive, args=(pipe,), daemon=True)
            driver.start()
            screen.run()
            driver.join()
            fragments = _fragment_times(screen)
    finally:
        gc.callbacks.remove(probe.collecting)
        label_session.record_label = original_record
        session.close()
    if failure:
        raise failure[0]
    return Run(database, mode, queue_seconds, len(queue), latencies, parts, fragments)


def _fragment_times(screen, repeat: int = 50) -> dict[str, float]:
    """Seconds per call of each of the screen's fragment functions, for the post shown (its
    details already read)."""
    if screen.session.done:
        return {}
    screen._detail()
    times = {}
    for name in ("_header", "_meta", "_body", "_model", "_selection", "_footer"):
        function = getattr(screen, name)
        start = time.perf_counter()
        for _ in range(repeat):
            function()
        times[name] = (time.perf_counter() - start) / repeat
    return times


# --- the report -----------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18] if len(values) > 1 \
        else values[0]


def report_run(run: Run) -> None:
    values = run.latencies
    median, p95 = statistics.median(values), _p95(values)
    print(f"  {run.mode:9} queue of {run.queue_size} built in {run.queue_seconds:.2f} s; "
          f"{len(values)} keys: median {_ms(median)} ms ({median * 1000 / TARGET_MS:.2f}× the "
          f"target), p95 {_ms(p95)} ms ({p95 * 1000 / TARGET_MS:.2f}×), max {_ms(max(values))} ms "
          f"(key {values.index(max(values)) + 1}); over {TARGET_MS:.0f} ms: "
          f"{sum(v * 1000 >= TARGET_MS for v in values)}")


def report_table(runs: list[Run]) -> None:
    print(f"\nkey press → next post on screen, target < {TARGET_MS:.0f} ms "
          f"(median and p95 both)")
    header = (f"{'database':10} {'mode':9} {'queue build s':>13} {'median ms':>9} "
              f"{'p95 ms':>7} {'max ms':>7} {'p95/target':>10}  target met")
    print(header)
    print("-" * len(header))
    for run in runs:
        median, p95 = statistics.median(run.latencies), _p95(run.latencies)
        met = "yes" if median * 1000 < TARGET_MS and p95 * 1000 < TARGET_MS else "NO"
        print(f"{run.database:10} {run.mode:9} {run.queue_seconds:13.2f} {_ms(median):>9} "
              f"{_ms(p95):>7} {_ms(max(run.latencies)):>7} {p95 * 1000 / TARGET_MS:9.2f}×  {met}")


def report_parts(run: Run) -> None:
    total = statistics.median(run.latencies)
    print(f"\nwhere the time of one key goes, {run.database} {run.mode} (median per key over "
          f"{len(run.parts)} keys; median key {_ms(total)} ms)")
    for name in PARTS:
        values = [part[name] for part in run.parts]
        if not any(values):
            continue
        median = statistics.median(values)
        print(f"  {name:18} {median * 1000:8.2f} ms  p95 {_p95(values) * 1000:7.2f} ms"
              f"  {median / total:6.1%}")
    full = sum(part["full collections"] for part in run.parts)
    print(f"  (garbage collection happens within the parts above; full collections: {full})")
    slowest = run.latencies.index(max(run.latencies))
    print(f"  the slowest key (key {slowest + 1}, {_ms(run.latencies[slowest])} ms): " + ", ".join(
        f"{name} {_ms(seconds)} ms" for name, seconds in run.parts[slowest].items()
        if seconds and name in PARTS))
    if run.fragments:
        print("  of the drawing, the screen's fragments for one post (per call): " + ", ".join(
            f"{name} {seconds * 1000:.2f} ms" for name, seconds in run.fragments.items()))


def bench_database(label: str, url: str, options, runs: list[Run]) -> None:
    from monitor.db import open_database
    from monitor.modelstore import active_classifier

    db = open_database(url, upgrade=True)
    try:
        start = time.perf_counter()
        classifier = active_classifier(db)
        print(f"{label}: model {classifier.version} ready in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        sources = seed_database(db, options.posts, classifier.version, classifier.thresholds)
        print(f"{label}: seeded {options.posts} posts with predictions in "
              f"{time.perf_counter() - start:.1f} s")
        for mode in ("plain", "exclusive"):
            run = measure(db, label, mode, classifier, sources, options.keys, options.key)
            report_run(run)
            runs.append(run)
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--keys", type=int, default=300, help="key presses timed per run")
    parser.add_argument("--key", choices=("0", "s"), default="0",
                        help="0 saves as benign, s skips (default 0)")
    parser.add_argument("--pg-url", default=DEFAULT_PG,
                        help="a PostgreSQL database to create the benchmark's database from "
                        f"(default {DEFAULT_PG}; DOXWATCH_TEST_PG)")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--models-dir", type=Path,
                        help="keep trained models here across runs (default: a temporary dir)")
    options = parser.parse_args()
    if options.posts < 2 or options.keys < 1:
        parser.error("--posts must be at least 2 and --keys at least 1")

    runs: list[Run] = []
    pg_failure = None
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        os.environ["DOXWATCH_HOME"] = str(folder / "home")
        os.environ["DOXWATCH_MODELS_DIR"] = str(options.models_dir or folder / "models")
        os.environ.pop("DOXWATCH_CONFIG", None)
        print(f"{options.posts} posts, {options.keys} presses of {options.key!r} per run, "
              f"{COLUMNS}×{ROWS} screen")
        bench_database("sqlite", f"sqlite:///{folder / 'bench.db'}", options, runs)
        if not options.no_pg:
            try:
                with postgres_database(options.pg_url) as url:
                    bench_database("postgresql", url, options, runs)
            except Exception as error:  # SQLite's figures are still reported
                pg_failure = f"{type(error).__name__}: {error}"
    report_table(runs)
    for run in runs:
        report_parts(run)
    if pg_failure:
        sys.exit(f"\npostgresql failed: {pg_failure}")


if __name__ == "__main__":
    main()
