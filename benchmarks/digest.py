"""How long does a digest take over 100,000 flagged posts? Run by hand, not by pytest:

    python benchmarks/digest.py [--posts 100000] [--reposts 0.2] [--new 2000]
                                [--database sqlite|postgresql|both] [--pg-url URL]
    python benchmarks/digest.py --similarity [--pairs 3000]

The figure that matters is the time from "build the next digest" to its four renderings in
hand, over ``--posts`` flagged posts no digest holds yet, ``--reposts`` of them (20 %) edited
copies of earlier ones (target: under 5 s), and the peak memory it takes. The database is made
fresh and seeded with bulk inserts: distinct ads composed by ``models.compose_offers`` (one to
three offers in a post, a title on some), spread over six sources and one day, each with a
flagging prediction (scores, labels, terms) and the entities ``models.extract`` finds in it.
A repost is an earlier post, on another source seven times in ten, copied as it is or with
one small edit: another price, another handle, emoji around it, 【置顶】 in front,
punctuation for spaces, a seller's disguise (``models.evasion.obfuscate``), three characters
dropped, or a few words added. Then, each in a fresh process on its own copy of the seeded
database, so that one measurement does not disturb the other:

- **timed**: ``run_digest`` (select the posts, cluster them, sellers, totals, store the
  payload, its posts, their clusters) and, as the outbox would, ``Digest.from_dict`` of the
  stored payload and the text, Markdown, HTML and JSON renderings; with the time of each
  phase (functions of ``monitor.digest`` and ``monitor.clusters`` wrapped for this process
  only; a helper process normalises most texts meanwhile, see ``monitor.cluster_text``)
  and the process's peak RSS above what it had before the digest. ``--repeat`` runs (3),
  each on a fresh copy, the best shown: the machine may be shared;
- **memory**: the same under ``tracemalloc``, for the peak of Python allocations (slower:
  not timed);
- **incremental**: after the first digest, ``--new`` more posts (the same share of reposts,
  now of posts the first digest had, so marked known) and the next digest over them, against
  the clusters of all the posts before.

Cluster quality is printed too: how many reposts landed in their original's cluster, and how
many clusters hold more than one original ad (composed ads share templates, so some distinct
ads are near-duplicates by any measure).

``--similarity`` prints the measurement behind ``monitor.clusters.THRESHOLD``: on
``--pairs`` pairs of (ad, the ad with one small edit) and as many pairs of two different ads
of the same kind, the Jaccard similarity of their 3-gram sets and the Hamming distance of a
64-bit SimHash of the same 3-grams, with the share of reposts kept (recall) and of different
ads merged at each threshold, and the chance that the LSH bands find a pair.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

TARGET_S = 5.0
BATCH = 5_000
VERSION = "bench-v1"
SOURCES = (("forum-a", "generic"), ("forum-b", "discuz"), ("tg-market", "telegram"),
           ("tg-lookup", "telegram"), ("tieba-x", "tieba"), ("market", "generic"))
DEFAULT_PG = os.environ.get("DOXWATCH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PERIOD_START = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]


# --- the posts ------------------------------------------------------------------------------

EDITS = ("copy", "price", "handle", "emoji", "prefix", "punct", "obfuscate", "delete", "append")


def edit(text: str, rng: random.Random, kind: str | None = None) -> tuple[str, str]:
    """*text* as a seller reposts it: (the edit, the new text)."""
    from models.evasion import obfuscate

    kind = kind or rng.choice(EDITS)
    if kind == "price":
        new = re.sub(r"\d+", lambda m: str(int(m.group()) + rng.randint(1, 50)), text, count=1)
    elif kind == "handle":
        new = re.sub(r"[a-z_]{4,}\d*", lambda m: m.group()[:-2] + "x9", text, count=1)
    elif kind == "emoji":
        new = "🔥" + text + " ✅✅"
    elif kind == "prefix":
        new = "【置顶】" + text
    elif kind == "punct":
        new = text.replace(" ", "，").replace("：", ":")
    elif kind == "obfuscate":
        new = obfuscate(text, rng, k=1)
    elif kind == "delete":
        cut = rng.randrange(max(1, len(text) - 4))
        new = text[:cut] + text[cut + 3:]
    elif kind == "append":
        new = text + rng.choice([" 顶", " 诚信经营", " 量大从优", " 价格可谈"])
    else:
        new = text
    return kind, new


def compose_post(rng: random.Random) -> tuple[str | None, str, tuple[str, ...]]:
    """(title, text, labels) of one distinct ad: one to three composed offers."""
    from models.compose_offers import compose_offer

    parts = [compose_offer(rng) for _ in range(rng.choice((1, 1, 2, 3)))]
    labels = tuple(dict.fromkeys(label for part in parts for label in part.labels))
    title = compose_offer(rng).text.split("\n")[0][:40] if rng.random() < 0.3 else None
    return title, "\n".join(part.text for part in parts), labels


def generate(count: int, repost_share: float, rng: random.Random, first: int = 0,
             earlier: list[dict] | None = None) -> list[dict]:
    """*count* posts; a repost copies a post of this batch or of ``earlier``."""
    earlier = earlier or []
    posts: list[dict] = []
    names = [name for name, _ in SOURCES]
    for number in range(first, first + count):
        pool = len(earlier) + len(posts)
        if pool and rng.random() < repost_share:
            pick = rng.randrange(pool)
            original = earlier[pick] if pick < len(earlier) else posts[pick - len(earlier)]
            kind, text = edit(original["text"], rng)
            source = (original["source"] if rng.random() < 0.3
                      else rng.choice([n for n in names if n != original["source"]]))
            posts.append({**original, "number": number, "text": text, "source": source,
                          "edit": kind, "origin": original["origin"]})
        else:
            title, text, labels = compose_post(rng)
            posts.append({"number": number, "title": title, "text": text, "labels": labels,
                          "source": rng.choice(names), "edit": None, "origin": number})
    return posts


def _scores(labels: tuple[str, ...], rng: random.Random) -> dict[str, float]:
    from models import CATEGORIES

    scores = {c: round(rng.betavariate(0.7, 6.0) * 0.45, 4) for c in CATEGORIES}
    for position, label in enumerate(labels):
        scores[label] = round(rng.uniform(0.75, 1.0) if position == 0 else
                              rng.uniform(0.5, 0.9), 4)
    return scores


def _terms(text: str, rng: random.Random) -> list[list]:
    words = [w for w in re.findall(r"[\u4e00-\u9fff]{2,3}", text)][:12]
    rng.shuffle(words)
    return [[word, round(rng.uniform(0.05, 2.0), 4)] for word in words[:rng.randint(3, 6)]]


def seed(db, posts: list[dict], moments: Callable[[int], datetime], *,
         rng: random.Random) -> None:
    """Bulk-insert the sources (if new), the posts, a flagging prediction each, entities."""
    from sqlalchemy import insert, select

    from models.extract import extract_entities
    from monitor.db.schema import Entity, Post, Prediction, Source

    with db.engine.begin() as connection:
        known = dict(connection.execute(select(Source.name, Source.id)).all())
        missing = [{"name": name, "kind": kind, "urls": [], "options": {}, "schedule": "",
                    "enabled": True, "created_at": PERIOD_START, "updated_at": PERIOD_START}
                   for name, kind in SOURCES if name not in known]
        if missing:
            connection.execute(insert(Source), missing)
        source_ids = dict(connection.execute(select(Source.name, Source.id)).all())
    for start in range(0, len(posts), BATCH):
        batch = posts[start:start + BATCH]
        rows = []
        for post in batch:
            seen = moments(post["number"])
            rows.append({
                "source_id": source_ids[post["source"]], "external_id": f"b-{post['number']}",
                "url": f"https://{post['source']}.invalid/t/{post['number']}",
                "author": None, "title": post["title"], "text": post["text"],
                "posted_at": seen - timedelta(minutes=rng.randrange(600)),
                "fetched_at": seen, "first_seen_at": seen, "updated_at": seen,
                "text_hash": hashlib.sha256(post["text"].encode()).hexdigest(),
                "simhash": None, "cluster_id": None, "meta": {},
            })
        with db.engine.begin() as connection:
            connection.execute(insert(Post), rows)
            ids = dict(connection.execute(
                select(Post.external_id, Post.id)
                .where(Post.external_id.in_([r["external_id"] for r in rows]))).all())
            predictions, entities = [], []
            for post in batch:
                post_id = ids[f"b-{post['number']}"]
                post["id"] = post_id
                scores = _scores(post["labels"], rng)
                predictions.append({
                    "post_id": post_id, "model_version": VERSION, "scores": scores,
                    "labels": [c for c, s in scores.items() if s >= 0.5], "is_offer": True,
                    "terms": _terms(post["text"], rng), "created_at": moments(post["number"])})
                text = f"{post['title']}\n{post['text']}" if post["title"] else post["text"]
                found = {(e.kind, e.value[:512]) for e in extract_entities(text)}
                entities += [{"post_id": post_id, "kind": k, "value": v} for k, v in found]
            connection.execute(insert(Prediction), predictions)
            if entities:
                connection.execute(insert(Entity), entities)


# --- databases ------------------------------------------------------------------------------


@contextmanager
def postgres_database(admin_url: str, template: str | None = None) -> Iterator[str]:
    """A fresh database on the server of ``admin_url`` (a copy of ``template``), dropped after."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"doxwatch_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            copy = f' TEMPLATE "{template}"' if template else ""
            connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def database_copy(url: str, admin_url: str, directory: Path) -> Iterator[str]:
    """A copy of the seeded database at ``url``, to spend on one measurement."""
    if url.startswith("sqlite"):
        source = Path(url.removeprefix("sqlite:///"))
        target = directory / f"copy-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(source, target)
        try:
            yield f"sqlite:///{target}"
        finally:
            target.unlink(missing_ok=True)
        return
    from sqlalchemy.engine import make_url

    with postgres_database(admin_url, template=make_url(url).database) as copy:
        yield copy


