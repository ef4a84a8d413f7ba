"""`doxwatch labels export` and `import`: round trips in every format, bad files refused
whole with line (or Label Studio task) numbers, idempotent imports, spreadsheet formulas
neutralised, files written by Label Studio itself read."""

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


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "doccano", "label-studio"])
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
                     "nothing imported: 4 records rejected"):
        assert expected in result.err, expected
    assert _histories(url) == [[], [], []]  # line 1 was good, and still not imported
    assert cli(url, "labels", "export", "--format", "xml").code == 2


def _write(url: str, name: str, content: object) -> str:
    path = url.removeprefix("sqlite:///") + name
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(content if isinstance(content, str)
                     else json.dumps(content, ensure_ascii=False, indent=1))
    return path


def _choices(*values: str, control: str = "category") -> dict:
    return {"id": "r1", "from_name": control, "to_name": "text", "type": "choices",
            "origin": "manual", "value": {"choices": list(values)}}


def test_label_studio_export_is_one_task_per_post_with_an_annotation_per_analyst(cli):
    url = cli.database("watch.db")
    _label_some(url)
    tasks = json.loads(cli(url, "labels", "export", "--format", "label-studio").out)
    assert [task["data"]["post_id"] for task in tasks] == [1, 2, 3]
    first, second = tasks[0]["annotations"], tasks[1]["annotations"]
    assert len(first) == 1 and len(second) == 2
    assert first[0]["result"] == [
        {"from_name": "category", "to_name": "text", "type": "choices",
         "value": {"choices": ["doxxing"]}},
        {"from_name": "note", "to_name": "text", "type": "textarea",
         "value": {"text": ["+seen before"]}},
        {"from_name": "analyst", "to_name": "text", "type": "textarea",
         "value": {"text": ["alice"]}}]
    # bob's benign label is the choice "benign"; Label Studio refuses unknown users, so
    # no annotation names one
    assert second[1]["result"][0]["value"] == {"choices": ["benign"]}
    assert not any("completed_by" in a for task in tasks for a in task["annotations"])
    assert "id" not in tasks[0]  # Label Studio numbers its tasks itself


def test_a_label_studio_export_is_read_as_label_studio_writes_it(cli):
    url = cli.database("watch.db")
    export = [
        {"id": 101, "project": 7, "created_at": "2025-03-01T09:00:00.000Z",
         "updated_at": "2025-03-01T09:05:00.000Z", "inner_id": 1, "total_annotations": 2,
         "cancelled_annotations": 1, "file_upload": "posts.json", "meta": {},
         "data": {"text": POSTS[2]["text"]},
         "annotations": [
             {"id": 5001, "completed_by": 3, "was_cancelled": False, "ground_truth": False,
              "lead_time": 12.5, "task": 101, "project": 7, "result_count": 0,
              "created_at": "2025-03-01T09:05:00.000Z",
              "updated_at": "2025-03-01T09:05:00.000Z", "prediction": {},
              "result": [_choices("biometric", "medical", control="label"),
                         {"id": "r2", "from_name": "note", "to_name": "text",
                          "type": "textarea", "value": {"text": ["face pack"]}}]},
             {"id": 5002, "completed_by": 4, "was_cancelled": True, "lead_time": 1.0,
              "result": [_choices("gambling")]}],
         "predictions": [{"model_version": "v1", "score": 0.5,
                          "result": [_choices("doxxing")]}], "drafts": []},
        {"id": 102, "project": 7, "data": {"text": POSTS[1]["text"]},
         "annotations": [{"id": 5003, "was_cancelled": False, "lead_time": 3.0,
                          "completed_by": {"id": 9, "email": "erin@example.org",
                                           "first_name": "Erin", "last_name": ""},
                          "result": [_choices("benign")]}]},
        {"id": 103, "project": 7, "data": {"text": "还没有人标注的帖子"}, "annotations": []},
    ]
    path = _write(url, ".ls.json", export)
    first = cli(url, "labels", "import", path, "--format", "label-studio", "--analyst", "dora")
    assert first.code == 0, first.err
    assert "2 labels imported, 0 unchanged" in first.out
    histories = _histories(url)
    assert histories[2] == [("dora", ("medical", "biometric"), "face pack")]
    assert histories[1] == [("erin@example.org", (), None)]
    assert histories[0] == []
    again = cli(url, "labels", "import", path, "--format", "label-studio", "--analyst", "dora")
    assert "0 labels imported, 2 unchanged" in again.out
    assert _histories(url) == histories


def test_a_bad_label_studio_file_is_refused_whole_with_task_numbers(cli):
    url = cli.database("watch.db")
    good = {"data": {"text": POSTS[0]["text"], "post_id": 1},
            "annotations": [{"result": [_choices("doxxing")]}]}
    tasks = [
        good,
        {"data": {"content": POSTS[0]["text"]}, "annotations": []},
        {"data": {"text": POSTS[1]["text"]},
         "annotations": [{"completed_by": 1, "result": [_choices("gambling")]}]},
        {"data": {"text": POSTS[1]["text"]},
         "annotations": [{"result": [_choices("benign", "medical")]}]},
        {"data": {"text": "x", "post_id": 99}, "annotations": [{"result": [_choices("medical")]}]},
        {"data": {"text": POSTS[2]["text"]}, "annotations": [{"result": []}]},
        {"data": {"text": POSTS[2]["text"]}, "annotations": {"result": []}},
        {"data": {"text": POSTS[1]["text"], "post_id": 2},
         "annotations": [{"completed_by": 1, "result": [_choices("medical")]},
                         {"completed_by": 2, "result": [_choices("doxxing")]}]},
        "not a task",
    ]
    path = _write(url, ".ls.json", tasks)
    result = cli(url, "labels", "import", path, "--format", "label-studio", "--analyst", "dora")
    assert result.code == 1
    for expected in ("task 2: missing data.text",
                     "task 3 annotation 1: unknown choices gambling",
                     "task 4 annotation 1: benign chosen together with a category",
                     "task 5 annotation 1: no stored post has this post_id",
                     "task 6 annotation 1: no choice made",
                     'task 7: "annotations" must be a list',
                     "task 8 annotation 2: task 8 annotation 1 has a different label of "
                     "post 2 by 'dora'",
                     "task 9: expected a JSON object",
                     "nothing imported: 8 records rejected"):
        assert expected in result.err, expected
    assert "task 1" not in result.err
    assert _histories(url) == [[], [], []]  # task 1 was good, and still not imported


@pytest.mark.parametrize(("content", "reason"), [
    ('{"data": {"text": "a"}, "annotations": []}', "file: expected a JSON array of tasks"),
    ('[{"data": {"text": "a"}}', "file: not JSON"),
    ('{"post_id": 1, "labels": []}\n{"post_id": 2, "labels": []}\n', "file: not JSON"),
])
def test_only_a_json_array_of_tasks_is_a_label_studio_file(cli, content, reason):
    url = cli.database("watch.db")
    result = cli(url, "labels", "import", _write(url, ".json", content), "--format",
                 "label-studio")
    assert result.code == 1 and reason in result.err
    assert _histories(url) == [[], [], []]
