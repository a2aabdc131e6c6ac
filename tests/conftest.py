"""Shared fixtures and markers for the test suite."""
from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest
from notebook_runs import NotebookTimes

import dlcore

HAS_TORCH = importlib.util.find_spec("torch") is not None


def pytest_configure(config):
    config.pluginmanager.register(NotebookTimes(), "notebook-times")
    if os.environ.get("PYTEST_XDIST_WORKER"):
        one_thread_per_worker()


def one_thread_per_worker() -> None:
    """Under pytest-xdist (the default: see pyproject.toml) the workers already use every
    core, so each one, and every kernel or process it starts, does its products on one
    thread: idle BLAS and OpenMP threads spinning beside another worker slow both."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"             # children (kernels, graders), and torch on import
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)                  # this process's NumPy, already imported


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