def _checkpoint(db) -> None:
    """Everything in the main SQLite file, so that copying the file copies the database."""
    if db.engine.url.get_backend_name() == "sqlite":
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()


# --- one measured digest (in a child process) ----------------------------------------------

PHASES = {
    "monitor.digest": ("flagged", "_contacts", "cluster_posts", "_read_details",
                       "earlier_posts", "_sellers", "_previous_totals", "broken_sources",
                       "store_clusters", "_record_posts", "render_text", "in_timezone"),

    "monitor.clusters": ("_features", "shingles", "_signatures", "_load_index", "_batch_pairs",
                         "_stored_pairs", "_stored_sets", "_assign"),
}


def _wrap_phases(timings: dict[str, float]) -> None:
    import importlib

    from monitor.cluster_text import Features

    result = Features.result

    def waited(self, __result=result):
        started = time.perf_counter()
        try:
            return __result(self)
        finally:
            timings["features (wait)"] = (timings.get("features (wait)", 0.0)
                                          + time.perf_counter() - started)

    Features.result = waited  # type: ignore[method-assign]

    for module_name, names in PHASES.items():
        module = importlib.import_module(module_name)
        for name in names:
            original = getattr(module, name, None)
            if original is None:
                continue

            def timed(*args, __original=original, __name=name, **kwargs):
                started = time.perf_counter()
                try:
                    return __original(*args, **kwargs)
                finally:
                    timings[__name] = timings.get(__name, 0.0) + time.perf_counter() - started

            setattr(module, name, timed)


