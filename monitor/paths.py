"""Where doxwatch keeps its files when the configuration does not say.

One data directory holds the embedded SQLite database and the model files, so a
user can find (and back up, or delete) everything doxwatch wrote in one place.
``$DOXWATCH_HOME`` overrides the platform's choice: tests and containers use it.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def data_dir() -> Path:
    """The data directory, created on first use."""
    home = os.environ.get("DOXWATCH_HOME")
    path = Path(home).expanduser() if home else Path(platformdirs.user_data_dir("doxwatch"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_database_url() -> str:
    """The embedded SQLite database used when the configuration names none."""
    return f"sqlite:///{data_dir() / 'doxwatch.db'}"


def models_dir() -> Path:
    """Where trained model files (skops + sidecar JSON) are written; created on first use.

    ``$DOXWATCH_MODELS_DIR`` overrides it, so several data directories (test runs,
    demo databases) can share model files that are identical anyway.
    """
    override = os.environ.get("DOXWATCH_MODELS_DIR")
    path = Path(override).expanduser() if override else data_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path
