"""``dlcore.save`` and ``dlcore.load``: state dicts in NumPy's ``.npz`` format.

No pickle is ever used, so loading a file cannot run code. Nested dicts (say a
model's and an optimizer's state together) are flattened with ``/`` between
levels and rebuilt on load.
"""
from __future__ import annotations

import os
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

_SEP = "/"


def _flatten(obj: Mapping[str, Any], prefix: str, out: dict) -> None:
    for key, value in obj.items():
        if not isinstance(key, str) or _SEP in key:
            raise ValueError(f"save: keys must be strings without '{_SEP}', got {key!r}")
        name = prefix + key
        if isinstance(value, Mapping):
            _flatten(value, name + _SEP, out)
            continue
        if hasattr(value, "detach"):  # a torch tensor: copy its numbers
            value = value.detach().cpu().numpy()
        array = np.asarray(value)
        if array.dtype == object:
            raise TypeError(f"save: {name!r} holds a {type(value).__name__}, "
                            "only numbers and arrays can be saved")
        out[name] = array


def save(obj: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Save a state dict (or a dict of them) to ``path`` as ``.npz``, exactly as
    given (no ``.npz`` is added to the name). Values must be numbers or arrays;
    they come back from ``load`` as NumPy arrays (a number as a 0-d array)."""
    if not isinstance(obj, Mapping):
        raise TypeError("save expects a dict such as model.state_dict(), "
                        f"got {type(obj).__name__}")
    flat: dict = {}
    _flatten(obj, "", flat)
    # What np.savez writes (a zip of .npy files), written here so that no key
    # can collide with np.savez's own arguments and no pickle can slip in.
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in flat.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, array, allow_pickle=False)


def load(path: str | os.PathLike) -> OrderedDict:
    """Load what ``save`` wrote; nested dicts come back nested."""
    result: OrderedDict = OrderedDict()
    with np.load(path, allow_pickle=False) as data:
        for name in data.files:
            *parents, leaf = name.split(_SEP)
            node = result
            for part in parents:
                node = node.setdefault(part, OrderedDict())
            node[leaf] = data[name]
    return result
