"""Shared fixtures and markers for the test suite."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import dlcore

HAS_TORCH = importlib.util.find_spec("torch") is not None


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "torch" in item.keywords and not HAS_TORCH:
            item.add_marker(pytest.mark.skip(reason="PyTorch is not installed"))


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same random state."""
    dlcore.manual_seed(0)
    yield


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
