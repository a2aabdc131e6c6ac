"""Parameter, Module, Sequential and ModuleList: registration, traversal, modes,
state dicts, dtype casts, error notes and repr."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

from dlcore import gradcheck, nn, optim
from dlcore.nn.module import IncompatibleKeys


class TwoLayer(nn.Module):
    """A hand-written model, as a learner would write one."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
        self.head = nn.Linear(8, 3)
        self.scale = nn.Parameter(np.ones(3))
        self.register_buffer("steps", np.zeros(1))
        self.note = "not registered"

    def forward(self, x):
        h = self.head(self.encoder(x))
        self._cache = h
        return h * self.scale.data

    def backward(self, grad_out):
        h = self._saved()
        self.scale.grad += (grad_out * h).sum(axis=0)
        return self.encoder.backward(self.head.backward(grad_out * self.scale.data))


def mlp() -> nn.Sequential:
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


# -- Parameter ---------------------------------------------------------------

def test_parameter_holds_data_and_a_zero_grad_of_the_same_shape():
    p = nn.Parameter(np.arange(6.0).reshape(2, 3))
    assert p.shape == (2, 3) and p.dtype == np.float64 and p.numel() == 6
    assert p.grad.shape == (2, 3) and not p.grad.any()
    p.grad += 1
    p.zero_grad()
    assert not p.grad.any()
    assert "shape=(2, 3)" in repr(p)


def test_parameter_copies_its_data_and_makes_integers_float32():
    data = np.arange(3)
    p = nn.Parameter(data)
    p.data[0] = 7
    assert data[0] == 0
    assert p.dtype == np.float32


# -- registration and traversal ------------------------------------------------

def test_attributes_register_parameters_modules_and_buffers_in_order():
    model = TwoLayer()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["scale", "encoder.0.weight", "encoder.0.bias", "head.weight", "head.bias"]
    assert [name for name, _ in model.named_children()] == ["encoder", "head"]
    assert len(list(model.children())) == 2
    assert [type(m).__name__ for m in model.modules()] == [
        "TwoLayer", "Sequential", "Linear", "ReLU", "Linear"]
    assert [name for name, _ in model.named_buffers()] == ["steps"]
    assert len(list(model.parameters(recurse=False))) == 1
    assert "note" not in model.state_dict()


def test_reassigning_an_attribute_replaces_the_registration():
    model = TwoLayer()
    model.head = nn.Identity()
    assert [n for n, _ in model.named_parameters()] == ["scale", "encoder.0.weight",
                                                        "encoder.0.bias"]
    model.scale = None
    assert "scale" not in dict(model.named_parameters())
    del model.head
    assert [n for n, _ in model.named_children()] == ["encoder"]


def test_a_shared_layer_lists_its_parameters_once():
    layer = nn.Linear(3, 3)
    assert len(list(nn.Sequential(layer, nn.ReLU(), layer).parameters())) == 2


def test_a_custom_module_passes_gradcheck(rng):
    model = TwoLayer()
    model.scale.data = rng.standard_normal(3)
    result = gradcheck(model, rng.standard_normal((2, 4)))
    assert result.ok, str(result)
    assert [c.name for c in result.comparisons] == ["input", "scale", "encoder.0.weight",
                                                    "encoder.0.bias", "head.weight",
                                                    "head.bias"]


def test_forgetting_super_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"must call super\(\).__init__\(\)"):
        Broken()


def test_a_module_without_forward_or_backward_says_what_to_write():
    class Empty(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match="Empty must implement forward"):
        Empty()(np.zeros(2))
    with pytest.raises(NotImplementedError, match="add the gradient of each parameter"):
        Empty().backward(np.zeros(2))


def test_train_and_eval_reach_every_submodule():
    model = TwoLayer()
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_zero_grad_and_requires_grad():
    model = mlp()
    for p in model.parameters():
        p.grad += 1
    model.zero_grad()
    assert not any(p.grad.any() for p in model.parameters())
    model[0].requires_grad_(False)
    assert [p.requires_grad for p in model.parameters()] == [False, False, True, True]


def test_apply_visits_children_first():
    seen = []
    mlp().apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "Sequential"]


# -- forward and backward -------------------------------------------------------

def test_sequential_backward_is_the_chain_rule_through_its_children(rng):
    model = mlp().double()
    x = rng.standard_normal((5, 4))
    g = rng.standard_normal((5, 3))
    y = model(x)
    h = np.maximum(x @ model[0].weight.data.T + model[0].bias.data, 0)
    np.testing.assert_allclose(y, h @ model[2].weight.data.T + model[2].bias.data)
    dx = model.backward(g)
    dh = (g @ model[2].weight.data) * (h > 0)
    np.testing.assert_allclose(dx, dh @ model[0].weight.data)
    np.testing.assert_allclose(model[2].weight.grad, g.T @ h)
    np.testing.assert_allclose(model[0].bias.grad, dh.sum(0))


