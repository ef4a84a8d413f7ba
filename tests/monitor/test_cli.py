"""Every command of the CLI, run through the real entry point."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.monitor.cli_helpers import ingest_config, run_cli, write_config

# They classify through `monitor`: load the session's model rather than train it.
pytestmark = pytest.mark.usefixtures("classifier")

OFFER = "可cx 户籍 开房 轨迹 机主 秒出 担保交易 飞机@lookup_king 价格私聊"
MEDICAL_OFFER = "出医保记录 就诊记录 住院病历 精准出 1-2天出单 一条800元 薇 med_data_88"
BENIGN = "警方提醒：网上自称能查开房记录、查户籍的都是违法行为，切勿轻信，遇到请报警。"


def test_no_arguments_shows_help(capsys):
    result = run_cli(capsys)
    assert result.code in (0, 2)
    assert "doxwatch" in result.out + result.err


def test_init_writes_a_starter_file_that_loads(capsys, tmp_path):
    path = tmp_path / "doxwatch.toml"
    assert run_cli(capsys, "init", str(path)).code == 0
    assert path.read_text(encoding="utf-8").lstrip().startswith("#")
    assert run_cli(capsys, "--config", str(path), "status").code == 0
    again = run_cli(capsys, "init", str(path))
    assert again.code == 2
    assert "exists" in again.err and len(again.err.strip().splitlines()) == 1


@pytest.mark.parametrize("url", [
    "notaurl", "postgresql://u:hunter2@host:notaport/db", "mysqlx://u:hunter2@host/db"])
def test_a_bad_db_option_is_a_usage_error_that_hides_the_password(capsys, tmp_path, url):
    path = write_config(tmp_path / "ok.toml", "")
    result = run_cli(capsys, "--config", str(path), "--db", url, "status")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: --db: ")
    assert "hunter2" not in result.err and "Traceback" not in result.err


def test_a_bad_database_url_in_the_environment_names_the_variable(capsys, tmp_path,
                                                                  monkeypatch):
    monkeypatch.setenv("WATCH_DB", "postgresql://u:hunter2@host:notaport/db")
    path = write_config(tmp_path / "env.toml", '[database]\nurl_env = "WATCH_DB"\n')
    result = run_cli(capsys, "--config", str(path), "status")
    assert result.code == 2
    assert "environment variable WATCH_DB" in result.err and "hunter2" not in result.err


def test_bad_config_is_one_line_and_exit_2(capsys, tmp_path):
    path = write_config(tmp_path / "bad.toml", '[digest]\ntimezone = "Mars/Olympus"\n')
    result = run_cli(capsys, "--config", str(path), "status")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1
    assert "bad.toml" in lines[0] and "timezone" in lines[0]


def test_status_on_defaults(capsys):
    result = run_cli(capsys, "status")
    assert result.code == 0, result.err
    assert "Posts: 0" in result.out
    assert "No sources configured" in result.out


def test_db_upgrade(capsys, db_url):
    result = run_cli(capsys, "--db", db_url, "db", "upgrade")
    assert result.code == 0, result.err
    assert "revision" in result.out


def test_classify_json_lines_contract(capsys):
    lines = [
        json.dumps({"id": "a", "text": OFFER}, ensure_ascii=False),
        "not json",
        json.dumps({"id": 7, "text": BENIGN}, ensure_ascii=False),
        json.dumps({"id": "m", "text": MEDICAL_OFFER}, ensure_ascii=False),
    ]
    result = run_cli(capsys, "classify", "--input", "-", stdin="\n".join(lines) + "\n")
    assert result.code == 1  # one line could not be read; the others were still judged
    out = [json.loads(line) for line in result.out.splitlines()]
    assert [o["id"] for o in out] == ["a", None, 7, "m"]
    assert "error" in out[1]
    first = out[0]
    assert set(first) == {"id", "labels", "scores", "is_offer"}
    assert set(first["scores"]) == {"medical", "doxxing", "biometric"}
    assert first["is_offer"] and "doxxing" in first["labels"]
    assert out[2]["is_offer"] is False and out[2]["labels"] == []
    assert "medical" in out[3]["labels"]


def test_classify_file_and_explain(capsys, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"id": 1, "text": OFFER}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    result = run_cli(capsys, "classify", "--input", str(path), "--explain")
    assert result.code == 0, result.err
    record = json.loads(result.out)
    assert record["terms"] and all(isinstance(t[0], str) for t in record["terms"])


def test_classify_texts_for_a_person(capsys):
    result = run_cli(capsys, "classify", "--explain", OFFER, BENIGN)
    assert result.code == 0, result.err
    assert result.out.count("OFFER") == 1
    assert "benign" in result.out
    assert "because:" in result.out


def test_classify_missing_input_file(capsys, tmp_path):
    result = run_cli(capsys, "classify", "--input", str(tmp_path / "nope.jsonl"))
    assert result.code == 2
    assert "cannot read" in result.err


def _ingest_config(tmp_path: Path, out_dir: Path) -> Path:
    return ingest_config(tmp_path, f"""
