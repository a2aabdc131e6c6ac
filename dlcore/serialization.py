"""``dlcore.save`` and ``dlcore.load``: state dicts in NumPy's ``.npz`` format.

No pickle is ever used, so loading a file cannot run code. Nested dicts (say a
model's and an optimizer's state together) are flattened with ``/`` between
levels and rebuilt on load. So that an optimizer's state dict comes back as it
went in, three more things are written into the names:

    an integer key 3          ->  "#3"         (optimizer state is keyed by index)
    item i of a list of dicts ->  "[i]"        ("param_groups/[0]/lr")
    an empty dict             ->  "{}"         (an array of no values marks it)

A list of plain numbers is saved as one array, as before; a list that holds
dicts, or numbers and strings mixed, item by item, and comes back a list.
"""
from __future__ import annotations

import os
import re
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

_SEP = "/"
_INDEX = re.compile(r"#-?\d+|\[\d+\]|\{\}")   # the names above, never a saved key
_EMPTY = "{}"


def _name(key: Any, prefix: str) -> str:
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return f"{prefix}#{int(key)}"
    if not isinstance(key, str) or _SEP in key or _INDEX.fullmatch(key):
        raise ValueError(f"save: keys must be strings without '{_SEP}' (or integers), "
                         f"got {key!r}")
    return prefix + key


def _flatten(obj: Mapping[Any, Any], prefix: str, out: dict) -> None:
    if not obj:
        out[prefix + _EMPTY] = np.zeros(0)
    for key, value in obj.items():
        _put(_name(key, prefix), value, out)


def _put(name: str, value: Any, out: dict) -> None:
    if isinstance(value, Mapping):
        _flatten(value, name + _SEP, out)
        return
    if isinstance(value, (list, tuple)) and _itemwise(value):
        for i, item in enumerate(value):
            _put(f"{name}{_SEP}[{i}]", item, out)
        return
    if hasattr(value, "detach"):  # a torch tensor: copy its numbers
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if array.dtype == object:
        raise TypeError(f"save: {name!r} holds a {type(value).__name__}, "
                        "only numbers and arrays can be saved")
    out[name] = array


def _itemwise(items: list | tuple) -> bool:
    """Whether a list must be saved item by item: it holds dicts, lists of
    different lengths, or strings among numbers (one array would turn every
    number into a string). A table of numbers stays one array."""
    if any(isinstance(v, Mapping) for v in items):
        return True
    if any(isinstance(v, (list, tuple)) and _itemwise(v) for v in items):
        return True
    if len({isinstance(v, str) for v in items if not isinstance(v, (list, tuple))}) > 1:
        return True
    try:
        return np.asarray(items).dtype == object
    except ValueError:                      # ragged
        return True


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
    """Load what ``save`` wrote; nested dicts come back nested, integer keys as
    integers and lists of dicts as lists."""
    result: OrderedDict = OrderedDict()
    with np.load(path, allow_pickle=False) as data:
        for name in data.files:
            *parents, leaf = name.split(_SEP)
            node = result
            for part in parents:
                node = node.setdefault(_key(part), OrderedDict())
            if leaf != _EMPTY:
                node[_key(leaf)] = data[name]
    return _lists(result)


def _key(part: str) -> str | int:
    return int(part[1:]) if part.startswith("#") and _INDEX.fullmatch(part) else part


def _lists(node: Any) -> Any:
    """Turn every dict whose keys are "[0]", "[1]", ... back into a list."""
    if not isinstance(node, dict):
        return node
    for key, value in node.items():
        node[key] = _lists(value)
    keys = list(node)
    if keys and keys == [f"[{i}]" for i in range(len(keys))]:
        return list(node.values())
    return node