def test_backward_adds_into_grad_so_two_passes_double_it(rng):
    model = mlp()
    x = rng.standard_normal((5, 4)).astype(np.float32)
    g = rng.standard_normal((5, 3)).astype(np.float32)
    model(x)
    model.backward(g)
    once = [p.grad.copy() for p in model.parameters()]
    model(x)
    model.backward(g)
    for first, twice in zip(once, model.parameters(), strict=True):
        np.testing.assert_allclose(twice.grad, 2 * first, rtol=1e-6)


def test_backward_does_not_change_grad_out(rng):
    model = mlp()
    g = rng.standard_normal((5, 3)).astype(np.float32)
    kept = g.copy()
    model(rng.standard_normal((5, 4)).astype(np.float32))
    model.backward(g)
    np.testing.assert_array_equal(g, kept)


def test_backward_before_forward_names_the_layer_and_the_sequential_child():
    model = mlp()
    with pytest.raises(RuntimeError, match=r"Linear\(8 -> 3\): backward\(\) was called "
                                           r"before forward\(\)") as info:
        model.backward(np.zeros((2, 3), np.float32))
    assert any("Sequential child (2)" in note for note in info.value.__notes__)


def test_a_wrong_input_inside_sequential_names_the_child():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(7, 2))
    with pytest.raises(ValueError, match=r"Linear\(7 -> 2\) expected input \(\.\.\., 7\), "
                                         r"got \(3, 8\)") as info:
        model(np.zeros((3, 4), np.float32))
    assert info.value.__notes__ == ["  in Sequential child (2): Linear(7 -> 2)"]


def test_nested_sequentials_add_one_note_per_level():
    model = nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.ReLU(), nn.Linear(5, 2)))
    with pytest.raises(ValueError) as info:
        model(np.zeros((3, 4), np.float32))
    assert info.value.__notes__ == ["  in Sequential child (1): Linear(5 -> 2)",
                                    "  in Sequential child (1): Sequential()"]


# -- Sequential and ModuleList as containers -------------------------------------

def test_sequential_indexing_slicing_length_and_append():
    model = mlp()
    assert isinstance(model[0], nn.Linear) and model[-1] is model[2]
    assert len(model) == 3 and list(model) == [model[0], model[1], model[2]]
    head = model[1:]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[1] is model[2]
    assert list(head.state_dict()) == ["2.weight", "2.bias"]        # names are kept
    model.append(nn.Softmax(dim=1))
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(model) == 4


def test_sequential_takes_an_ordered_dict_of_names():
    model = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.Tanh())]))
    assert list(model.state_dict()) == ["fc.weight", "fc.bias"]
    assert model.fc is model[0]


def test_sequential_rejects_a_class_instead_of_an_instance():
    with pytest.raises(TypeError, match=r"did you forget the parentheses, nn.ReLU\(\)"):
        nn.Sequential(nn.Linear(2, 2), nn.ReLU)


def test_module_list_registers_its_modules():
    layers = nn.ModuleList([nn.Linear(2, 3), nn.Linear(3, 1)])
    layers.append(nn.ReLU()).extend([nn.Linear(1, 1)])
    assert len(layers) == 4 and isinstance(layers[3], nn.Linear)
    assert isinstance(layers[1:3], nn.ModuleList) and layers[1:3][1] is layers[2]
    assert list(layers.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias",
                                         "3.weight", "3.bias"]
    assert len(list(iter(layers))) == 4


# -- dtype ----------------------------------------------------------------------

def test_double_and_float_cast_parameters_grads_and_buffers(rng):
    model = TwoLayer().double()
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float64)}
    assert {p.grad.dtype for p in model.parameters()} == {np.dtype(np.float64)}
    assert model.steps.dtype == np.float64 and model.state_dict()["steps"].dtype == np.float64
    model.float()
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float32)}
    assert model.steps.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_model_keeps_its_dtype_through_forward_and_backward(dtype, rng):
    model = mlp() if dtype == np.float32 else mlp().double()
    y = model(rng.standard_normal((5, 4)).astype(dtype))
    dx = model.backward(np.ones_like(y))
    assert y.dtype == dtype and dx.dtype == dtype
    assert all(p.grad.dtype == dtype for p in model.parameters())


# -- state dicts -------------------------------------------------------------------

def test_state_dict_has_nested_keys_and_copies(rng):
    model = TwoLayer()
    state = model.state_dict()
    assert list(state) == ["scale", "steps", "encoder.0.weight", "encoder.0.bias",
                           "head.weight", "head.bias"]
    state["head.bias"][:] = 42
    assert not (model.head.bias.data == 42).any()


def test_load_state_dict_round_trips_and_keeps_dtype(rng):
    source, target = mlp(), mlp()
    x = rng.standard_normal((3, 4)).astype(np.float32)
    state = {k: v.astype(np.float64) for k, v in source.state_dict().items()}
    assert target.load_state_dict(state) == IncompatibleKeys([], [])
    np.testing.assert_array_equal(target(x), source(x))
    assert target[0].weight.dtype == np.float32


def test_load_state_dict_names_missing_and_unexpected_keys():
    state = mlp().state_dict()
    state["3.weight"] = state.pop("2.weight")
    with pytest.raises(KeyError, match=r"load_state_dict for Sequential: missing keys "
                                       r"\['2.weight'\]; unexpected keys \['3.weight'\]"):
        mlp().load_state_dict(state)


