"""nn.LastStep: a recurrent layer read out at its last step, with its backward pass."""
from __future__ import annotations

import numpy as np
import pytest

from dlcore import gradcheck, nn


@pytest.mark.parametrize("kind", [nn.RNN, nn.LSTM, nn.GRU])
def test_last_step_backward_passes_gradcheck(kind, rng):
    model = nn.LastStep(kind(2, 3, batch_first=True), nn.Linear(3, 2))
    result = gradcheck(model, rng.standard_normal((2, 4, 2)), tol=1e-5)
    assert result.ok, str(result)


def test_last_step_reads_only_the_last_hidden_state(rng):
    model = nn.LastStep(nn.RNN(1, 4, batch_first=True), nn.Linear(4, 1))
    x = rng.standard_normal((3, 5, 1)).astype(np.float32)
    output, _ = model.recurrent(x)
    np.testing.assert_allclose(model(x), model.head(output[:, -1]), rtol=1e-6)


def test_last_step_two_layers_and_a_sequential_head_pass_gradcheck(rng):
    model = nn.LastStep(nn.GRU(2, 3, num_layers=2, batch_first=True),
                        nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)))
    result = gradcheck(model, rng.standard_normal((2, 3, 2)), tol=1e-5)
    assert result.ok, str(result)


def test_last_step_asks_for_batch_first():
    with pytest.raises(ValueError, match=r"LastStep reads \(N, T, D\) inputs: build "
                                         r"LSTM\(2 -> 3\) with batch_first=True"):
        nn.LastStep(nn.LSTM(2, 3), nn.Linear(3, 1))


def test_last_step_backward_before_forward_is_a_clear_error():
    model = nn.LastStep(nn.RNN(2, 3, batch_first=True), nn.Linear(3, 1))
    with pytest.raises(RuntimeError, match="before forward"):
        model.backward(np.ones((1, 1), np.float32))


def test_last_step_matches_pytorch(rng):
    torch = pytest.importorskip("torch")
    model = nn.LastStep(nn.LSTM(3, 5, batch_first=True), nn.Linear(5, 2))
    lstm = torch.nn.LSTM(3, 5, batch_first=True)
    fc = torch.nn.Linear(5, 2)
    with torch.no_grad():
        for name, p in lstm.named_parameters():
            p.copy_(torch.from_numpy(getattr(model.recurrent, name).data))
        fc.weight.copy_(torch.from_numpy(model.head.weight.data))
        fc.bias.copy_(torch.from_numpy(model.head.bias.data))
    x = rng.standard_normal((4, 6, 3)).astype(np.float32)
    g = rng.standard_normal((4, 2)).astype(np.float32)
    xt = torch.from_numpy(x).requires_grad_()
    out, _ = lstm(xt)
    yt = fc(out[:, -1])
    yt.backward(torch.from_numpy(g))
    y = model(x)
    dx = model.backward(g)
    np.testing.assert_allclose(y, yt.detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-6)
    np.testing.assert_allclose(model.recurrent.weight_hh_l0.grad,
                               lstm.weight_hh_l0.grad.numpy(), atol=1e-5)
