"""The in-notebook check and its pieces: the report (text and HTML), the one-line
CheckFailed, hints, needs(), plain-data encoding and the plain-words comparison."""
from __future__ import annotations

import dataclasses
import json
import linecache

import numpy as np
import pytest

from dlcore import nn
from dlcore.grading import CheckFailed, check, get_spec, hint, needs, run_check
from dlcore.grading.compare import compare_plain
from dlcore.grading.spec import (
    Case,
    LearnerError,
    as_float,
    decode,
    describe_exception,
    encode,
)


def neuron_forward(x, w, b):
    return w @ x + b


def test_a_passing_check_prints_a_short_report_and_returns_none(capsys):
    assert check("neuron_forward", neuron_forward) is None
    out = capsys.readouterr().out
    assert out.startswith("neuron_forward: all 2 cases are right. 1 point.")
    assert "wrong" not in out


def test_without_the_function_the_name_is_found_in_the_callers_globals(capsys):
    check("neuron_forward")
    assert "all 2 cases are right" in capsys.readouterr().out


def test_a_failing_check_says_what_is_wrong_then_raises_one_line(capsys):
    with pytest.raises(CheckFailed) as err:
        check("neuron_forward", lambda x, w, b: w @ x)
    out = capsys.readouterr().out
    assert "0 of 2 cases right" in out and "expected " in out and ", got " in out
    assert "hint: You left out the bias" in out
    assert 'Stuck? hint("neuron_forward") gives a tip.' in out
    assert str(err.value) == "2 of 2 cases wrong, see above"
    assert err.value._render_traceback_() == ["CheckFailed: 2 of 2 cases wrong, see above"]
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_report_renders_as_html_and_text_without_the_reference_code():
    report = run_check(get_spec("dense_forward"), {"dense_forward": lambda X, W, b: X @ W.T})
    html = report._repr_html_()
    assert "<code>" in html and "&#10008;" in html and "hint:" in html
    assert repr(report) == report.text()
    assert "return X @ W.T + b" not in html + report.text()


def test_hints_come_one_at_a_time_and_never_repeat_past_the_last(capsys):
    spec = get_spec("count_parameters")
    for _ in range(len(spec.tips) + 1):
        hint("count_parameters")
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith(f"Tip 1 of {len(spec.tips)} for count_parameters: ")
    assert lines[-1] == lines[-2] and lines[-1].endswith("That was the last tip.")


def test_needs_turns_a_stub_into_one_line_and_lets_other_errors_through(capsys):
    def stub():
        raise NotImplementedError("stub")

    with needs("stub"):
        stub()
    assert capsys.readouterr().out == ("This cell uses `stub`: write it above first, then "
                                       "run this cell again.\n")
    with pytest.raises(ZeroDivisionError), needs("f"):
        raise ZeroDivisionError("not a stub")


def test_describe_exception_points_at_the_learners_line_not_numpy():
    def learner_code(x):
        return np.linalg.inv(x)

    try:
        learner_code(np.zeros((2, 2)))
    except Exception as err:
        described = describe_exception(err)
    assert described.type == "LinAlgError"
    assert described.code == "return np.linalg.inv(x)"
    plain = json.loads(json.dumps(described.to_plain()))
    assert LearnerError.from_plain(plain) == described


def test_learner_error_from_plain_accepts_only_plain_fields():
    error = LearnerError.from_plain({"type": 3, "message": "x" * 9999, "line": True})
    assert error.type == "Exception" and len(error.message) == 500 and error.line is None
    with pytest.raises(ValueError):
        LearnerError.from_plain(["not", "a", "dict"])


def test_an_exception_with_a_hostile_str_is_still_described():
    class Nasty(Exception):
        def __str__(self):
            raise RuntimeError("no")

    try:
        raise Nasty()
    except Nasty as err:
        assert describe_exception(err).type == "Nasty"


def test_encode_decode_round_trip_through_json():
    data = {"a": np.arange(6.0).reshape(2, 3), "b": np.array([1, 2]), "c": np.array([True]),
            "d": [1.5, "x", None, False], "e": np.float64(2.0)}
    back = decode(json.loads(json.dumps(encode(data))))
    assert back["a"].dtype == np.float64 and back["a"].shape == (2, 3)
    assert back["b"].dtype == np.int64 and back["c"].dtype == bool
    assert back["d"] == [1.5, "x", None, False] and back["e"] == 2.0


@pytest.mark.parametrize("bad", [
    {"__array__": "object", "shape": [1], "data": [1]},
    {"__array__": "float64", "shape": [2], "data": [1.0]},
    {"__array__": "float64", "shape": [-1], "data": []},
    {"__array__": "float64", "shape": [1], "data": ["1"]},
    {"__array__": "float64", "shape": [1], "data": [1.0], "extra": 1},
    {"__array__": "bool", "shape": [1], "data": [1]},
])
def test_decode_rejects_forged_arrays(bad):
    with pytest.raises(ValueError):
        decode(bad)


