"""Engine shortcuts (``dlcore/grading/shortcut.py`` and ``Spec.shortcuts``): what the
rule matches and what it leaves alone, that no committed solution and no code handed out
in an answer cell trips it, and how the learner's code is found in a notebook."""
from __future__ import annotations

import functools
import linecache
import time
from pathlib import Path

import nbformat
import pytest
import scipy.special

from dlcore.grading import all_specs, get_spec, specs_for
from dlcore.grading.shortcut import Shortcut, answer_source, code_only, first_shortcut
from dlcore.grading.specs._common import TORCH, names, reached, refuse
from dlcore.nn import functional

ROOT = Path(__file__).resolve().parents[1]
# Parts where building and training a model from the engine's layers IS the exercise.
ENGINE_IS_THE_EXERCISE = {"train_model", "fine_tune_setup", "train_diagnosis"}


def refused(grade_id: str, source: str) -> str:
    return get_spec(grade_id).refusal(source)


# -- code_only -------------------------------------------------------------------
def test_code_only_blanks_comments_strings_and_magics_keeping_lines_and_columns():
    source = ('x = nn.Linear(2, 3)  # nn.Sigmoid\n'
              's = "torch" + f"{nn.Tanh}"\n'
              '"""nn.LSTM\n   docstring"""\n'
              '%pip install torch\n'
              '  !ls torch\n'
              'y = 1\n')
    code = code_only(source)
    assert len(code) == len(source) and code.count("\n") == source.count("\n")
    assert "nn.Linear(2, 3)" in code and "y = 1" in code
    for gone in ("Sigmoid", "torch", "Tanh", "LSTM", "docstring", "pip", "ls"):
        assert gone not in code, gone


def test_code_that_does_not_tokenize_is_kept_from_where_tokenizing_stopped():
    assert "nn.Linear" in code_only('# fine\ns = """never closed\nnn.Linear\n')
    assert "# fine" not in code_only('# fine\ns = """never closed\nnn.Linear\n')
    assert "nn.Linear" in code_only("def f(:\n    return nn.Linear\n")


# -- the patterns ------------------------------------------------------------------
@pytest.mark.parametrize("grade_id, source", [
    ("dense_forward", "def dense_forward(X, W, b):\n    return nn.Linear(3, 2)(X)\n"),
    ("dense_forward", "from dlcore.nn import Linear\ndef dense_forward(X, W, b):\n"
                      "    return Linear(3, 2)(X)\n"),
    ("dense_forward", "def dense_forward(X, W, b):\n    return dlcore.nn . Linear(3, 2)(X)\n"),
    ("dense_forward", "import torch\ndef dense_forward(X, W, b):\n    return X\n"),
    ("sigmoid", "from scipy.special import expit\ndef sigmoid(x):\n    return expit(x)\n"),
    ("sigmoid", "def sigmoid(x):\n    return nn.functional.sigmoid(x)\n"),
    ("sigmoid", "from dlcore.nn.functional import (\n    relu,\n    sigmoid as s,\n)\n"),
    ("cross_entropy", "def cross_entropy(z, y):\n    return -F.log_softmax(z)[0, y]\n"),
    ("cross_entropy", "from scipy.special import logsumexp\n"),
    ("linear_backward", "class MyLinear(nn.Module):\n    def backward(self, g):\n"
                        "        return nn.Linear(2, 3).backward(g)\n"),
    ("numerical_gradient", "from dlcore.gradcheck import numerical_gradient as ng\n"),
    ("numerical_gradient", "def numerical_gradient(f, x, eps):\n"
                           "    return dlcore.gradcheck.numerical_gradient(f, x)\n"),
    ("adam_step", "def adam_step(*a):\n    return optim.Adam([p], lr=1e-3)\n"),
    ("accuracy", "def accuracy(scores, y):\n    return dlcore.train.accuracy(scores, y)\n"),
    ("accuracy", "from dlcore.train.metrics import accuracy as acc\n"),
    ("accuracy", "from sklearn.metrics import accuracy_score\n"),
    ("train_model", "def train_model(m, l, o, X, y, n, b):\n"
                    "    return dlcore.train.fit(m, l, o, loader, epochs=n)\n"),
    ("conv_forward", "from scipy.signal import correlate2d\n"),
    ("lstm_forward", "def lstm_forward(*a):\n    layer = nn.LSTM(3, 4, batch_first=True)\n"),
    ("batchnorm_forward", "def batchnorm_forward(*a):\n    bn = nn.BatchNorm1d(4)\n"),
    ("compose", "def compose(transforms):\n    return data.Compose(transforms)\n"),
    ("standardize", "from sklearn.preprocessing import StandardScaler\n"),
    ("standardize", "def standardize(X_train, X_test):\n    return data.standardize(s)\n"),
    ("precision_recall", "from sklearn.metrics import precision_score, recall_score\n"),
])
def test_a_declared_shortcut_is_refused_with_its_message(grade_id, source):
    message = refused(grade_id, source)
    name = get_spec(grade_id).name
    assert message.startswith(f"`{name}` uses ") and "this exercise asks you to" in message


