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


STEP_TIMER = """
import time, numpy as np, dlcore
from dlcore import nn, optim
dlcore.manual_seed(0)
model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                      nn.Linear(256, 10))
x = np.random.default_rng(0).standard_normal((128, 784)).astype(np.float32)
y = np.arange(128) % 10
loss_fn, opt = nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.01)
def step():
    opt.zero_grad(); loss_fn(model(x), y); model.backward(loss_fn.backward()); opt.step()
for _ in range(5):
    step()
times = []
for _ in range(5):
    start = time.perf_counter()
    for _ in range(10):
        step()
    times.append((time.perf_counter() - start) / 10)
print(sorted(times)[2])
"""


def test_a_training_step_runs_on_one_blas_thread_pool():
    """A training step must load one BLAS library, NumPy's. A second one with its own
    thread pool (SciPy's OpenBLAS beside NumPy's) once made an MLP step 10-20x slower on
    a 2-core machine: the two pools' idle workers spun against each other.

    This checks the cause, which is deterministic, not the symptom: timing a step with
    two BLAS threads against one tells nothing while another test worker holds the other
    core (two threads then measured 9.6x slower with one library loaded, an OpenBLAS
    thread waiting for a core). benchmarks/speed.py reports the threads it used."""
    import json
    import subprocess
    import sys

    code = STEP_TIMER + (
        "from threadpoolctl import threadpool_info\n"
        "print(json.dumps([p['filepath'] for p in threadpool_info()"
        " if p['user_api'] == 'blas']))\n")
    out = subprocess.run([sys.executable, "-c", "import json\n" + code], check=True,
                         capture_output=True, text=True, timeout=120).stdout
    libraries = json.loads(out.strip().splitlines()[-1])
    assert len(libraries) == 1, (f"a training step loaded {len(libraries)} BLAS libraries, "
                                 f"each with its own thread pool: {libraries}")
