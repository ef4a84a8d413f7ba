"""How fast is ``doxwatch classify --input`` as a whole process? Run by hand, not by pytest:

    python benchmarks/classify_cli.py [--lines 10000]

The same N posts as ``classify_throughput.py`` (cut from the shipped data, seeded), written as
JSON lines ``{"id", "text"}``, go through two whole processes, each timed from start to exit:

- ``doxwatch classify --input FILE`` (imports, model load, jieba's dictionary, reading,
  judging, writing one JSON line per post);
- a bare Python loop of ``jieba.lcut`` over the texts of the same file (import, dictionary,
  reading and decoding the JSON lines).

The ratio jieba/doxwatch of the two wall times is the figure to hold at or above 0.5. Where
the time goes is told by two more runs: ``classify --input`` of an empty file (start-up: imports
and model load) and the in-process figures of ``classify_throughput.py`` (judging alone).
A model is trained first, once, into a temporary models directory, and not timed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from classify_throughput import build_posts  # noqa: E402

TARGET_RATIO = 0.5
JIEBA_LOOP = """
import json, sys, jieba
jieba.initialize()
with open(sys.argv[1], encoding="utf-8") as lines:
    for line in lines:
        jieba.lcut(json.loads(line)["text"])
"""


def wall(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        data, empty = folder / "posts.jsonl", folder / "empty.jsonl"
        data.write_text("".join(json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n"
                                for i, text in enumerate(build_posts(options.lines))),
                        encoding="utf-8")
        empty.write_text("", encoding="utf-8")
        env = {**os.environ, "DOXWATCH_HOME": str(folder / "home"),
               "DOXWATCH_MODELS_DIR": str(folder / "models")}
        doxwatch = [str(Path(sys.executable).with_name("doxwatch")), "classify", "--input"]
        wall([*doxwatch, str(empty)], env)  # trains the model on first use: not timed
        startup = min(wall([*doxwatch, str(empty)], env) for _ in range(3))
        whole = wall([*doxwatch, str(data)], env)
        bare = wall([sys.executable, "-c", JIEBA_LOOP, str(data)], env)
    ratio = bare / whole
    judged = whole - startup
    print(f"{options.lines} JSON lines")
    print(f"doxwatch classify --input   {whole:7.2f} s  ({options.lines / whole:,.0f} lines/s)")
    print(f"  start-up (empty input)    {startup:7.2f} s  imports, model load")
    print(f"  reading, judging, writing {judged:7.2f} s  ({options.lines / judged:,.0f} lines/s)")
    print(f"bare jieba.lcut loop        {bare:7.2f} s  ({options.lines / bare:,.0f} lines/s)")
    verdict = "ok" if ratio >= TARGET_RATIO else "MISSED"
    print(f"ratio jieba/doxwatch        {ratio:7.2f}    {verdict} (target >= {TARGET_RATIO})")


if __name__ == "__main__":
    main()
