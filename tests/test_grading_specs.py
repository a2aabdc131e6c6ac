"""Every spec: deterministic plain-data cases, a reference that passes its own comparison,
hints that name the typical mistakes, a polite failure for an untouched stub; and
learner-style wrong answers that get the right plain-words hint."""
from __future__ import annotations

import numpy as np
import pytest

from dlcore import nn
from dlcore.grading import all_specs, assignments, get_spec, run_check, specs_for
from dlcore.grading.spec import AnswerError, decode, decode_case, encode, encode_case

SPECS = all_specs()
SEEDS = (0, 1, 7, 12345)   # the public one(s) and some a grader might pick


def ids(spec):
    return spec.grade_id


def test_registry_names_six_assignments_with_unique_cell_ids():
    assert assignments()[:6] == ["01_neurons_and_layers", "02_forward_pass",
                                 "03_loss_functions", "04_backward_pass", "05_optimizers",
                                 "06_training"]
    cell_ids = [s.grade_id for s in SPECS] + [s.answer_id for s in SPECS]
    assert len(cell_ids) == len(set(cell_ids))
    assert all(s.assignment in assignments() for s in SPECS)
    assert specs_for("05_optimizers")[2] is get_spec("adam_step")
    with pytest.raises(KeyError, match="no graded exercise is called 'nope'"):
        get_spec("nope")
    with pytest.raises(KeyError, match="no exercise notebook"):
        specs_for("99_nope")


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_cases_are_seeded_plain_data(spec):
    for seed in SEEDS:
        first = [encode_case(c) for c in spec.cases((seed,))]
        again = [encode_case(c) for c in spec.cases((seed,))]
        assert first == again and first
        for case, plain in zip(spec.cases((seed,)), first, strict=True):
            back = decode_case(plain)
            assert encode_case(back) == plain
            assert encode(spec.reference(back)) == encode(spec.reference(case))
    assert spec.public_seeds and spec.points > 0 and spec.task and spec.tips


@pytest.mark.parametrize("spec", [s for s in SPECS if s.comparer is None or
                                  s.grade_id == "iterate_minibatches"], ids=ids)
def test_reference_passes_its_own_comparison(spec):
    for case in spec.cases(SEEDS):
        expected = spec.reference(case)
        outcome = spec.compare(decode(encode(expected)), expected, case)
        assert outcome.passed, outcome


@pytest.mark.parametrize("spec", [s for s in SPECS if any(h.mistake for h in s.hints)], ids=ids)
def test_each_typical_mistake_fails_and_gets_its_hint(spec):
    for hint in spec.hints:
        if hint.mistake is None:
            continue
        hits = 0
        for case in spec.cases(SEEDS):
            wrong = hint.mistake(case)
            if wrong is None:
                continue
            outcome = spec.compare(decode(encode(wrong)), spec.reference(case), case)
            # Some mistakes only show on some inputs (x >= 0 versus x > 0 needs an x = 0).
            hits += not outcome.passed and outcome.hint == hint.text
        assert hits, f"{spec.grade_id}: no case shows the mistake behind {hint.text!r}"


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_untouched_stub_fails_politely(spec):
    def stub(*args, **kwargs):
        raise NotImplementedError("neuron_forward: replace this line with your code")

    report = run_check(spec, {spec.name: stub})
    assert not report.passed and report.points == 0
    assert report.not_implemented
    text = report.text()
    assert "not done yet" in text and "Traceback" not in text
    assert "replace the line `raise NotImplementedError(...)`" in text
    assert report.failure() == f"{spec.name} is not implemented yet, see above"


@pytest.mark.parametrize("spec", SPECS, ids=ids)
def test_a_missing_name_is_reported_not_raised(spec):
    report = run_check(spec, {})
    assert not report.passed
    assert f"`{spec.name}` is not defined" in report.outcomes[0].message


def test_hidden_seeds_give_other_inputs():
    spec = get_spec("dense_forward")
    a, b = (encode_case(spec.cases((s,))[0]) for s in (0, 1))
    assert a != b


# -- learner-style mistakes, end to end through run_check ------------------------------
def relu(x):
    return np.maximum(0, x)


def naive_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def dense_untransposed(X, W, b):
    return X @ W + b


def mse_grad_no_mean(y_hat, y):
    return 2 * (y_hat - y)


def ce_grad_wrong_sign(z, y):
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return -p / len(y)


