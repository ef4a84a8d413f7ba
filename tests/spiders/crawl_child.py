"""Run ``spiders.runner.run_crawls`` in a child process, as ``monitor/`` does.

The Twisted reactor cannot restart inside one pytest process, so each crawl test starts a
fresh interpreter: ``crawl_in_child`` sends the specs as JSON on stdin, the child runs the
crawl with ``JsonLinesPipeline`` collecting the items, and prints the outcomes as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from spiders.items import PostItem
from spiders.memory import DictMemory, MarkItem
from spiders.runner import CrawlOutcome, CrawlSpec, run_crawls
from spiders.settings import crawl_settings

REPO = Path(__file__).resolve().parents[2]
CHILD_TIMEOUT = 60


class JsonLinesPipeline:
    """Appends each item to the file named by the ``TEST_ITEMS_PATH`` setting; a
    ``MarkItem`` is written as ``{"mark": {...}}``, posts as they are."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    @classmethod
    def from_crawler(cls, crawler: Any) -> JsonLinesPipeline:
        return cls(crawler.settings["TEST_ITEMS_PATH"])

    def process_item(self, item: PostItem | MarkItem) -> PostItem | MarkItem:
        record = {"mark": asdict(item)} if isinstance(item, MarkItem) else asdict(item)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return item


def crawl_in_child(specs: list[CrawlSpec], items_path: Path, *,
                   max_page_bytes: int = 1_000_000,
                   memories: dict[str, DictMemory] | None = None,
                   ) -> tuple[list[CrawlOutcome], list[dict]]:
    """Crawl ``specs`` in a fresh interpreter; the outcomes and the items it collected.
    ``memories``: what each source's spider knows of earlier crawls (by source name)."""
    request = {
        "specs": [asdict(spec) for spec in specs],
        "items_path": str(items_path),
        "max_page_bytes": max_page_bytes,
        "memories": {name: {"stored": sorted(memory.stored_ids), "marks": memory.marks}
                     for name, memory in (memories or {}).items()},
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.spiders.crawl_child"], input=json.dumps(request),
        capture_output=True, text=True, cwd=REPO, timeout=CHILD_TIMEOUT, check=False,
    )
    assert done.returncode == 0, done.stderr
    outcomes = [CrawlOutcome(**outcome) for outcome in json.loads(done.stdout)]
    lines = items_path.read_text(encoding="utf-8").splitlines() if items_path.exists() else []
    return outcomes, [json.loads(line) for line in lines]


def main() -> None:
    request = json.load(sys.stdin)
    settings = crawl_settings(delay=0, timeout=10, max_page_bytes=request["max_page_bytes"],
                              user_agent="doxwatch-tests", obey_robots=True, retry_backoff=0)
    settings["ITEM_PIPELINES"] = {f"{__package__}.crawl_child.JsonLinesPipeline": 100}
    settings["TEST_ITEMS_PATH"] = request["items_path"]
    memories = {name: DictMemory(set(memory["stored"]), memory["marks"])
                for name, memory in request["memories"].items()}
    outcomes = run_crawls([CrawlSpec(**spec) for spec in request["specs"]], settings, memories)
    json.dump([asdict(outcome) for outcome in outcomes], sys.stdout)


if __name__ == "__main__":
    main()
