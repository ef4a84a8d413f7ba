"""Reposts: near-duplicate posts grouped into clusters that persist across digests.

Sellers post the same ad again and again, on several sources, with small edits (another
price, another handle, an emoji, a 【置顶】 in front, a few characters dropped). The digest
shows such an ad once, with how often and where it appeared, and marks it *known* when an
earlier digest had it already.

**Similarity.** Two posts are the same ad when the Jaccard similarity of their sets of
character 3-grams is at least :data:`THRESHOLD` (0.5). The 3-grams are taken from
``models.normalize.normalize`` of the title and text (the first :data:`FEATURE_CHARS`
characters) with everything but letters, digits and CJK characters dropped, so width,
traditional characters, look-alike letters, emoji, separators and punctuation do not count.
Measured (``benchmarks/digest.py --similarity``: 3,000 generated ads, each reposted with one
small edit, and 3,000 pairs of different ads of the same category): 99.5 % of the reposts
are at or above 0.5 (median 0.98), and no pair of different ads comes near it (the most
similar: 0.26).

**Why not SimHash.** Ads are short (40–100 characters), so one edited price changes a tenth
of their 3-grams. A 64-bit SimHash of the same 3-grams keeps only 60 % of those reposts
within the Hamming distance 3 that a banded index searches exactly (97 % within 12, which
no index searches cheaply).

**Candidates (MinHash LSH).** Every post gets a 64-bit *sketch*, stored in ``posts.simhash``
(the column predates this module): four 16-bit bands, band *b* a hash of MinHash values 2*b*
and 2*b*+1 of the 3-gram set. Two posts with similarity *J* share a band with probability
1 − (1 − J²)⁴: 0.68 at J = 0.5, 0.93 at 0.7, 0.99 at 0.85, 0.04 at 0.1. New posts are
matched against each other on the bands in full (64 bits), and against stored posts on the
16-bit bands the column keeps (which unrelated posts share by chance with probability
4/65,536 each: those candidates cost a check, no more). Per band key a post meets the
:data:`LOOKBACK` latest posts with that key; a candidate from the same batch must agree on
:data:`MIN_AGREEING` of the eight MinHash values (cheap, and it drops most of the ads that
merely share boilerplate); then at most :data:`MAX_CHECKS` candidates, likeliest first, are
checked for real: the Jaccard of the two 3-gram sets, computed on bitmaps of 32 bits per
3-gram (:class:`Bitmap`), at least the threshold. End to end on the pairs above: 98.9 % of
the reposts are clustered with their ad within one digest, 99.2 % against an earlier
digest's, and no different ads are merged.

**Clusters.** ``posts.cluster_id`` is the id of the cluster's first post. New posts are
clustered in id order against each other and against every post clustered by an earlier
digest (their sketches and cluster ids are read back, and the texts of the few candidates):
a post joins the best candidate's cluster it matches (the oldest, between equals), or
starts one. Earlier clusters are never renumbered or merged, so an id once sent stays valid.
All of it is vectorised with numpy but the checks, which only the posts with candidates
reach: beyond normalising their texts (``monitor.cluster_text``), 100,000 posts cluster in
about a second (``benchmarks/digest.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import numpy as np
from sqlalchemy import func, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from monitor.cluster_text import Features, feature_text
from monitor.db.schema import Post

THRESHOLD = 0.5  # Jaccard of 3-gram sets: at least this much is the same ad
SHINGLE = 3
BANDS = 4
BAND_BITS = 16
LOOKBACK = 4  # per band key, a post is compared with the last LOOKBACK posts that had it
MAX_CHECKS = 4  # candidates verified per post at most
MIN_AGREEING = 4  # of the 8 MinHash values, for a candidate from the same batch
_ROWS = 2  # MinHash values per band
_MINHASHES = BANDS * _ROWS
_BAND_MASK = (1 << BAND_BITS) - 1
_QUERY_CHUNK = 500
_BITS_PER_GRAM = 32
_MIN_BITS = 1024
_BITMAP_CHUNK = 1 << 25  # bits set up at a time while building bitmaps (32 MB of bools)
_CHUNK = 1 << 18  # elements per step of the vectorised arithmetic (2 MB of uint64)

_PAD = "\x01"  # dropped from feature strings (not a letter), so never part of one
_MASK64 = (1 << 64) - 1


def _splitmix(state: int) -> tuple[int, int]:
    """One step of SplitMix64 in plain Python: fixed constants on every platform."""
    state = (state + 0x9E3779B97F4A7C15) & _MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return state, z ^ (z >> 31)


def _constants(count: int, seed: int) -> np.ndarray:
    values, state = [], seed
    for _ in range(count):
        state, value = _splitmix(state)
        values.append(value)
    return np.array(values, dtype=np.uint64)


# Changing any of these changes every sketch: stored ones would stop matching new ones.
_XORS = _constants(_MINHASHES, 0x646F78)
_MULTIPLIERS = _constants(_MINHASHES, 0x77617463) | np.uint64(1)  # odd: a bijection
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, element-wise (uint64 arithmetic wraps around).

    In place on a copy, a chunk at a time: arrays of millions of elements would otherwise
    make a fresh temporary for every operation, and fresh memory costs a page fault per page.
    """
    result = np.array(values, dtype=np.uint64, copy=True)
    scratch = np.empty(min(len(result), _CHUNK), dtype=np.uint64)
    for start in range(0, len(result), _CHUNK):
        part = result[start:start + _CHUNK]
        tmp = scratch[:len(part)]
        for shift, multiplier in ((30, _M1), (27, _M2)):
            np.right_shift(part, np.uint64(shift), out=tmp)
            part ^= tmp
            part *= multiplier
        np.right_shift(part, np.uint64(31), out=tmp)
        part ^= tmp
    return result