def child(url: str, mode: str, now: str) -> dict:
    """Build, store and render the next digest; what it took, as a dict (printed as JSON)."""
    import resource

    from alerts.digest import Digest
    from alerts.render import render_html, render_json, render_markdown, render_text
    from monitor.config import Config, DigestConfig
    from monitor.db import open_database
    from monitor.db.schema import DigestRecord
    from monitor.digest import in_timezone, run_digest

    config = Config(path=None, database_url=url, digest=DigestConfig(max_entries=200))
    db = open_database(url)
    timings: dict[str, float] = {}
    if mode != "memory":
        _wrap_phases(timings)
    import gc

    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if mode == "memory":
        tracemalloc.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    report = run_digest(config, db, VERSION, env={}, now=datetime.fromisoformat(now))
    built = time.perf_counter()
    with db.session() as session:
        payload = session.get_one(DigestRecord, report.digest.id).payload
    digest = in_timezone(Digest.from_dict(payload), config.digest.timezone)
    loaded = time.perf_counter()
    sizes = {}
    for name, render in (("text", render_text), ("markdown", render_markdown),
                         ("html", render_html), ("json", render_json)):
        begun = time.perf_counter()
        sizes[name] = len(render(digest).encode("utf-8"))
        timings[f"render {name}"] = time.perf_counter() - begun
    finished, cpu_finished = time.perf_counter(), time.process_time()
    result = {
        "cpu_s": cpu_finished - cpu_started,
        "build_s": built - started, "load_s": loaded - built, "render_s": finished - loaded,
        "total_s": finished - started, "timings": timings, "sizes": sizes,
        "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_mb": rss_before / 1024,
        "posts": digest.total_posts, "clusters": digest.cluster_count,
        "known": digest.known_clusters, "shown": digest.count, "hidden": digest.hidden,
        "sellers": digest.seller_count, "payload_kb": len(json.dumps(payload)) / 1024,
    }
    if mode == "memory":
        result["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    db.dispose()
    return result


def run_child(url: str, mode: str, now: datetime) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--child-url", url, "--child-now",
         now.isoformat()], capture_output=True, text=True, check=False, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    if output.returncode != 0:
        raise SystemExit(f"the {mode} run failed:\n{output.stderr}")
    return json.loads(output.stdout.strip().splitlines()[-1])


