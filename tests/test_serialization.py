"""dlcore.save and dlcore.load: .npz files, no pickle, nested dicts."""
from __future__ import annotations

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
    with pytest.raises(ValueError, match="keys must be strings without '/', got 'a/b'"):
        dlcore.save({"a/b": 1}, path)
    with pytest.raises(ValueError, match="keys must be strings without '/', got 3"):
        dlcore.save({3: 1}, path)


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