def test_load_state_dict_names_the_key_with_the_wrong_shape_and_changes_nothing():
    model = mlp()
    before = model.state_dict()
    state = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 5)).state_dict()
    with pytest.raises(ValueError, match=r"'2.weight' has shape \(3, 8\) here but \(5, 8\) "
                                         r"in the state dict; '2.bias' has shape \(3,\)"):
        model.load_state_dict(state)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_load_state_dict_not_strict_loads_what_matches():
    model = mlp()
    source = nn.Sequential(nn.Linear(4, 8))
    result = model.load_state_dict(source.state_dict(), strict=False)
    assert result.missing_keys == ["2.weight", "2.bias"] and result.unexpected_keys == []
    np.testing.assert_array_equal(model[0].weight.data, source[0].weight.data)


def test_load_state_dict_rejects_something_that_is_not_a_dict():
    with pytest.raises(TypeError, match="expects a dict such as model.state_dict()"):
        mlp().load_state_dict([1, 2])


def test_load_state_dict_updates_buffers():
    model = TwoLayer()
    state = model.state_dict()
    state["steps"] = np.array([5.0])
    model.load_state_dict(state)
    assert model.steps[0] == 5 and model.state_dict()["steps"][0] == 5


def test_a_frozen_parameter_is_left_alone_by_the_optimizer(rng):
    model = mlp()
    model[0].requires_grad_(False)
    frozen = model[0].weight.data.copy()
    trained = model[2].bias.data.copy()
    for p in model.parameters():
        p.grad += 1
    optim.SGD(model.parameters(), lr=0.1).step()
    np.testing.assert_array_equal(model[0].weight.data, frozen)
    np.testing.assert_allclose(model[2].bias.data, trained - 0.1, rtol=1e-6)


# -- repr ---------------------------------------------------------------------------

def test_repr_of_a_custom_module_lists_its_children():
    assert repr(TwoLayer()) == (
        "TwoLayer(\n"
        "  (encoder): Sequential(\n"
        "    (0): Linear(in_features=4, out_features=8, bias=True)\n"
        "    (1): ReLU()\n"
        "  )\n"
        "  (head): Linear(in_features=8, out_features=3, bias=True)\n"
        ")")


@pytest.mark.torch
def test_repr_and_state_dict_keys_match_pytorch():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Sequential(nn.Linear(8, 3, bias=False),
                                                                    nn.Sigmoid()),
                         nn.Flatten(), nn.Identity(), nn.Softmax(dim=1))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(),
                                 torch.nn.Sequential(torch.nn.Linear(8, 3, bias=False),
                                                     torch.nn.Sigmoid()),
                                 torch.nn.Flatten(), torch.nn.Identity(),
                                 torch.nn.Softmax(dim=1))
    assert repr(ours) == repr(theirs)
    assert repr(nn.Sequential()) == repr(torch.nn.Sequential())
    assert repr(ours[2:4]) == repr(theirs[2:4])
    assert list(ours[2:].state_dict()) == list(theirs[2:].state_dict())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()}


@pytest.mark.torch
def test_load_state_dict_takes_torch_tensors():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    ours = mlp()
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_allclose(ours(x), theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_load_state_dict_copies_into_the_existing_arrays():
    model = TwoLayer()
    weight, steps = model.head.weight.data, model.steps
    state = {k: v + 1 for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    assert model.head.weight.data is weight and model.steps is steps
    np.testing.assert_array_equal(weight, state["head.weight"])
    model.steps = [3.0]                    # a buffer reassigned to something not an array
    model.load_state_dict(state)
    assert model.steps[0] == 1.0 and model.state_dict()["steps"][0] == 1.0


def test_a_deep_mixed_model_passes_gradcheck(rng):
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 4), nn.GELU(),
                          nn.Linear(4, 4), nn.Sigmoid(), nn.Linear(4, 3), nn.Softmax(dim=1))
    result = gradcheck(model, rng.standard_normal((2, 3)))
    assert result.ok, str(result)
    assert len(result.comparisons) == 9


def test_assigning_an_array_to_a_parameter_is_refused_with_the_fix():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"cannot assign a ndarray to parameter 'weight' of "
                                        r"Linear \(a Parameter or None expected\); to change "
                                        r"its values write self.weight.data\[...\] = "):
        layer.weight = np.zeros((2, 2))
    layer.weight = nn.Parameter(np.ones((2, 2)))
    assert (layer.state_dict()["weight"] == 1).all()


def test_passing_the_loss_instead_of_its_gradient_is_explained(rng):
    model, loss_fn = mlp(), nn.MSELoss()
    loss = loss_fn(model(rng.standard_normal((5, 4))), np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"Linear\(8 -> 3\) backward expected grad_out of shape "
                                         r"\(5, 3\) \(the shape of its output\), got \(\): a "
                                         r"single number, the loss itself\? Pass the gradient, "
                                         r"model.backward\(loss_fn.backward\(\)\)") as info:
        model.backward(loss)
    assert info.value.__notes__ == ["  in Sequential child (2) backward: Linear(8 -> 3)"]
