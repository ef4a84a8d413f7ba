"""One trained classifier per test session: training takes seconds, not per test."""

from __future__ import annotations

import pytest

from models.predict import Classifier
from models.train import train


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    return train()
