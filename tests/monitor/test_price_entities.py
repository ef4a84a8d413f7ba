"""A price reaches the database and the analyst with the service it is for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.db import open_database
from monitor.db.schema import Entity
from tests.monitor.cli_helpers import run_cli

MENU = "开盒业务 户籍 80，开房记录 200，病历 150/份 精准出 1-2天出单 担保交易 飞机@menu_seller"


def test_stored_and_shown_prices_name_their_service(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, classifier: object) -> None:
    url = f"sqlite:///{tmp_path / 'watch.db'}"
    post = json.dumps({"id": "menu-1", "text": MENU}, ensure_ascii=False) + "\n"
    assert run_cli(capsys, "--db", url, "ingest", "--source", "market", "-", stdin=post).code == 0
    classified = run_cli(capsys, "--db", url, "classify")
    assert classified.code == 0 and "1 offer" in classified.out, classified.err

    with open_database(url) as db, db.session() as session:
        stored = set(session.scalars(select(Entity.value).where(Entity.kind == "price")))
    assert stored == {"80 元 · 户籍", "200 元 · 开房记录", "150 元/份 · 病历"}

    shown = run_cli(capsys, "--db", url, "posts", "show", "1")
    assert shown.code == 0
    assert "80 元 · 户籍" in shown.out and "150 元/份 · 病历" in shown.out