# --- 3-grams, bitmaps, sketches -------------------------------------------------------------


class Bitmap(NamedTuple):
    """A set of 3-grams as bits: bit ``h mod width`` for each 3-gram hash ``h``. ``width`` is
    a power of two of at least 32 bits per 3-gram, so that different 3-grams rarely share a
    bit and Jaccard computed on the bits is close to that of the sets (measured: +0.007 on
    average); a wider bitmap folds onto a narrower one (bits i and i + width/2 coincide)."""

    width: int
    bits: int

    def folded(self, width: int) -> int:
        bits, mine = self.bits, self.width
        while mine > width:
            mine //= 2
            bits = (bits >> mine) | (bits & ((1 << mine) - 1))
        return bits


def jaccard(a: Bitmap, b: Bitmap) -> float:
    """Jaccard similarity of two 3-gram sets, from their bitmaps."""
    width = min(a.width, b.width)
    x, y = a.folded(width), b.folded(width)
    union = (x | y).bit_count()
    return (x & y).bit_count() / union if union else 1.0


@dataclass(frozen=True)
class Shingles:
    """The hashed 3-grams of many texts at once: ``hashes[offsets[i]:offsets[i + 1]]`` are
    the i-th text's (a text of fewer than three characters is one padded 3-gram)."""

    hashes: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets)

    def set_of(self, index: int) -> frozenset[int]:
        end = self.offsets[index + 1] if index + 1 < len(self.offsets) else len(self.hashes)
        return frozenset(self.hashes[self.offsets[index]:end].tolist())

    def bitmaps(self, indices: np.ndarray | None = None) -> dict[int, Bitmap]:
        """The :class:`Bitmap` of each text (or of those at ``indices``), built in bulk."""
        count = len(self.offsets)
        wanted = np.arange(count) if indices is None else _distinct(indices)[0]
        if not len(wanted):
            return {}
        sizes = np.diff(np.append(self.offsets, len(self.hashes)))[wanted]
        widths = np.maximum(_MIN_BITS, 1 << np.ceil(np.log2(np.maximum(sizes, 1)
                                                           * _BITS_PER_GRAM)).astype(np.int64))
        result: dict[int, Bitmap] = {}
        for width in np.unique(widths).tolist():
            pick = widths == width
            rows, row_sizes = wanted[pick], sizes[pick]
            step = max(1, _BITMAP_CHUNK // width)
            for start in range(0, len(rows), step):
                chunk, chunk_sizes = rows[start:start + step], row_sizes[start:start + step]
                firsts = np.cumsum(chunk_sizes) - chunk_sizes
                positions = (np.repeat(self.offsets[chunk] - firsts, chunk_sizes)
                             + np.arange(int(chunk_sizes.sum())))
                local = np.repeat(np.arange(len(chunk)), chunk_sizes)
                bits = np.zeros(len(chunk) * width, dtype=bool)
                bits[local * width
                     + (self.hashes[positions] & np.uint64(width - 1)).astype(np.int64)] = True
                packed = np.packbits(bits.reshape(len(chunk), width), axis=1,
                                     bitorder="little").tobytes()
                size = width // 8
                for row, index in enumerate(chunk.tolist()):
                    result[index] = Bitmap(width, int.from_bytes(
                        packed[row * size:(row + 1) * size], "little"))
        return result


def shingles(features: Sequence[str]) -> Shingles:
    """Hash every 3-gram of every feature string, vectorised over the whole batch."""
    if not features:
        return Shingles(np.zeros(0, np.uint64), np.zeros(0, np.int64))
    padded = [f if len(f) >= SHINGLE else f + _PAD * (SHINGLE - len(f)) for f in features]
    lengths = np.fromiter(map(len, padded), dtype=np.int64, count=len(padded))
    codes = np.frombuffer("".join(padded).encode("utf-32-le"), dtype="<u4")
    # drop the windows that run from one text into the next
    ends = np.cumsum(lengths)
    inside = np.ones(len(codes) - (SHINGLE - 1), dtype=bool)
    inside[ends[:-1] - 2] = False
    inside[ends[:-1] - 1] = False
    grams = lengths - (SHINGLE - 1)
    hashes = np.empty(int(grams.sum()), dtype=np.uint64)
    done = 0
    for start in range(0, len(inside), _CHUNK):
        stop = min(len(inside), start + _CHUNK)
        # a code point fits in 21 bits, so three of them make an exact 63-bit key
        window = codes[start:stop + 2].astype(np.uint64)
        keys = window[:-2] << np.uint64(42)
        keys |= window[1:-1] << np.uint64(21)
        keys |= window[2:]
        keys = _mix(keys[inside[start:stop]])
        hashes[done:done + len(keys)] = keys
        done += len(keys)
    return Shingles(hashes, np.cumsum(grams) - grams)


@dataclass(frozen=True)
class _Signatures:
    """Per text: the stored sketch (uint64), the four band keys in full (64 bits: matching a
    batch against itself has none of the chance collisions of 16-bit keys) and the eight
    MinHash values (a cheap first check of a candidate from the batch)."""

    sketches: np.ndarray
    keys: np.ndarray
    minhashes: np.ndarray


def _signatures(grams: Shingles) -> _Signatures:
    count = len(grams)
    if not count:
        empty = np.zeros(0, dtype=np.uint64)
        return _Signatures(empty, empty.reshape(0, BANDS), empty.reshape(0, _MINHASHES))
    values = np.empty((count, _MINHASHES), dtype=np.uint64)
    scratch = np.empty(min(len(grams.hashes), _CHUNK), dtype=np.uint64)
    first = 0
    ends = np.append(grams.offsets[1:], len(grams.hashes))
    while first < count:
        # texts whose 3-grams fit in one chunk (at least one text, however long)
        last = max(first + 1, int(np.searchsorted(ends, grams.offsets[first] + _CHUNK,
                                                  side="right")))
        low, high = int(grams.offsets[first]), int(ends[last - 1])
        part, local = grams.hashes[low:high], grams.offsets[first:last] - low
        tmp = scratch[:len(part)] if len(part) <= len(scratch) else np.empty_like(part)
        for i in range(_MINHASHES):
            np.bitwise_xor(part, _XORS[i], out=tmp)
            tmp *= _MULTIPLIERS[i]
            values[first:last, i] = np.minimum.reduceat(tmp, local)
        first = last
    keys = np.stack([_mix(values[:, band * _ROWS] ^ _mix(values[:, band * _ROWS + 1]))
                     for band in range(BANDS)], axis=1)
    sketch = np.zeros(count, dtype=np.uint64)
    for band in range(BANDS):
        sketch = (sketch << np.uint64(BAND_BITS)) | (keys[:, band] >> np.uint64(64 - BAND_BITS))
    return _Signatures(sketch, keys, values)


def sketches(grams: Shingles) -> list[int]:
    """The 64-bit sketch of each text (unsigned): four 16-bit bands of MinHash pairs."""
    return _signatures(grams).sketches.tolist()


def sketch(text: str) -> int:
    """The sketch of one text, unsigned (``to_signed`` for the database column)."""
    return sketches(shingles([feature_text(text)]))[0]


def similarity(first: str, second: str) -> float:
    """Jaccard similarity of the two texts' 3-gram sets: what :data:`THRESHOLD` applies to."""
    grams = shingles([feature_text(first), feature_text(second)])
    a, b = grams.set_of(0), grams.set_of(1)
    return len(a & b) / len(a | b)


def same_ad(first: str, second: str) -> bool:
    """Whether clustering takes the two texts for one ad, once it compares them."""
    found = shingles([feature_text(first), feature_text(second)]).bitmaps()
    return jaccard(found[0], found[1]) >= THRESHOLD


def bands(value: int) -> list[int]:
    """The four band keys of a sketch (signed or unsigned)."""
    value &= _MASK64
    return [(value >> (BAND_BITS * (BANDS - 1 - band))) & _BAND_MASK for band in range(BANDS)]


def to_signed(value: int) -> int:
    """An unsigned 64-bit value as the signed BIGINT the column holds."""
    return value - (1 << 64) if value >= 1 << 63 else value


# --- clustering -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Clustering:
    """Where each new post went: ``cluster_of[post_id]`` is its cluster's id, ``sketch_of``
    its sketch (signed, as stored), and ``known`` the clusters earlier digests had."""

    cluster_of: dict[int, int]
    sketch_of: dict[int, int]
    known: frozenset[int]


@dataclass(frozen=True)
class _Pairs:
    """Candidate pairs: ``new`` (a position in the batch), ``other`` (an earlier position in
    the batch, or a stored post's position) and a score, higher first."""

    new: np.ndarray
    other: np.ndarray
    score: np.ndarray


_NO_PAIRS = _Pairs(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))


