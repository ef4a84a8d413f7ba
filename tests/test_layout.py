"""The four packages keep their rooms: only monitor/ imports the others."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"monitor", "spiders", "models", "alerts"}
ALLOWED = {"monitor": OURS, "spiders": {"spiders"}, "models": {"models"},
           "alerts": {"alerts", "models"}}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names & OURS


@pytest.mark.parametrize("package", sorted(OURS))
def test_import_direction(package):
    for path in (ROOT / package).rglob("*.py"):
        wrong = _imports(path) - ALLOWED[package]
        assert not wrong, f"{path.relative_to(ROOT)} imports {sorted(wrong)}"


def test_no_pickle_loading():
    for package in OURS:
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for bad in ("pickle.load", "joblib.load", "cloudpickle", "dill.load"):
                assert bad not in text, f"{path.relative_to(ROOT)} uses {bad}"