[digest]
channels = ["folder"]

[[channels]]
name = "folder"
kind = "file"
path = "{out_dir}"
formats = ["html", "txt", "json"]
""")


def test_ingest_classify_posts_and_digest(capsys, tmp_path, db_url):
    """The whole flow of commands, on SQLite and on PostgreSQL (--db overrides the file)."""
    out_dir = tmp_path / "out"
    config = str(_ingest_config(tmp_path, out_dir))
    posts = [
        {"id": "p1", "url": "https://example.org/1", "title": "业务", "text": OFFER},
        {"id": "p2", "text": BENIGN},
        {"id": "p3", "title": "医疗", "text": MEDICAL_OFFER + " 患者身份证 11010519491231002X"},
    ]
    stdin = "\n".join(json.dumps(p, ensure_ascii=False) for p in posts) + "\n{broken\n"
    # PostgreSQL is never migrated behind a team's back; SQLite would be, this is harmless.
    assert run_cli(capsys, "--config", config, "--db", db_url, "db", "upgrade").code == 0
    result = run_cli(capsys, "--config", config, "--db", db_url, "ingest", "--source", "elsewhere", "-",
                     stdin=stdin)
    assert result.code == 1  # the broken line is reported, the good ones are stored
    assert "3 new" in result.out and "line 4" in result.err

    again = run_cli(capsys, "--config", config, "--db", db_url, "ingest", "--source", "elsewhere", "-",
                    stdin="\n".join(json.dumps(p, ensure_ascii=False) for p in posts))
    assert again.code == 0 and "0 new" in again.out

    classified = run_cli(capsys, "--config", config, "--db", db_url, "classify")
    assert classified.code == 0, classified.err
    assert "classified 3 posts" in classified.out and "2 offers" in classified.out

    listed = run_cli(capsys, "--config", config, "--db", db_url, "posts", "list", "--flagged")
    assert listed.code == 0
    assert "业务" in listed.out and "医疗" in listed.out

    shown = run_cli(capsys, "--config", config, "--db", db_url, "posts", "show", "3")
    assert shown.code == 0
    assert "11010519491231002X" not in shown.out  # the victim's ID number is masked
    assert "110105********002X" in shown.out
    assert run_cli(capsys, "--config", config, "--db", db_url, "posts", "show", "99").code == 2

    preview = run_cli(capsys, "--config", config, "--db", db_url, "digest", "--dry-run")
    assert preview.code == 0 and "lookup_king" in preview.out
    assert not out_dir.exists()  # a dry run sends nothing

    sent = run_cli(capsys, "--config", config, "--db", db_url, "digest")
    assert sent.code == 0, sent.err
    assert "2 offers" in sent.out and "folder: sent" in sent.out
    payload = json.loads(next(out_dir.glob("digest-*.json")).read_text(encoding="utf-8"))
    assert len(payload["entries"]) == 2
    assert payload["created_at"].endswith("+08:00")  # the default timezone, Asia/Shanghai

    second = run_cli(capsys, "--config", config, "--db", db_url, "digest")
    assert second.code == 0
    assert "nothing new" in second.out and "sent" not in second.out
    assert len(list(out_dir.glob("digest-*.json"))) == 1

    status = run_cli(capsys, "--config", config, "--db", db_url, "status")
    assert "Posts: 3" in status.out and "flagged: 2" in status.out


def test_ingest_into_an_undeclared_source_records_an_external_one(capsys, tmp_path):
    config = str(_ingest_config(tmp_path, tmp_path / "out"))
    post = json.dumps({"id": "x1", "text": OFFER}, ensure_ascii=False) + "\n"
    result = run_cli(capsys, "--config", config, "ingest", "--source", "other-tool", "-",
                     stdin=post)
    assert result.code == 0, result.err
    assert "1 new" in result.out
    assert "other-tool: not in the configuration, recorded as an external source" in result.err
    again = run_cli(capsys, "--config", config, "ingest", "--source", "other-tool", "-",
                    stdin=post)
    assert again.code == 0 and "0 new, 1 updated" in again.out
    listed = run_cli(capsys, "--config", config, "posts", "list", "--source", "other-tool")
    assert listed.code == 0 and "other-tool" in listed.out
    crawled = run_cli(capsys, "--config", config, "crawl", "other-tool")
    assert crawled.code == 2  # recorded, never crawled
    empty = run_cli(capsys, "--config", config, "ingest", "--source", " ", "-", stdin=post)
    assert empty.code == 2 and "source name" in empty.err


def test_models_list_and_activate(capsys):
    assert run_cli(capsys, "classify", BENIGN).code == 0  # first use trains a model
    listed = run_cli(capsys, "models", "list")
    assert listed.code == 0 and "*" in listed.out
    version = re.search(r"v\d+-[0-9a-f]{8}", listed.out).group(0)
    assert run_cli(capsys, "models", "activate", version).code == 0
    missing = run_cli(capsys, "models", "activate", "v0-nope")
    assert missing.code == 2 and "v0-nope" in missing.err


@pytest.mark.parametrize("args", [["crawl"], ["run", "--once"]])
def test_commands_without_sources_say_so(capsys, args):
    result = run_cli(capsys, *args)
    if args == ["crawl"]:
        assert result.code == 2 and "no sources" in result.err
    else:
        assert result.code == 0, result.err
        assert "nothing new" in result.out


SECRET_CHANNEL = """
[[channels]]
name = "mail"
kind = "email"
host = "127.0.0.1"
sender = "doxwatch@example.org"
to = ["soc@example.org"]
username_env = "DOXWATCH_TEST_SMTP_USER"
password_env = "DOXWATCH_TEST_SMTP_PASSWORD"
"""


@pytest.mark.parametrize("args", [["status"], ["digest"], ["digest", "--dry-run"],
                                  ["run", "--once"], ["run"]])
def test_a_missing_secret_stops_the_command_at_start_up(capsys, tmp_path, monkeypatch, args):
    """Not at 9 a.m. when the digest is sent: before anything runs, naming the field."""
    monkeypatch.setenv("DOXWATCH_TEST_SMTP_USER", "watcher")
    monkeypatch.delenv("DOXWATCH_TEST_SMTP_PASSWORD", raising=False)
    config = write_config(tmp_path / "doxwatch.toml", f"""