# --- reporting ------------------------------------------------------------------------------


def quality(db, posts: list[dict]) -> dict:
    """Reposts in their original's cluster, and clusters holding several original ads."""
    from sqlalchemy import select

    from monitor.db.schema import Post

    with db.session() as session:
        cluster_of = dict(session.execute(select(Post.id, Post.cluster_id)).all())
    by_number = {post["number"]: post for post in posts}
    reposts = [p for p in posts if p["edit"] is not None]
    together = sum(cluster_of[p["id"]] == cluster_of[by_number[p["origin"]]["id"]]
                   for p in reposts)
    by_edit = Counter(p["edit"] for p in reposts)
    missed = Counter(p["edit"] for p in reposts
                     if cluster_of[p["id"]] != cluster_of[by_number[p["origin"]]["id"]])
    origins_per_cluster: dict[int, set[int]] = {}
    for post in posts:
        origins_per_cluster.setdefault(cluster_of[post["id"]], set()).add(post["origin"])
    return {
        "reposts": len(reposts), "with_original": together,
        "missed_by_edit": {kind: f"{missed[kind]}/{by_edit[kind]}" for kind in sorted(by_edit)},
        "ads": len({p["origin"] for p in posts}), "clusters": len(origins_per_cluster),
        "mixed_clusters": sum(len(v) > 1 for v in origins_per_cluster.values()),
    }


def print_run(label: str, timed: dict, memory: dict | None) -> None:
    total = timed["total_s"]
    print(f"\n{label}: {timed['posts']:,} posts → {timed['clusters']:,} ads "
          f"({timed['known']:,} known), {timed['shown']} shown, {timed['hidden']:,} not shown, "
          f"{timed['sellers']:,} sellers; payload {timed['payload_kb']:.0f} KiB")
    print(f"  total {total:.2f} s = build and store {timed['build_s']:.2f} s + read back "
          f"{timed['load_s']:.3f} s + render {timed['render_s']:.3f} s; "
          f"target {TARGET_S:.0f} s, ratio {total / TARGET_S:.2f}; CPU time of the process "
          f"{timed['cpu_s']:.2f} s (the rest is waiting: disk, the database server, "
          f"other processes on the machine; load average {os.getloadavg()[0]:.1f})")
    for name, seconds in sorted(timed["timings"].items(), key=lambda item: -item[1]):
        print(f"    {name:<18} {seconds:7.3f} s  {seconds / total:6.1%}")
    sizes = ", ".join(f"{name} {size / 1024:.0f} KiB" for name, size in timed["sizes"].items())
    print(f"  renderings: {sizes}")
    print(f"  peak RSS {timed['rss_peak_mb']:.0f} MiB (before the digest "
          f"{timed['rss_before_mb']:.0f} MiB: +{timed['rss_peak_mb'] - timed['rss_before_mb']:.0f}"
          " MiB)")
    if memory:
        print(f"  tracemalloc peak {memory['tracemalloc_peak_mb']:.0f} MiB of Python allocations"
              f" during the digest")


