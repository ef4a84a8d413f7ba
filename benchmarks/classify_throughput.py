"""How fast is classification, next to tokenisation alone? Run by hand, not by pytest:

    python benchmarks/classify_throughput.py [--posts 10000] [--batch 1000] [--model FILE]

It builds N posts of 50–500 characters from the shipped data (the texts concatenated and cut
at lengths and offsets drawn from a seeded generator, so every run judges the same posts) and
measures, in one process:

- posts per second of ``jieba.lcut`` alone on those texts, and of ``Classifier.predict`` in
  batches, and their ratio (target >= 0.5: everything beyond tokenisation costs no more than
  tokenisation itself);
- the time to load the model from its file (target < 1 s) and the first prediction after it,
  which also loads jieba's dictionary;
- the peak resident memory of the process after loading and classifying (target < 400 MB),
  and again once jieba's default dictionary is loaded for the comparison (a second copy of
  jieba's dictionary that a running monitor does not hold).

Without ``--model`` a model is trained from the shipped data in a child process and saved to
a temporary directory, so that this process's memory holds what a running monitor holds: one
loaded model, not a training run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TARGET_RATIO = 0.5
TARGET_LOAD_SECONDS = 1.0
TARGET_PEAK_MB = 400
SHORTEST, LONGEST = 50, 500


def build_posts(count: int, seed: int = 0) -> list[str]:
    """*count* texts of SHORTEST–LONGEST characters cut from the shipped data, deterministically."""
    from models.dataset import load_dataset

    corpus = "\n".join(example.text for example in load_dataset())
    rng = random.Random(seed)
    posts = []
    for _ in range(count):
        length = rng.randint(SHORTEST, LONGEST)
        start = rng.randrange(len(corpus))
        posts.append((corpus[start:] + corpus)[:length])
    return posts


def train_and_save(path: str) -> None:
    """Child process: train on the shipped data and save the model to *path*."""
    from models.store import save
    from models.train import train

    save(train(), Path(path))


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def peak_mb() -> float:
    """Peak resident set size of this process; ru_maxrss is KiB on Linux, bytes on macOS."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--model", type=Path, help="a saved model file (default: train one)")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        path = options.model
        if path is None:
            path = Path(scratch) / "model.skops"
            child = multiprocessing.get_context("spawn").Process(
                target=train_and_save, args=(str(path),)
            )
            child.start()
            child.join()
            if child.exitcode != 0:
                sys.exit(f"training failed (exit {child.exitcode})")
        report(path, options.posts, options.batch)


def report(path: Path, count: int, batch: int) -> None:
    import jieba

    from models.store import load

    posts = build_posts(count)
    characters = sum(map(len, posts))
    print(f"{count} posts, {characters / count:.0f} characters on average, batches of {batch}")

    holder: dict = {}
    load_seconds = timed(lambda: holder.setdefault("model", load(path)))
    classifier = holder["model"]
    first_seconds = timed(lambda: classifier.predict(posts[:1]))

    for start in range(0, count, batch):  # a first pass: what a monitor's memory holds
        classifier.predict(posts[start : start + batch])
    peak = peak_mb()  # before the default jieba dictionary is loaded next to the model's own
    jieba.initialize()
    # Batch by batch, each timed both ways, so a machine busy with something else for a while
    # slows both sides alike instead of skewing the ratio.
    jieba_seconds = classify_seconds = 0.0
    for start in range(0, count, batch):
        texts = posts[start : start + batch]
        classify_seconds += timed(lambda texts=texts: classifier.predict(texts))
        jieba_seconds += timed(lambda texts=texts: [jieba.lcut(text) for text in texts])

    jieba_rate, classify_rate = count / jieba_seconds, count / classify_seconds
    ratio = classify_rate / jieba_rate
    rows = [
        ("jieba.lcut alone", f"{jieba_rate:,.0f} posts/s", ""),
        ("Classifier.predict", f"{classify_rate:,.0f} posts/s", ""),
        ("ratio classify/jieba", f"{ratio:.2f}", _verdict(ratio, TARGET_RATIO, ">=")),
        ("model load", f"{load_seconds:.3f} s", _verdict(load_seconds, TARGET_LOAD_SECONDS, "<")),
        ("first prediction", f"{first_seconds:.3f} s", "(loads jieba's dictionary)"),
        ("peak memory", f"{peak:.0f} MB", _verdict(peak, TARGET_PEAK_MB, "<")),
        ("  with jieba's default", f"{peak_mb():.0f} MB", "(dictionary, for the comparison)"),
    ]
    for name, figure, verdict in rows:
        print(f"{name:22} {figure:>16}  {verdict}")


def _verdict(figure: float, target: float, relation: str) -> str:
    met = figure >= target if relation == ">=" else figure < target
    return f"{'ok' if met else 'MISSED'} (target {relation} {target})"


if __name__ == "__main__":
    main()
