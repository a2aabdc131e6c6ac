"""benchmarks/speed.py measures what it says: both sides train the same model.

The timing itself is for a maintainer to run (`python benchmarks/speed.py`); here each
benchmark model takes one step on both sides from the same weights, and the losses and
updated weights must agree, so the table never compares two different computations.
"""
from __future__ import annotations

import numpy as np
import pytest
from bench_utils import load_benchmark


@pytest.fixture(scope="module")
def speed():
    with load_benchmark("speed") as module:
        yield module


@pytest.mark.torch
@pytest.mark.parametrize("index", range(4), ids=["mlp64", "mlp784", "cnn", "lstm"])
def test_both_sides_take_the_same_step(speed, index):
    case = speed.CASES[index]
    missing = speed.missing_layers(case)
    if missing:
        pytest.skip(f"dlcore.nn has no {', '.join(missing)} yet")
    model = speed.build_dlcore(case)
    torch_model = speed.build_torch(case, model.state_dict())
    x, y = speed.data(case)
    twin = speed.build_dlcore(case)
    twin.load_state_dict(model.state_dict())
    dl_step = speed.dlcore_step_fn(model, x, y)
    full_step = speed.dlcore_step_fn(twin, x, y, input_grad=True)   # the lessons' backward
    torch_step = speed.torch_step_fn(torch_model, x, y)
    for _ in range(2):
        loss = dl_step()
        np.testing.assert_allclose(loss, torch_step(), rtol=1e-4)
        assert full_step() == loss
    theirs = torch_model.state_dict()
    for key, value in model.state_dict().items():
        np.testing.assert_allclose(value, theirs[key].detach().numpy(), rtol=1e-3, atol=1e-5,
                                   err_msg=key)


def test_table_skips_missing_layers_and_runs_without_torch(speed):
    rows = [speed.Row(speed.CASES[0], dl_ms=1.5, full_ms=1.75),
            speed.Row(speed.CASES[2], note="skipped: dlcore.nn has no Conv2d yet")]
    text = speed.table(rows, have_torch=False)
    assert "| MLP 64-128-128-10, batch 128 | 1.50 | 1.75 | PyTorch not installed |" in text
    assert "skipped: dlcore.nn has no Conv2d yet" in text
