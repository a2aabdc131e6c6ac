"""The engine is real: models trained with dlcore.train.fit reach their accuracy.

The tasks (architecture, data, hyperparameters, thresholds) are those of
``benchmarks/accuracy.py``, loaded from that file, so the test and the
published table cannot drift apart. One BLAS thread: these models are small and
threads only fight each other on a shared 2-core machine.
"""
from __future__ import annotations

import pytest
from bench_utils import load_benchmark
from threadpoolctl import threadpool_limits


@pytest.fixture(scope="module")
def bench():
    with load_benchmark("accuracy") as module:
        yield module


def run(bench, name):
    with threadpool_limits(1):
        return bench.run_dlcore(bench.BY_NAME[name])


@pytest.mark.parametrize("name, threshold", [
    ("mlp_digits", 0.97), ("cnn_digits", 0.98), ("lstm_digits", 0.95)])
def test_digits_accuracy(bench, name, threshold):
    result = run(bench, name)
    assert result.score >= threshold, f"{name}: test accuracy {result.score:.4f}"
    assert bench.BY_NAME[name].passes(result.score)


def test_same_run_twice_gives_the_same_accuracy(bench):
    assert run(bench, "mlp_digits").score == run(bench, "mlp_digits").score


@pytest.mark.slow
def test_lstm_solves_the_adding_problem_where_rnn_fails(bench):
    lstm = run(bench, "lstm_adding").score
    rnn = run(bench, "rnn_adding").score
    assert lstm < 0.05, f"LSTM test MSE {lstm:.4f}"
    assert rnn > 0.1, f"RNN test MSE {rnn:.4f}"


@pytest.mark.torch
def test_mlp_matches_pytorch(bench):
    import torch

    task = bench.BY_NAME["mlp_digits"]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        mine = run(bench, "mlp_digits").score
        with threadpool_limits(1):
            theirs = bench.run_torch(task).score
    finally:
        torch.set_num_threads(threads)
    assert abs(mine - theirs) <= 0.015, f"dlcore {mine:.4f}, PyTorch {theirs:.4f}"