def cluster_posts(session: Session, posts: Sequence[tuple[int, str]],
                  features: Sequence[str] | None = None) -> Clustering:
    """Cluster new posts, given as (id, title and text), against the clustered ones.

    ``features`` are the posts' :func:`feature_text`, in the same order, if the caller has
    them already (``Features`` makes them, partly in another process, while it does other
    work). Reads the stored posts' sketches and cluster ids, and the texts of candidates;
    writes nothing (:func:`store_clusters` does).
    """
    if features is None:
        features = _features([text for _, text in posts])
    ordered = sorted(zip((post_id for post_id, _ in posts), features, strict=True))
    ids = np.array([post_id for post_id, _ in ordered], dtype=np.int64)
    grams = shingles([feature for _, feature in ordered])
    signatures = _signatures(grams)
    stored = _load_index(session, ids)
    batch_pairs = _batch_pairs(signatures)
    stored_pairs = _stored_pairs(stored, signatures.sketches)
    stored_bitmaps = _stored_sets(session, stored.ids[stored_pairs.other].tolist())
    cluster_of = _assign(ids, grams, batch_pairs, stored_pairs, stored, stored_bitmaps)
    sketch_of = dict(zip(ids.tolist(), signatures.sketches.view(np.int64).tolist(),
                         strict=True))
    return Clustering(dict(zip(ids.tolist(), cluster_of, strict=True)), sketch_of,
                      frozenset(np.unique(stored.clusters).tolist()))