def test_decode_rejects_deep_nesting_and_foreign_types():
    deep = []
    for _ in range(30):
        deep = [deep]
    with pytest.raises(ValueError, match="nested"):
        decode(deep)
    with pytest.raises(ValueError):
        decode({1, 2})


def test_as_float_reads_numbers_not_objects_that_claim_to_be_equal():
    class Equal:
        def __eq__(self, other):
            return True

    assert as_float(np.array([2.5])) == 2.5
    with pytest.raises(Exception, match="array of numbers"):
        as_float(Equal())
    with pytest.raises(Exception, match=r"single number, but it is an array of shape \(2,\)"):
        as_float([1, 2])


@pytest.mark.parametrize("got, expected, words", [
    (np.zeros((3, 2)), np.zeros((2, 3)), "the transpose"),
    (np.zeros(6), np.zeros((2, 3)), "arranged differently"),
    (-np.arange(1.0, 5.0), np.arange(1.0, 5.0), "every entry has the wrong sign"),
    (2 * np.arange(1.0, 5.0), np.arange(1.0, 5.0), "every entry is 2 times the right value"),
    (np.array([1.0, np.nan]), np.array([1.0, 2.0]), "not finite numbers"),
    (np.array([1.0, 2.5]), np.array([1.0, 2.0]), "1 of 2 entries differ; the largest "
                                                  "difference is at [1]: expected 2, got 2.5"),
    (3.0, 1.5, "2 times the right value"),
    ({"a": 1.0}, {"a": 1.0, "b": 2.0}, "b is missing"),
    ([1.0], [1.0, 2.0], "expected 2 items, got 1"),
    (True, False, "expected False, got True"),
    ("1.0", 1.0, "expected the number 1, got a str"),
])
def test_comparison_says_what_differs_in_plain_words(got, expected, words):
    problems = compare_plain(got, expected)
    assert problems and words in " ".join(problems)


def test_comparison_accepts_what_is_within_tolerance():
    assert compare_plain(np.array([1.0 + 1e-9]), np.array([1.0])) == []
    assert compare_plain({"x": [np.zeros(2), 1]}, {"x": [np.zeros(2), 1]}) == []


def test_the_batch_comparer_copes_with_garbage():
    spec = get_spec("iterate_minibatches")
    case = Case("c", spec.cases()[0].inputs)
    outcome = spec.compare({"batch sizes": "garbage"}, spec.reference(case), case)
    assert not outcome.passed


def test_a_bug_in_a_comparer_is_reported_not_raised():
    def broken(spec, got, expected, case):
        raise KeyError("oops")

    spec = dataclasses.replace(get_spec("neuron_forward"), comparer=broken)
    report = run_check(spec, {"neuron_forward": neuron_forward})
    assert not report.passed
    assert "the checker could not compare your answer" in report.outcomes[0].message


def test_a_bug_in_a_reference_is_reported_not_raised():
    def broken(case):
        raise ValueError("bad spec")

    spec = dataclasses.replace(get_spec("neuron_forward"), reference=broken)
    report = run_check(spec, {"neuron_forward": neuron_forward})
    assert not report.passed
    assert "could not compute the right answer (ValueError: bad spec)" in report.text()


def test_checks_leave_the_learners_random_numbers_alone():
    import dlcore

    dlcore.manual_seed(5)
    expected = (dlcore.rng.generator().standard_normal(), np.random.rand())
    dlcore.manual_seed(5)
    run_check(get_spec("count_parameters"), {"count_parameters": lambda sizes: 0})
    assert (dlcore.rng.generator().standard_normal(), np.random.rand()) == expected