[database]
url = "sqlite:///{tmp_path / 'watch.db'}"
{SECRET_CHANNEL}""").resolve()
    result = run_cli(capsys, "--config", str(config), *args)
    assert result.code == 2
    assert result.err == (f"Error: {config}: channels[0].password_env: environment variable "
                          "DOXWATCH_TEST_SMTP_PASSWORD is not set\n")

    monkeypatch.setenv("DOXWATCH_TEST_SMTP_PASSWORD", "s3cret")
    if args == ["status"]:
        assert run_cli(capsys, "--config", str(config), "status").code == 0


def test_classify_input_with_a_byte_that_is_not_utf8_judges_the_other_lines(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from tests.monitor.test_ingest import BAD_BYTE_LINES

    doxwatch = str(Path(sys.executable).with_name("doxwatch"))
    done = subprocess.run([doxwatch, "classify", "--input", "-"], input=BAD_BYTE_LINES,
                          capture_output=True, timeout=300)
    assert done.returncode == 1
    out = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [o["id"] for o in out] == ["1", None, "3"]
    assert out[1]["error"] == "line 2: not UTF-8: byte 0xff at column 22"
    assert out[0]["is_offer"] and not out[2]["is_offer"]


def test_version(capsys):
    from importlib import metadata

    result = run_cli(capsys, "--version")
    assert result.code == 0 and result.out == f"doxwatch {metadata.version('doxwatch')}\n"


def test_a_new_sqlite_database_is_readable_by_its_owner_only(capsys, tmp_path):
    path = tmp_path / "private" / "watch.db"
    assert run_cli(capsys, "--db", f"sqlite:///{path}", "status").code == 0
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700


HOSTILE_TITLE = "出户籍\x1b]8;;http://evil.test\x07点我\x1b]8;;\x07 [link=http://evil.test]查[/link] \x1b[2J"


def test_posts_list_and_show_never_pass_escapes_or_markup_to_the_terminal(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'watch.db'}"
    line = json.dumps({"id": "x", "title": HOSTILE_TITLE, "text": HOSTILE_TITLE + "\n第二行"},
                      ensure_ascii=False)
    assert run_cli(capsys, "--db", url, "ingest", "--source", "s", "-", stdin=line + "\n").code == 0
    listed = run_cli(capsys, "--db", url, "posts", "list")
    shown = run_cli(capsys, "--db", url, "posts", "show", "1")
    for out in (listed.out, shown.out):
        assert "\x1b" not in out and "\x07" not in out
        assert "[link=http://evil.test]" in out  # shown as the text it is, not obeyed
    assert "第二行" in shown.out


def test_posts_list_of_an_unknown_source_says_so(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'watch.db'}"
    assert run_cli(capsys, "--db", url, "ingest", "--source", "s", "-",
                   stdin='{"id": 1, "text": "x"}\n').code == 0
    result = run_cli(capsys, "--db", url, "posts", "list", "--source", "nope")
    assert result.code == 2 and "no source named 'nope'; known: s" in result.err