@dataclass(frozen=True)
class _Stored:
    """The clustered posts of earlier digests, in id order: id, cluster id, sketch."""

    ids: np.ndarray
    clusters: np.ndarray
    sketches: np.ndarray


def _load_index(session: Session, new_ids: np.ndarray) -> _Stored:
    """Every clustered post but the new ones (a post whose digest was deleted is new again)."""
    rows = session.connection().execute(
        select(Post.id, Post.cluster_id, Post.simhash)
        .where(Post.cluster_id.is_not(None), Post.simhash.is_not(None))
        .order_by(Post.id)).all()
    # numpy reads plain lists of ints far quicker than rows
    ids = np.array([row[0] for row in rows], dtype=np.int64)
    cluster_ids = np.array([row[1] for row in rows], dtype=np.int64)
    sketches = np.array([row[2] for row in rows], dtype=np.int64)
    old = ~np.isin(ids, new_ids)
    return _Stored(ids[old], cluster_ids[old], sketches[old].view(np.uint64))


def _batch_pairs(signatures: _Signatures) -> _Pairs:
    """Pairs of new posts sharing a full band key (each post with the LOOKBACK posts before it
    with that key), scored by the MinHash values they agree on, those below MIN_AGREEING
    dropped."""
    count = len(signatures.sketches)
    later, earlier = [], []
    for band in range(BANDS):
        column = signatures.keys[:, band]
        order = np.argsort(column, kind="stable")  # equal keys stay in id order
        ordered = column[order]
        for lag in range(1, min(LOOKBACK, count - 1) + 1):
            same = ordered[lag:] == ordered[:-lag]
            later.append(order[lag:][same])
            earlier.append(order[:-lag][same])
    if not later:
        return _NO_PAIRS
    codes, _ = _distinct(np.concatenate(later) * count + np.concatenate(earlier))
    new, other = codes // count, codes % count
    agreeing = np.zeros(len(codes), dtype=np.int64)
    for column in range(_MINHASHES):
        values = signatures.minhashes[:, column]
        agreeing += values[new] == values[other]
    keep = agreeing >= MIN_AGREEING
    return _Pairs(new[keep], other[keep], agreeing[keep])