# -- engine shortcuts ------------------------------------------------------------
def in_a_cell(source: str, filename: str) -> dict:
    """Run ``source`` as IPython runs a cell: its text in linecache under a name that is
    no file on disk (so ``inspect`` and the check can read it back)."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict = {"__name__": "__main__", "nn": nn, "np": np}
    exec(compile(source, filename, "exec"), namespace)
    return namespace


ENGINE_DENSE = ("def dense_forward(X, W, b):\n"
                "    layer = nn.Linear(W.shape[1], W.shape[0])\n"
                "    layer.double()\n"
                "    layer.weight.data, layer.bias.data = W, b\n"
                "    return layer(X)\n")


def test_a_right_answer_that_calls_the_engine_fails_with_the_shortcuts_message(capsys):
    ns = in_a_cell(ENGINE_DENSE, "/tmp/ipykernel_0/1.py")
    spec = get_spec("dense_forward")
    assert run_check(dataclasses.replace(spec, shortcuts=()), ns).passed  # numbers right
    with pytest.raises(CheckFailed) as err:
        check("dense_forward", ns["dense_forward"])
    message = ("`dense_forward` uses `nn.Linear`, the engine's own layer: this exercise "
               "asks you to write the product yourself, X @ W.T + b.")
    assert str(err.value) == message
    assert err.value._render_traceback_() == [f"CheckFailed: {message}"]
    out = capsys.readouterr().out
    assert out.startswith("dense_forward: not accepted yet, it hands the work to ready-made "
                          "code (2 points when you write it yourself).")
    assert f"  wrong  {message}" in out and "case 1" not in out
    html = run_check(spec, ns)._repr_html_()
    assert "<code>nn.Linear</code>" in html and "&#10008;" in html


def test_own_code_a_similar_helper_and_comments_pass_the_check(capsys):
    cell = ("def my_linear(X, W, b):\n    return X @ W.T + b  # as nn.Linear does\n\n"
            "def dense_forward(X, W, b):\n    '''No nn.Linear, no torch.'''\n"
            "    return my_linear(X, W, b)\n")
    check("dense_forward", in_a_cell(cell, "/tmp/ipykernel_0/2.py")["dense_forward"])
    assert "all 2 cases are right" in capsys.readouterr().out


def test_without_its_source_the_check_goes_on_by_the_numbers(capsys):
    ns = {"nn": nn}
    exec(compile(ENGINE_DENSE, "<no source kept>", "exec"), ns)
    check("dense_forward", ns["dense_forward"])
    assert "all 2 cases are right" in capsys.readouterr().out


@pytest.mark.notebooks
def test_in_a_real_kernel_the_cell_is_read_even_for_a_class_or_a_library_function():
    nbclient = pytest.importorskip("nbclient")
    import nbformat

    cells = ["import numpy as np\nfrom dlcore import nn\nfrom dlcore.grading import check",
             ENGINE_DENSE, 'check("dense_forward", dense_forward)',
             "from scipy.special import expit as sigmoid", 'check("sigmoid", sigmoid)',
             "class MyLinear(nn.Module):\n    def backward(self, grad_out):\n"
             "        return nn.Linear(2, 3).backward(grad_out)",
             'check("linear_backward", MyLinear)',
             "def dense_forward(X, W, b):\n    return X @ W.T + b  # not nn.Linear",
             'check("dense_forward", dense_forward)']
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(nb, kernel_name="python3", allow_errors=True,
                            timeout=60).execute()
    errors = [next((o["evalue"] for o in c.outputs if o.output_type == "error"), None)
              for c in nb.cells[2::2]]
    assert errors[0].startswith("`dense_forward` uses `nn.Linear`")
    assert errors[1].startswith("`sigmoid` uses SciPy's `expit`")
    assert errors[2].startswith("`MyLinear` uses `nn.Linear`")
    assert errors[3] is None


def _imports_after(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; what it printed (JSON) and the spec modules,
    check module and registry it had imported by then."""
    import os
    import subprocess
    import sys

    project = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    probe = (code + "\nimport json, sys\nprint(json.dumps(sorted(m for m in sys.modules if "
             "m.startswith('dlcore.grading.specs.ex') or m == 'dlcore.grading.check')))\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=project, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    return json.loads(out.splitlines()[-1])


def test_a_notebook_and_a_grading_worker_import_only_what_they_use():
    # The notebook's import line: the check, no exercise's specs yet.
    assert _imports_after("from dlcore.grading import check, hint, needs") == \
        ["dlcore.grading.check"]
    # The sandboxed worker, started once per submission: one exercise's specs, no check.
    assert _imports_after("import dlcore.grading.autograder.worker\n"
                          "from dlcore.grading import registry\n"
                          "registry.specs_for('06_training')") == \
        ["dlcore.grading.specs.ex06_training"]
    # A check by grade_id needs every spec (to find it, and no id used twice).
    every = _imports_after("from dlcore.grading import get_spec\nget_spec('neuron_forward')")
    assert len(every) == 14 and all(m.startswith("dlcore.grading.specs.ex") for m in every)


@pytest.mark.parametrize("first", ["from dlcore.grading.check import run_check",
                                   "import dlcore.grading.check", "import dlcore.grading",
                                   "from dlcore.grading import hint"])
def test_check_is_the_function_whichever_import_comes_first(first):
    code = (f"{first}\nimport dlcore.grading\nfrom dlcore.grading import check\n"
            "import json\nprint(json.dumps([callable(check), check.__name__, "
            "dlcore.grading.check is check, type(check).__name__]))\n")
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert json.loads(out) == [True, "check", True, "function"]