@pytest.mark.parametrize("grade_id, source", [
    ("dense_forward", "def dense_forward(X, W, b):\n    # nn.Linear would do it\n"
                      "    '''not nn.Linear, not torch'''\n    return X @ W.T + b\n"),
    ("dense_forward", "def my_linear(X, W, b):\n    return X @ W.T + b\n\n"
                      "def dense_forward(X, W, b):\n    return my_linear(X, W, b)\n"),
    ("dense_forward", "class MyLinear:\n    pass\nlinear_torch = 1\ntorchlike = 2\n"),
    ("dense_forward", "print(f'compare with nn.Linear and torch')\n"),
    ("sigmoid_grad", "def sigmoid_grad(x):\n    s = sigmoid(x)\n    return s * (1 - s)\n"),
    ("cross_entropy_grad", "def cross_entropy_grad(z, y):\n    p = softmax(z)\n"),
    ("accuracy", "def accuracy(scores, y):\n    return float(np.mean(scores.argmax(1) == y))\n"),
    ("standardize", "def standardize(X_train, X_test):\n    return X_train, X_test\n"),
    ("shift_images", "def shift_images(X, dy, dx, fill):\n    shift = 3\n"
                     "    return np.roll(X, shift)\n"),
    ("train_model", "def fit(model):\n    pass\n\ndef train_model(*args):\n    fit(None)\n"),
    ("two_layer_backward", "def two_layer_backward(X, y, W1, b1, W2, b2):\n"
                           "    p = softmax(X @ W1.T)\n"),
])
def test_own_code_comments_strings_and_similar_names_are_not_refused(grade_id, source):
    assert refused(grade_id, source) == ""


@pytest.mark.parametrize("grade_id", sorted(ENGINE_IS_THE_EXERCISE))
def test_parts_that_build_from_engine_layers_may_use_them(grade_id):
    source = ("import torch\nmodel = nn.Sequential(nn.Linear(30, 32), nn.ReLU(), "
              "nn.Dropout(0.1), nn.BatchNorm1d(32), nn.Linear(32, 2))\n"
              "optimizer = optim.Adam(model.parameters())\n"
              "loader = data.DataLoader(data.TensorDataset(X, y), batch_size=32)\n")
    assert refused(grade_id, source) == ""


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.grade_id)
def test_every_part_that_implements_math_refuses_torch(spec):
    has_torch = any(s.pattern == TORCH for s in spec.shortcuts)
    assert has_torch == (spec.grade_id not in ENGINE_IS_THE_EXERCISE)
    for shortcut in spec.shortcuts:
        assert shortcut.message.startswith(f"`{spec.name}` uses ")
        assert shortcut.message.endswith(".") and "\n" not in shortcut.message


