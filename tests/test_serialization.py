"""dlcore.save and dlcore.load: .npz files, no pickle, nested dicts."""
from __future__ import annotations

import re
import zipfile

import numpy as np
import pytest

import dlcore
from dlcore import nn, optim


def model() -> nn.Sequential:
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def test_a_model_round_trips_through_a_file(tmp_path, rng):
    source = model()
    path = tmp_path / "model.npz"
    dlcore.save(source.state_dict(), path)
    loaded = dlcore.load(path)
    assert list(loaded) == list(source.state_dict())
    for key, value in source.state_dict().items():
        assert loaded[key].dtype == value.dtype
        np.testing.assert_array_equal(loaded[key], value)
    target = model()
    target.load_state_dict(loaded)
    x = rng.standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_array_equal(target(x), source(x))


def test_a_nested_dict_comes_back_nested(tmp_path):
    net = model()
    checkpoint = {"model": net.state_dict(), "epoch": 7, "history": {"loss": [0.9, 0.5],
                                                                     "best": {"acc": 0.75}},
                  "file": np.arange(3), "allow_pickle": 1.0}
    path = tmp_path / "checkpoint"
    dlcore.save(checkpoint, path)
    assert path.exists()                   # no '.npz' is added to the name
    loaded = dlcore.load(path)
    assert list(loaded) == ["model", "epoch", "history", "file", "allow_pickle"]
    assert list(loaded["model"]) == list(net.state_dict())
    assert loaded["epoch"] == 7 and loaded["epoch"].shape == ()
    np.testing.assert_array_equal(loaded["history"]["loss"], [0.9, 0.5])
    assert loaded["history"]["best"]["acc"] == 0.75
    np.testing.assert_array_equal(loaded["file"], [0, 1, 2])


def test_the_file_is_a_plain_npz_that_numpy_reads_without_pickle(tmp_path):
    path = tmp_path / "m.npz"
    dlcore.save({"model": model().state_dict()}, path)
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == ["model/0.weight.npy", "model/0.bias.npy",
                                      "model/2.weight.npy", "model/2.bias.npy"]
    with np.load(path, allow_pickle=False) as data:
        assert data["model/0.weight"].shape == (8, 4)


def test_objects_that_would_need_pickle_are_refused(tmp_path):
    path = tmp_path / "x.npz"
    with pytest.raises(TypeError, match="save: 'opt' holds a SGD, only numbers and arrays"):
        dlcore.save({"opt": optim.SGD(model().parameters())}, path)
    with pytest.raises(TypeError, match="save: 'a/b' holds a NoneType"):
        dlcore.save({"a": {"b": None}}, path)
    with pytest.raises(TypeError, match="save expects a dict such as model.state_dict.., got "
                                        "Sequential"):
        dlcore.save(model(), path)
    with pytest.raises(ValueError, match="keys must be strings without '/' .or integers., got "
                                         "'a/b'"):
        dlcore.save({"a/b": 1}, path)
    with pytest.raises(ValueError, match="keys must be strings without '/' .or integers., got "
                                         "3.5"):
        dlcore.save({3.5: 1}, path)
    for reserved in ["#3", "[0]", "{}"]:     # the names that mark integers, lists, empty dicts
        with pytest.raises(ValueError, match=f"got '{re.escape(reserved)}'"):
            dlcore.save({reserved: 1}, path)
    with pytest.raises(TypeError, match="save: 'a/.1.' holds a NoneType"):
        dlcore.save({"a": [{"b": 1}, None]}, path)


def test_a_file_with_a_pickled_array_is_refused_on_load(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, payload=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="allow_pickle"):
        dlcore.load(path)


@pytest.mark.torch
def test_torch_tensors_are_saved_as_arrays(tmp_path):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Linear(4, 8)
    dlcore.save(theirs.state_dict(), tmp_path / "t.npz")
    ours = nn.Linear(4, 8)
    ours.load_state_dict(dlcore.load(tmp_path / "t.npz"))
    np.testing.assert_array_equal(ours.weight.data, theirs.weight.detach().numpy())


def adam_checkpoint() -> dict:
    """An Adam state dict with two groups, after one step (int keys, lists of dicts,
    tuples, booleans, an integer step count)."""
    net = model()
    opt = optim.Adam([{"params": net[0].parameters(), "lr": 0.1},
                      {"params": net[2].parameters()}], amsgrad=True)
    for p in net.parameters():
        p.grad[...] = 1.0
    opt.step()
    return opt.state_dict()


def test_an_optimizer_state_dict_comes_back_with_its_integer_keys_and_lists(tmp_path):
    state = adam_checkpoint()
    dlcore.save({"optimizer": state, "epoch": 3}, tmp_path / "c.npz")
    with zipfile.ZipFile(tmp_path / "c.npz") as archive:
        names = archive.namelist()
    assert "optimizer/state/#0/exp_avg.npy" in names
    assert "optimizer/param_groups/[1]/params.npy" in names
    loaded = dlcore.load(tmp_path / "c.npz")["optimizer"]
    assert list(loaded) == ["state", "param_groups"]
    assert list(loaded["state"]) == [0, 1, 2, 3]            # integers again, in order
    assert isinstance(loaded["param_groups"], list) and len(loaded["param_groups"]) == 2
    for ours, saved in zip(loaded["param_groups"], state["param_groups"], strict=True):
        assert list(ours) == list(saved)
        for key, value in saved.items():
            np.testing.assert_array_equal(ours[key], value)
    for index, values in state["state"].items():
        assert list(loaded["state"][index]) == list(values)
        for key, value in values.items():
            assert loaded["state"][index][key].dtype == np.asarray(value).dtype
            np.testing.assert_array_equal(loaded["state"][index][key], value)


def test_empty_dicts_mixed_lists_and_tables_keep_their_shape(tmp_path):
    """An SGD without momentum has an empty ``state``; a schedule keeps a list of
    (number, name) tuples; a list of equal-length number lists stays one array."""
    obj = {"state": {}, "phases": [(4.0, "max_lr"), (9.0, "min_lr")], "table": [[1, 2], [3, 4]],
           "ragged": [[1], [2, 3]], "names": ["a", "bc"], "deep": {"e": {}}}
    dlcore.save(obj, tmp_path / "x.npz")
    loaded = dlcore.load(tmp_path / "x.npz")
    assert list(loaded) == list(obj)
    assert loaded["state"] == {} and loaded["deep"] == {"e": {}}
    assert [[v.item() for v in pair] for pair in loaded["phases"]] == [[4.0, "max_lr"],
                                                                        [9.0, "min_lr"]]
    assert loaded["phases"][0][0].dtype == np.float64        # not the string '4.0'
    assert loaded["table"].shape == (2, 2)
    assert [v.tolist() for v in loaded["ragged"]] == [[1], [2, 3]]
    assert loaded["names"].tolist() == ["a", "bc"]