def _stored_pairs(stored: _Stored, new_sketches: np.ndarray) -> _Pairs:
    """Pairs of a new post and a stored one sharing a 16-bit band (each new post with the
    LOOKBACK latest stored posts of that band key), scored by twice the bands shared (as
    comparable with MinHash agreements); the MAX_CHECKS best for each new post."""
    if not len(stored.ids) or not len(new_sketches):
        return _NO_PAIRS
    count, codes = len(stored.ids), []
    for band in range(BANDS):
        shift = np.uint64(BAND_BITS * (BANDS - 1 - band))
        keys = (stored.sketches >> shift) & np.uint64(_BAND_MASK)
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        wanted = (new_sketches >> shift) & np.uint64(_BAND_MASK)
        high = np.searchsorted(ordered, wanted, side="right")
        low = np.maximum(np.searchsorted(ordered, wanted, side="left"), high - LOOKBACK)
        sizes = high - low
        new = np.repeat(np.arange(len(new_sketches)), sizes)
        starts = np.cumsum(sizes) - sizes
        positions = np.repeat(low, sizes) + np.arange(int(sizes.sum())) - np.repeat(starts, sizes)
        codes.append(new * count + order[positions])
    codes_found, shared = _distinct(np.concatenate(codes))
    new, other = codes_found // count, codes_found % count
    # the MAX_CHECKS best of each new post: most bands shared, then the oldest cluster
    order = np.lexsort((stored.clusters[other], -shared, new))
    new, other, shared = new[order], other[order], shared[order]
    first = np.searchsorted(new, new, side="left")
    keep = np.arange(len(new)) - first < MAX_CHECKS
    return _Pairs(new[keep], other[keep], 2 * shared[keep])


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values, sorted, and how often each occurs (np.unique's hash-based path
    is several times slower on a million integers)."""
    values = np.sort(values)
    if not len(values):
        return values, np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    return values[starts], np.diff(np.append(starts, len(values)))


def _assign(ids: np.ndarray, grams: Shingles, batch: _Pairs, stored_pairs: _Pairs,
            stored: _Stored, stored_bitmaps: dict[int, Bitmap]) -> list[int]:
    """Each new post, in id order, joins the best candidate cluster it really matches (its
    bitmaps' Jaccard at least THRESHOLD), trying MAX_CHECKS at most, or starts its own."""
    cluster_of = ids.tolist()
    candidates: dict[int, list[tuple[int, int, int]]] = {}  # position: (-score, kind, other)
    for new, other, score in zip(batch.new.tolist(), batch.other.tolist(),
                                 batch.score.tolist(), strict=True):
        candidates.setdefault(new, []).append((-score, 0, other))
    for new, other, score in zip(stored_pairs.new.tolist(), stored_pairs.other.tolist(),
                                 stored_pairs.score.tolist(), strict=True):
        candidates.setdefault(new, []).append((-score, 1, other))
    bitmaps = grams.bitmaps(np.concatenate([batch.new, batch.other, stored_pairs.new]))
    stored_clusters, stored_ids = stored.clusters.tolist(), stored.ids.tolist()
    for position in sorted(candidates):
        ranked: dict[int, tuple[int, int, int]] = {}
        for score, kind, other in candidates[position]:
            cluster = cluster_of[other] if kind == 0 else stored_clusters[other]
            if cluster not in ranked or (score, kind, other) < ranked[cluster]:
                ranked[cluster] = (score, kind, other)
        mine = bitmaps[position]
        order = sorted((score, cluster, kind, other)
                       for cluster, (score, kind, other) in ranked.items())
        for _, cluster, kind, other in order[:MAX_CHECKS]:
            theirs = bitmaps.get(other) if kind == 0 else stored_bitmaps.get(stored_ids[other])
            if theirs is not None and jaccard(mine, theirs) >= THRESHOLD:
                cluster_of[position] = cluster
                break
    return cluster_of


def store_clusters(session: Session, clustering: Clustering) -> None:
    """Write each new post's sketch and cluster id."""
    update_rows(session, "posts", ("id", "simhash", "cluster_id"), ("bigint", "bigint", "bigint"),
                [(post_id, clustering.sketch_of[post_id], cluster_id)
                 for post_id, cluster_id in clustering.cluster_of.items()])


# Bulk writes: at 100,000 rows, SQLAlchemy's handling of each row's parameters takes longer
# than the database, and a statement per row is slow; so rows go straight to the driver.
# PostgreSQL gets each column as one array parameter, unnested, in one statement; SQLite
# ROWS_PER_STATEMENT rows to a statement. Table, column and type names are our own
# constants, never data; the values are parameters.
ROWS_PER_STATEMENT = 500
_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def insert_rows(session: Session, table: str, columns: Sequence[str], types: Sequence[str],
                rows: Sequence[tuple[object, ...]]) -> None:
    """INSERT the rows (values in ``columns`` order; ``types`` are their PostgreSQL types)."""
    if not rows:
        return
    connection = session.connection()
    mark = _MARKS.get(connection.dialect.paramstyle)
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql" and mark is not None:
        arrays = ", ".join(f"{mark}::{kind}[]" for kind in types)
        connection.exec_driver_sql(f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})",
                                   tuple(list(column) for column in zip(*rows, strict=True)))
    elif mark is not None:
        one = f"({', '.join([mark] * len(columns))})"
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[start:start + ROWS_PER_STATEMENT]
            connection.exec_driver_sql(
                f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * len(chunk))}",
                tuple(value for row in chunk for value in row))
    else:  # another driver: the portable way, a statement per row
        statement = sql_text(f"INSERT INTO {table} ({names}) "
                             f"VALUES ({', '.join(':' + c for c in columns)})")
        connection.execute(statement, [dict(zip(columns, row, strict=True)) for row in rows])