def benchmark(url: str, admin_url: str, args: argparse.Namespace, directory: Path) -> None:
    from monitor.db import open_database

    rng = random.Random(args.seed)
    db = open_database(url, upgrade=True)
    started = time.perf_counter()
    posts = generate(args.posts, args.reposts, rng)
    spread = 86_400 / max(args.posts, 1)
    seed(db, posts, lambda n: PERIOD_START + timedelta(seconds=n * spread), rng=rng)
    reposts = sum(p["edit"] is not None for p in posts)
    print(f"seeded {len(posts):,} flagged posts ({reposts:,} reposts) in "
          f"{time.perf_counter() - started:.1f} s on {db.engine.url.get_backend_name()}")
    _checkpoint(db)
    now = PERIOD_START + timedelta(days=1)
    with database_copy(url, admin_url, directory) as copy:
        memory = run_child(copy, "memory", now)
    runs = []
    for _ in range(args.repeat - 1):
        with database_copy(url, admin_url, directory) as copy:
            runs.append(run_child(copy, "timed", now))
    runs.append(run_child(url, "timed", now))  # the last one's digest stays, for what follows
    timed = min(runs, key=lambda run: run["total_s"])
    print_run(f"first digest (the best of {len(runs)} runs, each on a fresh copy)", timed, memory)
    totals = sorted(run["total_s"] for run in runs)
    print(f"  all runs: {', '.join(f'{t:.2f}' for t in totals)} s; median "
          f"{statistics.median(totals):.2f} s")
    db = open_database(url)
    print("  clusters:", json.dumps(quality(db, posts), ensure_ascii=False))

    later = generate(args.new, args.reposts, rng, first=args.posts, earlier=posts)
    seed(db, later, lambda n: now + timedelta(seconds=(n - args.posts) * 30), rng=rng)
    _checkpoint(db)
    incremental = run_child(url, "timed", now + timedelta(days=1))
    print_run(f"next digest ({args.new:,} new posts against {args.posts:,} clustered)",
              incremental, None)
    db = open_database(url)
    reposts_of_old = [p for p in later if p["edit"] is not None and p["origin"] < args.posts]
    print(f"  reposts of the first digest's posts: {len(reposts_of_old)}; "
          f"ads marked known: {incremental['known']}")
    db.dispose()


# --- the similarity measurement -----------------------------------------------------------


def simhash(grams) -> list[int]:
    """A 64-bit SimHash of each text's 3-grams (for the comparison only)."""
    import numpy as np

    result = []
    ends = list(grams.offsets[1:]) + [len(grams.hashes)]
    for start, end in zip(grams.offsets, ends, strict=True):
        hashes = grams.hashes[start:end].astype("<u8")
        bits = np.unpackbits(hashes.view(np.uint8).reshape(-1, 8), axis=1, bitorder="little")
        signs = bits.sum(axis=0) * 2 > len(hashes)
        result.append(int.from_bytes(np.packbits(signs, bitorder="little").tobytes(), "little"))
    return result


