"""The built-in demo: the whole product on a small site served from this machine.

It uses the real parts (spiders in a child process, the classifier, the database, the
digest and two real channels), only the site and the throw-away database are made up
for the occasion, so what the demo shows is what a deployment does.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from monitor.classify import ClassifyReport
from monitor.config import ChannelConfig, Config, CrawlConfig, DigestConfig, SourceConfig
from monitor.crawl import CrawlSummary, crawl
from monitor.db import open_database
from monitor.demo_server import demo_sources, serve_demo_site
from monitor.digest import DigestReport, run_digest
from monitor.scheduler import classify


@dataclass(frozen=True)
class DemoReport:
    site: str
    database_url: str | None  # None: the throw-away database was removed
    output_dir: Path
    crawls: list[CrawlSummary]
    classified: ClassifyReport
    digest: DigestReport

    @property
    def html_files(self) -> list[Path]:
        return sorted(self.output_dir.glob("digest-*.html"))


def demo_config(base_url: str, database_url: str, output_dir: Path) -> Config:
    """The configuration a user would write for the demo site, built in code."""
    sources = tuple(
        SourceConfig(name=s["name"], kind=s["kind"], urls=tuple(s["urls"]), options=s["options"])
        for s in demo_sources(base_url)
    )
    channels = (
        ChannelConfig(name="terminal", kind="stdout", options={}),
        ChannelConfig(name="html", kind="file",
                      options={"path": str(output_dir), "formats": ["html", "txt"]}),
    )
    return Config(
        path=None,
        database_url=database_url,
        sources=sources,
        channels=channels,
        digest=DigestConfig(channels=("terminal", "html")),
        crawl=CrawlConfig(delay=0.0, timeout=10.0),
    )


def run_demo(db_path: Path | None = None, output_dir: Path | None = None, *,
             debug: bool = False) -> DemoReport:
    """Crawl, classify and digest the demo site. Without ``db_path`` the database is
    thrown away afterwards; the digest files stay (in a temporary directory without
    ``output_dir``), since showing them is the point."""
    workdir = Path(tempfile.mkdtemp(prefix="doxwatch-demo-"))
    database_url = f"sqlite:///{(db_path or workdir / 'demo.db').resolve()}"
    output_dir = (output_dir or workdir).resolve()
    db = open_database(database_url)
    try:
        with serve_demo_site() as base_url:
            config = demo_config(base_url, database_url, output_dir)
            crawls = crawl(config, db, debug=debug)
        classified = classify(config, db)
        digest = run_digest(config, db, classified.model_version)
    finally:
        db.dispose()
        if db_path is None:
            _remove_database(workdir / "demo.db")
        if output_dir != workdir.resolve():  # neither the database nor the digest is there
            shutil.rmtree(workdir, ignore_errors=True)
    return DemoReport(base_url, database_url if db_path else None, output_dir, crawls,
                      classified, digest)


def _remove_database(path: Path) -> None:
    """An SQLite file and its WAL companions."""
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
        (path.parent / name).unlink(missing_ok=True)
