"""Fixtures shared by every test: isolated home, loopback HTTP server, real databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import LoopbackServer, loopback_server

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
PG_ADMIN_URL = os.environ.get(
    "DOXWATCH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def shared_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Model files are the same for every test (deterministic training): train once."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def classifier(shared_models_dir: Path):
    """The model trained from the shipped data, once per test session (about 20 s).

    Saved where a fresh database's first use looks for a model trained from the same data,
    so every test that classifies through ``monitor`` (and every ``doxwatch`` child process,
    which inherits ``DOXWATCH_MODELS_DIR``) loads it instead of training again.
    """
    from models.store import save
    from models.train import train

    trained = train()
    save(trained, shared_models_dir / f"{trained.version}.skops")
    return trained


@pytest.fixture(autouse=True)
def doxwatch_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
                  shared_models_dir: Path) -> Path:
    """Every test gets its own data directory and no stray config from the developer's shell."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("DOXWATCH_HOME", str(home))
    monkeypatch.setenv("DOXWATCH_MODELS_DIR", str(shared_models_dir))
    monkeypatch.delenv("DOXWATCH_CONFIG", raising=False)
    return home


@pytest.fixture
def http_server() -> Iterator[LoopbackServer]:
    with loopback_server() as server:
        yield server


def _unavailable(what: str, error: Exception) -> None:
    """Under CI a missing server is a failure, elsewhere a skip."""
    message = f"{what} is not reachable: {error}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    admin = sqlalchemy.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"doxwatch_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as error:  # noqa: BLE001 - any failure means "no server"
        admin.dispose()
        _unavailable("PostgreSQL at 127.0.0.1:5432", error)
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            )
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs on the embedded SQLite and on a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'watch.db'}"
    url = request.getfixturevalue("pg_url")
    _reset_pg(url)
    return url


def _reset_pg(url: str) -> None:
    """Each test starts from an empty database: drop every table of the public schema."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The shared seed articles, which live beside the repository, never in it (they are
    other people's reporting): a clone without them skips these tests, CI fails them."""
    if not SEEDS.is_dir():
        _unavailable(f"the shared seed articles ({SEEDS}, beside this repository)",
                     FileNotFoundError(SEEDS))
    return SEEDS


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on loopback that keeps what it receives."""
    from tests.helpers import smtp_server as serve

    with serve() as server:
        yield server
