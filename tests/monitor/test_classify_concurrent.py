"""Two `doxwatch classify` processes on the same pending posts, on SQLite and PostgreSQL:
both finish, every post is judged once, nothing fails on the unique key."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.db import open_database
from monitor.db.schema import Entity, Prediction
from tests.monitor.cli_helpers import run_cli

pytestmark = pytest.mark.usefixtures("classifier")
DOXWATCH = str(Path(sys.executable).with_name("doxwatch"))


def test_concurrent_classify_runs_judge_each_post_once(capsys, db_url):
    lines = "".join(json.dumps({"id": n, "text": f"出 户籍 开房记录 秒查 第{n}单 飞机 @seller{n % 7}"
                                if n % 2 else f"周末第{n}次骑行，记得带水和头盔"},
                               ensure_ascii=False) + "\n" for n in range(300))
    assert run_cli(capsys, "--db", db_url, "db", "upgrade").code == 0
    assert run_cli(capsys, "--db", db_url, "ingest", "--source", "s", "-", stdin=lines).code == 0
    runs = [subprocess.Popen([DOXWATCH, "--db", db_url, "classify"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [run.communicate(timeout=300) for run in runs]
    for run, (_, err) in zip(runs, results, strict=True):
        assert run.returncode == 0, err
        assert "IntegrityError" not in err
    judged = [int(out.split("classified ")[1].split(" post")[0]) for out, _ in results]
    assert sum(judged) == 300  # each post counted by the process that stored it
    db = open_database(db_url)
    with db.session() as session:
        assert session.scalar(select(func.count(Prediction.id))) == 300
        offers = session.scalar(select(func.count(Prediction.id)).where(Prediction.is_offer))
        handles = session.scalar(select(func.count(Entity.id)).where(Entity.kind == "telegram"))
    db.dispose()
    assert offers > 100 and handles == offers  # one handle per offer, stored once