def answer_cells(folder: str):
    for path in sorted((ROOT / folder).glob("*.ipynb")):
        specs = {s.answer_id: s for s in specs_for(path.stem)}
        for cell in nbformat.read(path, as_version=4).cells:
            spec = specs.get(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id"))
            if spec is not None:
                yield spec, cell.source


@pytest.mark.parametrize("folder", ["solutions", "exercises"])
def test_no_solution_and_no_code_handed_out_in_an_answer_cell_is_refused(folder):
    """The solutions use no shortcut; the exercises' answer cells hold only the code the
    notebook hands out (signatures, docstrings, MyLinear's forward), which must not count."""
    cells = list(answer_cells(folder))
    assert len(cells) == len(all_specs())
    tripped = [(spec.grade_id, spec.refusal(source)) for spec, source in cells
               if spec.refusal(source)]
    assert tripped == []


def test_the_search_stays_linear_on_a_hostile_cell():
    """Twice the junk costs about twice the time (quadratic would be four times), and a
    megabyte stays within seconds. CPU time, not wall time: a loaded machine must not
    fail it."""
    spec = get_spec("standardize")
    for unit, count in (("from data import (", 25_000), ("import ", 75_000),
                        ("data . ", 75_000), ("x = (\n", 75_000)):
        seconds = []
        for junk in (unit * count, unit * 2 * count):
            start = time.process_time()
            spec.refusal(junk)
            seconds.append(time.process_time() - start)
        assert seconds[1] < 3 * seconds[0] + 0.3, (unit, seconds)
        assert seconds[1] < 10, (unit, seconds)
    start = time.process_time()
    spec.refusal("'''" + "x" * 1_000_000)
    assert time.process_time() - start < 3


def test_helpers_build_narrow_patterns():
    assert first_shortcut((Shortcut(names("Linear"), "m"),), "Linear(2, 3)").message == "m"
    assert first_shortcut((Shortcut(names("Linear"), "m"),), "MyLinear(2, 3)") is None
    pattern = reached("sigmoid", "functional")
    assert first_shortcut((Shortcut(pattern, "m"),), "functional.sigmoid(x)")
    assert first_shortcut((Shortcut(pattern, "m"),), "sigmoid(x)\nmy.sigmoid(x)") is None
    both = refuse("f", "do it", (names("A"), "`A`"))
    assert [s.message for s in both] == ["`f` uses `A`: this exercise asks you to do it.",
                                         "`f` uses PyTorch (`torch`): this exercise asks you "
                                         "to do it."]
    assert len(refuse("f", "do it", (names("A"), "`A`"), torch=False)) == 1


# -- where the learner's code is ------------------------------------------------
def in_a_cell(source: str, filename: str = "/tmp/ipykernel_0/123.py") -> dict:
    """Run ``source`` as IPython runs a cell: its text in linecache under a name that
    is no file on disk."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict = {"__name__": "__main__"}
    exec(compile(source, filename, "exec"), namespace)
    return namespace


def test_answer_source_is_the_whole_cell_for_functions_and_classes_from_a_cell():
    cell = ("import numpy as np\n\ndef helper(X):\n    return X\n\n"
            "def dense_forward(X, W, b):\n    return helper(X) @ W.T + b\n\n"
            "class MyLinear:\n    def backward(self, g):\n        return g\n")
    ns = in_a_cell(cell)
    assert answer_source(ns["dense_forward"], "dense_forward") == cell
    assert answer_source(ns["MyLinear"], "MyLinear") == cell
    assert answer_source(functools.wraps(ns["helper"])(lambda X: X), "helper") == cell


def test_answer_source_is_the_definition_for_a_function_in_a_file():
    def own(x):
        return x + 1  # defined here, in a file

    assert answer_source(own, "own").lstrip().startswith("def own(x):")
    assert "in a file" in answer_source(own, "own")


def test_answer_source_is_none_where_it_cannot_be_found():
    ns: dict = {}
    exec(compile("def f(x):\n    return x\n", "<not cached>", "exec"), ns)
    assert answer_source(ns["f"], "f") is None
    # library objects, outside IPython: no cell to read
    assert answer_source(scipy.special.expit, "sigmoid") is None
    assert answer_source(functional.sigmoid, "sigmoid") is None
    assert answer_source(42, "x") is None


def test_answer_source_survives_an_object_that_raises_on_every_attribute():
    class Hostile:
        def __getattribute__(self, name):
            raise RuntimeError(name)

    assert answer_source(Hostile(), "x") is None
