"""`doxwatch labels export` and `import`: round trips in every format, bad files refused
whole with line numbers, idempotent imports, spreadsheet formulas neutralised."""

from __future__ import annotations

import csv
import io
import json

import pytest

from monitor.db import open_database
from monitor.labels import label_history, record_label
from tests.monitor.cli_helpers import run_cli

pytestmark = pytest.mark.usefixtures("classifier")

POSTS = [
    {"id": "a", "text": "可cx 户籍 开房 轨迹 秒出 飞机@io_seller"},
    {"id": "b", "text": "=HYPERLINK(\"http://evil\") 出医保记录 精准出"},
    {"id": "c", "text": "周六早上八点在公园门口集合，骑行四十公里。"},
]


@pytest.fixture
def cli(capsys, tmp_path):
    def run(url: str, *args: str, stdin: str = ""):
        return run_cli(capsys, "--db", url, *args, stdin=stdin)

    def database(name: str) -> str:
        url = f"sqlite:///{tmp_path / name}"
        lines = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in POSTS)
        assert run(url, "ingest", "--source", "tool", "-", stdin=lines).code == 0
        return url

    run.database = database
    return run


def _label_some(url: str) -> None:
    db = open_database(url)
    record_label(db, 1, "alice", ["doxxing"], "+seen before")
    record_label(db, 2, "alice", ["medical"])
    record_label(db, 2, "bob", [])
    record_label(db, 3, "bob", [], "chatter")
    db.dispose()


def _histories(url: str) -> list:
    db = open_database(url)
    try:
        return [label_history(db, post) for post in (1, 2, 3)]
    finally:
        db.dispose()


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "doccano"])
def test_every_format_round_trips_and_imports_once(cli, tmp_path, fmt):
    source = cli.database("source.db")
    _label_some(source)
    out = tmp_path / f"labels.{fmt}"
    exported = cli(source, "labels", "export", "--format", fmt, "--out", str(out))
    assert exported.code == 0 and "wrote 4 labels" in exported.err

    target = cli.database("target.db")
    first = cli(target, "labels", "import", str(out), "--format", fmt)
    assert first.code == 0, first.err
    assert "4 labels imported, 0 unchanged" in first.out
    assert _histories(target) == _histories(source)
    again = cli(target, "labels", "import", str(out), "--format", fmt)
    assert "0 labels imported, 4 unchanged" in again.out
    assert _histories(target) == _histories(source)


def test_doccano_lines_are_doccano_text_classification(cli):
    url = cli.database("watch.db")
    _label_some(url)
    lines = [json.loads(line) for line in cli(url, "labels", "export", "--format",
                                              "doccano").out.splitlines()]
    assert {"text", "label"} <= lines[0].keys() and lines[0]["label"] == ["doxxing"]
    # a file from doccano itself: text and label only, matched to the post by its text
    foreign = json.dumps({"text": POSTS[2]["text"], "label": ["biometric"]}, ensure_ascii=False)
    path = url.removeprefix("sqlite:///") + ".jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(foreign + "\n")
    result = cli(url, "labels", "import", path, "--format", "doccano", "--analyst", "dora")
    assert result.code == 0 and "1 labels imported" in result.out
    assert ("dora", ("biometric",), None) in _histories(url)[2]


def test_csv_cells_that_look_like_formulas_are_neutralised(cli):
    url = cli.database("watch.db")
    _label_some(url)
    rows = list(csv.reader(io.StringIO(cli(url, "labels", "export", "--format", "csv").out)))
    cells = [cell for row in rows[1:] for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    assert "'+seen before" in cells and any(cell.startswith("'=HYPERLINK") for cell in cells)


def test_a_file_with_bad_lines_is_refused_whole_with_line_numbers(cli, tmp_path):
    url = cli.database("watch.db")
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join([
        json.dumps({"post_id": 1, "labels": ["doxxing"], "analyst": "alice"}),
        "{not json",
        json.dumps({"post_id": 2, "labels": ["gambling"]}),
        json.dumps({"post_id": 99, "labels": []}),
        json.dumps({"labels": []}),
    ]) + "\n", encoding="utf-8")
    result = cli(url, "labels", "import", str(path))
    assert result.code == 1
    for expected in ("line 2: not JSON", "line 3: unknown categories gambling",
                     "line 4: no stored post has this post_id",
                     "line 5: needs a post_id or the post's text",
                     "nothing imported: 4 lines rejected"):
        assert expected in result.err, expected
    assert _histories(url) == [[], [], []]  # line 1 was good, and still not imported
    assert cli(url, "labels", "export", "--format", "xml").code == 2
