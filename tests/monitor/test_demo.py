"""`doxwatch demo` end to end: real site on loopback, real spiders, real classifier."""

from __future__ import annotations

import tempfile
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from monitor.db import open_database
from monitor.db.schema import DigestPost, Post, Source
from monitor.demo_server import expected_labels
from tests.monitor.cli_helpers import run_cli

# They classify through `monitor`: load the session's model rather than train it.
pytestmark = pytest.mark.usefixtures("classifier")


def test_demo_shows_the_offers_and_none_of_the_benign_posts(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where mkdtemp puts its dirs
    db_file, out_dir = tmp_path / "demo.db", tmp_path / "out"
    result = run_cli(capsys, "demo", "--db", str(db_file), "--out", str(out_dir))
    assert result.code == 0, result.out + result.err
    assert not list(tmp_path.glob("doxwatch-demo-*"))  # --db and --out: no working directory
    assert "demo-forum: ok" in result.out.replace("crawled ", "")
    html_files = list(out_dir.glob("digest-*.html"))
    assert len(html_files) == 1 and f"HTML digest: {html_files[0]}" in result.out

    expected = expected_labels()
    db = open_database(f"sqlite:///{db_file}")
    with db.session() as session:
        rows = session.execute(
            select(Post, Source.name).join(Source, Source.id == Post.source_id)
        ).all()
        assert len(rows) == len(expected)
        keys = {post.id: _key(post, source) for post, source in rows}
        digested = {keys[p] for p in session.scalars(select(DigestPost.post_id)).all()}
    db.dispose()

    offers = {key for key, labels in expected.items() if labels}
    benign_shown = digested - offers
    assert not benign_shown, f"benign posts in the digest: {sorted(benign_shown)}"
    missed = offers - digested
    assert len(missed) <= 2, f"offers missing from the digest: {sorted(missed)}"

    text = next(out_dir.glob("digest-*.txt")).read_text(encoding="utf-8")
    assert "dw_demo_" in text  # sellers' handles reach the analyst
    assert "<script" not in html_files[0].read_text(encoding="utf-8").lower()


def _key(post: Post, source: str) -> str:
    return urlsplit(post.url).path if source == "demo-forum" else post.external_id



def test_the_demo_leaves_no_database_behind_unless_asked(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where mkdtemp puts its dirs
    out_dir = tmp_path / "out"
    result = run_cli(capsys, "demo", "--out", str(out_dir))
    assert result.code == 0, result.out + result.err
    assert "Database: thrown away (--db FILE keeps it)" in result.out
    assert list(out_dir.glob("digest-*.html"))
    leftovers = [p for p in tmp_path.rglob("*") if p.name.startswith("demo.db")]
    assert leftovers == [] and not list(tmp_path.glob("doxwatch-demo-*"))
