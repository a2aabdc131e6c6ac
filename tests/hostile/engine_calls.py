"""Submissions of a real course exercise (01) whose answers take an engine shortcut.

Each is the committed solution notebook with one answer cell replaced; the expected
points per part are in ``EXPECTED``. ``engine layer`` gets the numbers right through
``nn.Linear`` (refused: ``dense_forward`` earns nothing, with the message), ``engine in a
comment`` writes the product itself and only mentions the engine in a comment and a
docstring (full marks), ``torch import`` reaches for PyTorch in ``neuron_forward``
(refused, although that branch never runs).
"""
from __future__ import annotations

import copy
import json
import os
from typing import Any

ASSIGNMENT = "01_neurons_and_layers"

ENGINE_LAYER = '''def dense_forward(X, W, b):
    """Y = X W^T + b: X (N, D), W (M, D), b (M,) -> Y (N, M)."""
    layer = nn.Linear(W.shape[1], W.shape[0])
    layer.double()
    layer.weight.data, layer.bias.data = W, b
    return layer(X)
'''

ENGINE_IN_A_COMMENT = '''def dense_forward(X, W, b):
    """What nn.Linear does, written out (no torch here)."""
    return X @ W.T + b  # the same as nn.Linear's forward
'''

TORCH_IMPORT = '''def neuron_forward(x, w, b):
    if x is None:  # never true here: the numbers are right, the tool is not
        import torch
        return torch.dot(torch.tensor(w), torch.tensor(x)) + b
    return float(w @ x + b)
'''

# name -> (answer cell id, its source, points expected per grade_id)
EXPECTED: dict[str, tuple[str, str, dict[str, float]]] = {
    "engine layer": ("dense_forward_answer", ENGINE_LAYER,
                     {"neuron_forward": 1, "dense_forward": 0, "count_parameters": 1}),
    "engine in a comment": ("dense_forward_answer", ENGINE_IN_A_COMMENT,
                            {"neuron_forward": 1, "dense_forward": 2, "count_parameters": 1}),
    "torch import": ("neuron_forward_answer", TORCH_IMPORT,
                     {"neuron_forward": 0, "dense_forward": 2, "count_parameters": 1}),
}


def submission(solution: dict[str, Any], answer_id: str, source: str) -> dict[str, Any]:
    """The solution notebook with the answer cell ``answer_id`` replaced by ``source``."""
    nb = copy.deepcopy(solution)
    cells = [c for c in nb["cells"]
             if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == answer_id]
    assert len(cells) == 1, answer_id
    cells[0]["source"] = source
    cells[0]["outputs"] = []
    return nb


def build(solutions: str, out_dir: str) -> str:
    """Write every submission as ``out_dir/NAME.ipynb``; return ``out_dir``."""
    with open(os.path.join(solutions, f"{ASSIGNMENT}.ipynb"), encoding="utf-8") as f:
        solution = json.load(f)
    os.makedirs(out_dir, exist_ok=True)
    for name, (answer_id, source, _) in EXPECTED.items():
        with open(os.path.join(out_dir, f"{name}.ipynb"), "w", encoding="utf-8") as f:
            json.dump(submission(solution, answer_id, source), f, indent=1)
    return out_dir