def update_rows(session: Session, table: str, columns: Sequence[str], types: Sequence[str],
                rows: Sequence[tuple[object, ...]]) -> None:
    """UPDATE ``columns[1:]`` of the rows whose ``columns[0]`` (the key) is each row's first
    value (``types``: their PostgreSQL types)."""
    if not rows:
        return
    connection = session.connection()
    mark = _MARKS.get(connection.dialect.paramstyle)
    key, values = columns[0], columns[1:]
    assignments = ", ".join(f"{column} = v.{column}" for column in values)
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql" and mark is not None:
        arrays = ", ".join(f"{mark}::{kind}[]" for kind in types)
        connection.exec_driver_sql(
            f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS v({names}) "
            f"WHERE {table}.{key} = v.{key}",
            tuple(list(column) for column in zip(*rows, strict=True)))
    elif mark is not None and (connection.dialect.name != "sqlite"
                               or connection.dialect.dbapi.sqlite_version_info >= (3, 33)):
        one = f"({', '.join([mark] * len(columns))})"
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[start:start + ROWS_PER_STATEMENT]
            connection.exec_driver_sql(
                f"WITH v({names}) AS (VALUES {', '.join([one] * len(chunk))}) "
                f"UPDATE {table} SET {assignments} FROM v WHERE {table}.{key} = v.{key}",
                tuple(value for row in chunk for value in row))
    else:  # no UPDATE ... FROM (SQLite before 3.33), or another driver: a statement per row
        statement = sql_text(f"UPDATE {table} SET "
                             f"{', '.join(f'{c} = :{c}' for c in values)} WHERE {key} = :{key}")
        connection.execute(statement, [dict(zip(columns, row, strict=True)) for row in rows])