def relu_backward_mask_from_grad(grad_out, x):
    return grad_out * (grad_out > 0)


def numgrad_one_eps(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        plus = f(x)
        x[i] = old - eps
        minus = f(x)
        x[i] = old
        grad[i] = (plus - minus) / eps
    return grad


def adam_no_correction(w, grad, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    return w - lr * m / (np.sqrt(v) + eps), m, v


def sgd_uphill(w, grad, velocity, lr, momentum):
    velocity = momentum * velocity + grad
    return w + lr * velocity, velocity


def drop_last(X, y, batch_size, shuffle, seed):
    for start in range(0, len(X) - batch_size + 1, batch_size):
        yield X[start:start + batch_size], y[start:start + batch_size]


class AssignGrad(nn.Module):
    """A Linear whose backward assigns (=) instead of adding (+=)."""

    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(np.zeros((out_features, in_features)))
        self.bias = nn.Parameter(np.zeros(out_features))

    def forward(self, x):
        self._cache = x
        return x @ self.weight.data.T + self.bias.data

    def backward(self, grad_out):
        x = self._saved()
        self.weight.grad = grad_out.T @ x
        self.bias.grad = grad_out.sum(axis=0)
        return grad_out @ self.weight.data


def train_without_step(model, loss_fn, optimizer, X, y, num_epochs, batch_size):
    losses = []
    for _ in range(num_epochs):
        losses.append(loss_fn(model(X), y))
        model.backward(loss_fn.backward())
    return losses


@pytest.mark.parametrize("grade_id, answer, words", [
    ("sigmoid", naive_sigmoid, "exp(-x) overflows"),
    ("dense_forward", dense_untransposed, "use X @ W.T, not X @ W"),
    ("mse_grad", mse_grad_no_mean, "A missing 1/N"),
    ("cross_entropy_grad", ce_grad_wrong_sign, "wrong sign"),
    ("relu_backward", relu_backward_mask_from_grad, "from the INPUT x"),
    ("numerical_gradient", numgrad_one_eps, "Divide by 2 * eps"),
    ("adam_step", adam_no_correction, "No bias correction"),
    ("sgd_momentum_step", sgd_uphill, "wrong sign"),
    ("iterate_minibatches", drop_last, "The last batch may be smaller"),
    ("linear_backward", AssignGrad, "must ADD into .grad (+=)"),
    ("train_model", train_without_step, "optimizer.step()"),
])
def test_typical_mistakes_get_their_hint(grade_id, answer, words):
    spec = get_spec(grade_id)
    report = run_check(spec, {spec.name: answer})
    assert not report.passed
    hints = " ".join(o.hint for o in report.outcomes)
    assert words in hints, report.text()
    assert words in report.text()


def test_a_learner_error_names_its_type_and_line():
    def neuron_forward(x, w, b):
        total = 0
        return total + x[99]

    report = run_check(get_spec("neuron_forward"), {"neuron_forward": neuron_forward})
    message = report.outcomes[0].message
    assert message.startswith("your code raised IndexError at line ")
    assert "`return total + x[99]`" in message and "index 99 is out of bounds" in message


def test_returning_none_or_text_is_an_answer_error_in_plain_words():
    spec = get_spec("dense_forward")
    report = run_check(spec, {"dense_forward": lambda X, W, b: None})
    assert "is None: did you forget to `return` it?" in report.outcomes[0].message
    report = run_check(spec, {"dense_forward": lambda X, W, b: "hello"})
    assert "should be an array of numbers" in report.outcomes[0].message


def test_run_returns_only_plain_data_from_a_hostile_answer():
    class Liar(np.ndarray):
        def __eq__(self, other):
            return True

    spec = get_spec("dense_forward")

    def dense_forward(X, W, b):
        return np.zeros((X.shape[0], W.shape[0])).view(Liar)

    case = spec.cases()[0]
    got = spec.run({"dense_forward": dense_forward}, case)
    assert type(got) is np.ndarray and got.dtype == np.float64
    assert not spec.compare(got, spec.reference(case), case).passed


def test_as_parts_names_what_is_missing():
    spec = get_spec("two_layer_backward")
    with pytest.raises(AnswerError, match=r"tuple of 5 \(loss, dW1, db1, dW2, db2\)"):
        spec.run({"two_layer_backward": lambda *a: (1.0, 2.0)}, spec.cases()[0])
