"""Backward without the input gradient: ``backward(g, input_grad=False)`` gives every
parameter the same gradient as ``backward(g)``, skips what only the data would get,
and ``fit`` uses it."""
from __future__ import annotations

import numpy as np
import pytest

from dlcore import nn, optim, train
from dlcore.data import DataLoader, TensorDataset


def grads(model: nn.Module) -> dict[str, np.ndarray]:
    return {name: p.grad.copy() for name, p in model.named_parameters()}


def both_ways(model: nn.Module, x: np.ndarray, rng) -> tuple[dict, dict, object]:
    """Parameter gradients of backward(g) and of backward(g, input_grad=False)."""
    out = model(x)
    out = out[0] if isinstance(out, tuple) else out      # recurrent: (output, h_n)
    g = rng.standard_normal(np.shape(out)).astype(np.float32)
    model.zero_grad()
    model.backward(g)
    full = grads(model)
    model(x)
    model.zero_grad()
    returned = model.backward(g, input_grad=False)
    return full, grads(model), returned


LAYERS = {
    "Linear": (lambda: nn.Linear(5, 3), (4, 5)),
    "Conv2d": (lambda: nn.Conv2d(2, 3, 3, stride=2, padding=1), (2, 2, 7, 6)),
    "RNN": (lambda: nn.RNN(3, 4, num_layers=2, batch_first=True), (2, 5, 3)),
    "LSTM": (lambda: nn.LSTM(3, 4, num_layers=2, batch_first=True), (2, 5, 3)),
    "GRU": (lambda: nn.GRU(3, 4, batch_first=True), (2, 5, 3)),
    "LastStep": (lambda: nn.LastStep(nn.LSTM(3, 4, batch_first=True), nn.Linear(4, 2)),
                 (2, 5, 3)),
    "Sequential": (lambda: nn.Sequential(nn.Flatten(), nn.Linear(12, 6), nn.Tanh(),
                                         nn.Linear(6, 2)), (3, 2, 6)),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_skipping_the_input_gradient_leaves_every_parameter_gradient_the_same(name, rng):
    build, shape = LAYERS[name]
    model = build()
    full, skipped, returned = both_ways(model, rng.standard_normal(shape).astype(np.float32),
                                        rng)
    assert returned is None
    assert full.keys() == skipped.keys()
    for key in full:
        assert np.abs(full[key]).sum() > 0, key
        np.testing.assert_array_equal(skipped[key], full[key], err_msg=key)


def test_recurrent_layers_still_give_the_initial_state_gradient(rng):
    lstm = nn.LSTM(3, 4, batch_first=True)
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    h0 = (rng.standard_normal((1, 2, 4)).astype(np.float32),) * 2
    out, _ = lstm(x, h0)
    g = rng.standard_normal(out.shape).astype(np.float32)
    lstm.backward(g)
    full = [a.copy() for a in lstm.grad_hx]
    lstm(x, h0)
    lstm.backward(g, input_grad=False)
    for a, b in zip(full, lstm.grad_hx, strict=True):
        np.testing.assert_array_equal(a, b)


class Spy(nn.Module):
    """A parameter-free layer that records whether its backward ran."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        return x

    def backward(self, grad_out):
        self.calls += 1
        return grad_out


class OwnLinear(nn.Linear):
    """A learner's layer: backward(grad_out) only, no input_grad."""

    def backward(self, grad_out):
        self.calls = getattr(self, "calls", 0) + 1
        return super().backward(grad_out)


def test_children_in_front_of_the_first_trainable_one_are_not_called(rng):
    front, middle = Spy(), Spy()
    frozen = nn.Linear(4, 4).requires_grad_(False)
    model = nn.Sequential(front, frozen, nn.ReLU(), nn.Linear(4, 3), middle, nn.Linear(3, 2))
    full, skipped, returned = both_ways(model, rng.standard_normal((5, 4)).astype(np.float32),
                                        rng)
    assert returned is None
    assert front.calls == 1 and middle.calls == 2     # front: only in backward(g)
    for key in ("3.weight", "3.bias", "5.weight", "5.bias"):
        np.testing.assert_array_equal(skipped[key], full[key])
    assert not skipped["1.weight"].any()              # frozen: nothing flowed into it


def test_a_first_layer_without_input_grad_is_called_the_plain_way(rng):
    own = OwnLinear(4, 3)
    assert not own.skips_input_grad and nn.Linear(4, 3).skips_input_grad
    model = nn.Sequential(own, nn.ReLU(), nn.Linear(3, 2))
    full, skipped, returned = both_ways(model, rng.standard_normal((5, 4)).astype(np.float32),
                                        rng)
    assert returned is None and own.calls == 2
    for key in full:
        np.testing.assert_array_equal(skipped[key], full[key])


def test_errors_still_name_the_child_when_the_input_gradient_is_skipped():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    with pytest.raises(RuntimeError, match="before forward") as info:
        model.backward(np.ones((5, 2), np.float32), input_grad=False)
    assert info.value.__notes__ == ["  in Sequential child (2) backward: Linear(3 -> 2)"]


class Recorder(nn.Sequential):
    """A Sequential that records how fit calls its backward."""

    skips_input_grad = True       # its own backward still takes input_grad

    def backward(self, grad_out, input_grad=True):
        self.flags = [*getattr(self, "flags", []), input_grad]
        return super().backward(grad_out, input_grad=input_grad)


class Plain(nn.Module):
    """A learner's model whose backward takes only grad_out."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))

    def forward(self, x):
        return self.body(x)

    def backward(self, grad_out):
        return self.body.backward(grad_out)


@pytest.mark.parametrize("kind", ["dlcore", "learner"])
def test_fit_input_grad_false_skips_the_data_gradient_where_the_model_allows_it(kind, rng):
    X = rng.standard_normal((64, 2)).astype(np.float32)
    y = (X[:, 0] > X[:, 1]).astype(np.int64)
    loader = DataLoader(TensorDataset(X, y), 16)
    if kind == "dlcore":
        model = Recorder(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    else:
        model = Plain()
    history = train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.5),
                        loader, epochs=5, progress=False, input_grad=False)
    assert history["loss"][-1] < history["loss"][0]
    if kind == "dlcore":
        assert model.flags == [False] * 20


def test_fit_calls_backward_plainly_by_default(rng):
    X = rng.standard_normal((32, 2)).astype(np.float32)
    y = (X[:, 0] > X[:, 1]).astype(np.int64)
    model = Recorder(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.5),
              DataLoader(TensorDataset(X, y), 16), epochs=1, progress=False)
    assert model.flags == [True, True]


def test_a_subclass_that_writes_its_own_backward_is_called_plainly_unless_it_says_so():
    class Own(nn.Linear):
        def backward(self, grad_out):
            return super().backward(grad_out)

    class Declared(nn.Linear):
        skips_input_grad = True

        def backward(self, grad_out, input_grad=True):
            return super().backward(grad_out, input_grad)

    assert not Own(2, 3).skips_input_grad and Declared(2, 3).skips_input_grad
    assert all(m.skips_input_grad for m in (nn.Linear(2, 3), nn.Conv2d(1, 2, 3), nn.RNN(2, 3),
                                            nn.LSTM(2, 3), nn.GRU(2, 3), nn.Sequential()))
    assert not any(m.skips_input_grad for m in (nn.ReLU(), nn.Module(), nn.BatchNorm1d(3)))