def earlier_posts(session: Session, cluster_ids: Iterable[int]
                  ) -> dict[int, tuple[int, datetime]]:
    """For clusters earlier digests had: (how many posts, when the first was first seen).
    Call it before :func:`store_clusters`, so that only earlier posts are counted."""
    found: dict[int, tuple[int, datetime]] = {}
    ids = sorted(set(cluster_ids))
    for start in range(0, len(ids), _QUERY_CHUNK):
        rows = session.execute(
            select(Post.cluster_id, func.count(), func.min(Post.first_seen_at))
            .where(Post.cluster_id.in_(ids[start:start + _QUERY_CHUNK]))
            .group_by(Post.cluster_id))
        found.update({cluster_id: (count, first) for cluster_id, count, first in rows})
    return found


def _features(texts: Sequence[str]) -> list[str]:
    """Feature strings, normalising each distinct text once (reposts are often exact)."""
    return Features(texts).result()


def _stored_sets(session: Session, post_ids: Iterable[int]) -> dict[int, Bitmap]:
    """The bitmaps of stored posts, from their texts."""
    ids = sorted(set(post_ids))
    rows: list[tuple[int, str | None, str]] = []
    for start in range(0, len(ids), _QUERY_CHUNK):
        rows += session.connection().execute(
            select(Post.id, Post.title, Post.text)
            .where(Post.id.in_(ids[start:start + _QUERY_CHUNK]))).all()
    found = shingles(_features([post_text(title, text) for _, title, text in rows])).bitmaps()
    return {post_id: found[position] for position, (post_id, _, _) in enumerate(rows)}


def post_text(title: str | None, text: str) -> str:
    """What is compared: the title and the text, as the classifier reads them."""
    return f"{title}\n{text}" if title else text