def similarity(pairs: int, seed_value: int) -> None:
    from monitor import clusters

    rng = random.Random(seed_value)
    same, different, kinds = [], [], []
    for _ in range(pairs):
        _, text, labels = compose_post(rng)
        kind, copy = edit(text, rng, rng.choice(EDITS[1:]))
        same.append((text, copy))
        kinds.append(kind)
        while True:  # a different ad of the same kind
            _, other, other_labels = compose_post(rng)
            if other_labels[:1] == labels[:1]:
                break
        different.append((text, other))

    def measure(pairs_: list[tuple[str, str]]) -> dict[str, list]:
        """Per pair: exact Jaccard, SimHash distance, 16-bit bands shared (a stored post's
        test), and whether clustering would join them within one digest (a full band key
        shared, MIN_AGREEING MinHash values, bitmap Jaccard) and across digests (a 16-bit
        band shared, bitmap Jaccard)."""
        flat = [clusters.feature_text(text) for pair in pairs_ for text in pair]
        grams = clusters.shingles(flat)
        hashes = simhash(grams)
        signatures = clusters._signatures(grams)
        bitmaps = grams.bitmaps()
        found: dict[str, list] = {"jaccard": [], "hamming": [], "bands": [], "batch": [],
                                  "stored": []}
        for i in range(len(pairs_)):
            a, b = 2 * i, 2 * i + 1
            first, second = grams.set_of(a), grams.set_of(b)
            found["jaccard"].append(len(first & second) / len(first | second))
            found["hamming"].append((hashes[a] ^ hashes[b]).bit_count())
            shared = sum(x == y for x, y in zip(clusters.bands(int(signatures.sketches[a])),
                                                 clusters.bands(int(signatures.sketches[b])),
                                                 strict=True))
            found["bands"].append(shared)
            close = clusters.jaccard(bitmaps[a], bitmaps[b]) >= clusters.THRESHOLD
            full = bool((signatures.keys[a] == signatures.keys[b]).any())
            agreeing = int((signatures.minhashes[a] == signatures.minhashes[b]).sum())
            found["batch"].append(full and agreeing >= clusters.MIN_AGREEING and close)
            found["stored"].append(shared > 0 and close)
        return found

    same_m, diff_m = measure(same), measure(different)
    same_j, same_h, same_b = same_m["jaccard"], same_m["hamming"], same_m["bands"]
    diff_j, diff_h, diff_b = diff_m["jaccard"], diff_m["hamming"], diff_m["bands"]

    def spread(values: list[float]) -> str:
        ordered = sorted(values)
        pick = lambda q: ordered[min(int(q * len(ordered)), len(ordered) - 1)]  # noqa: E731
        return (f"p5 {pick(0.05):.2f}  median {statistics.median(values):.2f}  "
                f"p95 {pick(0.95):.2f}  min {min(values):.2f}  max {max(values):.2f}")

    print(f"{pairs} reposts (an ad and the ad with one small edit) and {pairs} pairs of two "
          "different ads of the same category")
    print(f"Jaccard of 3-grams, reposts:       {spread(same_j)}")
    print(f"Jaccard of 3-grams, different ads: {spread(diff_j)}")
    print(f"SimHash distance, reposts:         {spread(same_h)}")
    print(f"SimHash distance, different ads:   {spread(diff_h)}")
    print("\nper edit: Jaccard median / share ≥ threshold")
    for kind in sorted(set(kinds)):
        values = [j for j, k in zip(same_j, kinds, strict=True) if k == kind]
        kept = sum(v >= clusters.THRESHOLD for v in values) / len(values)
        print(f"  {kind:<10} {statistics.median(values):.2f}  {kept:6.1%}  (n={len(values)})")
    print("\nJaccard ≥ t    reposts kept   different ads merged")
    for t in (0.3, 0.4, 0.5, 0.6, 0.7):
        print(f"  {t:.1f}          {sum(j >= t for j in same_j) / pairs:7.1%}"
              f"        {sum(j >= t for j in diff_j) / pairs:7.2%}")
    print("\nSimHash ≤ k    reposts kept   different ads merged")
    for k in (3, 6, 9, 12, 15):
        print(f"  {k:<2}            {sum(h <= k for h in same_h) / pairs:7.1%}"
              f"        {sum(h <= k for h in diff_h) / pairs:7.2%}")
    kept = [b for b, j in zip(same_b, same_j, strict=True) if j >= clusters.THRESHOLD]
    print(f"\nLSH: reposts at or above the threshold that share a 16-bit band: "
          f"{sum(b > 0 for b in kept) / len(kept):.1%}; different ads that share one: "
          f"{sum(b > 0 for b in diff_b) / pairs:.2%} (then rejected by the Jaccard)")
    for path, label in (("batch", "in one digest"), ("stored", "against an earlier digest")):
        print(f"End to end, {label}: reposts clustered with their ad "
              f"{sum(same_m[path]) / pairs:.1%}, different ads merged "
              f"{sum(diff_m[path]) / pairs:.2%}")


# --- main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--reposts", type=float, default=0.2)
    parser.add_argument("--new", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3,
                        help="timed runs of the first digest, each on a fresh copy (best shown)")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--similarity", action="store_true")
    parser.add_argument("--pairs", type=int, default=3_000)
    parser.add_argument("--child", choices=("timed", "memory"), help=argparse.SUPPRESS)
    parser.add_argument("--child-url", help=argparse.SUPPRESS)
    parser.add_argument("--child-now", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child_url, args.child, args.child_now)))
        return
    if args.similarity:
        similarity(args.pairs, args.seed)
        return
    with tempfile.TemporaryDirectory(prefix="doxwatch-bench-") as directory:
        os.environ.setdefault("DOXWATCH_HOME", directory)
        if args.database in ("sqlite", "both"):
            benchmark(f"sqlite:///{Path(directory) / 'bench.db'}", args.pg_url, args,
                      Path(directory))
        if args.database in ("postgresql", "both"):
            with postgres_database(args.pg_url) as url:
                print()
                benchmark(url, args.pg_url, args, Path(directory))


if __name__ == "__main__":
    main()
