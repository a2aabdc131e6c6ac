"""Exercises 07-12 end to end through run_check: learner-style wrong answers (written as a
learner would, not computed from the engine) fail and get the hint for their mistake;
the specs with their own comparer (fine-tuning, the diagnosis network) accept the right
answer and turn down the wrong ones in plain words."""
from __future__ import annotations

import numpy as np
import pytest

from dlcore import data, nn, optim
from dlcore.grading import get_spec, run_check
from dlcore.grading.spec import decode, encode
from dlcore.nn.functional import sigmoid


def conv_no_padding(x, w, b, stride, padding):
    F, _, kh, kw = w.shape
    N, _, H, W = x.shape
    Ho, Wo = (H - kh) // stride + 1, (W - kw) // stride + 1
    out = np.zeros((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            window = x[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out


def maxpool_backward_every_max(grad_out, x, pool, stride):
    dx = np.zeros_like(x)
    N, C, Ho, Wo = grad_out.shape
    for n, c, i, j in np.ndindex(N, C, Ho, Wo):
        window = x[n, c, i * stride:i * stride + pool, j * stride:j * stride + pool]
        dx[n, c, i * stride:i * stride + pool, j * stride:j * stride + pool] += (
            grad_out[n, c, i, j] * (window == window.max()))
    return dx


def rnn_step_untransposed(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x @ W_ih + b_ih + h_prev @ W_hh + b_hh)


def rnn_bptt_no_time(x, h0, W_ih, W_hh, b_ih, b_hh, grad_hs):
    hs = [h0]
    for t in range(x.shape[1]):
        hs.append(np.tanh(x[:, t] @ W_ih.T + b_ih + hs[-1] @ W_hh.T + b_hh))
    dx, dW_ih, dW_hh = np.zeros(x.shape), np.zeros(W_ih.shape), np.zeros(W_hh.shape)
    db, dh0 = np.zeros(b_ih.shape), None
    for t in reversed(range(x.shape[1])):
        dz = grad_hs[:, t] * (1 - hs[t + 1] ** 2)       # only this step's gradient
        dx[:, t] = dz @ W_ih
        dW_ih += dz.T @ x[:, t]
        dW_hh += dz.T @ hs[t]
        db += dz.sum(axis=0)
        dh0 = dz @ W_hh
    return dx, dh0, dW_ih, dW_hh, db


def lstm_ifog(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    c = f * c_prev + i * g
    return o * np.tanh(c), c


def lstm_no_memory(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    i, o = sigmoid(a[:, :H]), sigmoid(a[:, 3 * H:])
    c = i * np.tanh(a[:, 2 * H:3 * H])
    return o * np.tanh(c), c


def dropout_unscaled(x, p, keep, train):
    return x * keep if train else x


def batchnorm_eval_with_batch(x, gamma, beta, running_mean, running_var, momentum, eps, train):
    mean, var, n = x.mean(axis=0), x.var(axis=0), len(x)
    out = gamma * (x - mean) / np.sqrt(var + eps) + beta
    if not train:
        return out, running_mean, running_var
    return (out, (1 - momentum) * running_mean + momentum * mean,
            (1 - momentum) * running_var + momentum * var * n / (n - 1))


def batchnorm_biased_running(x, gamma, beta, running_mean, running_var, momentum, eps, train):
    if not train:
        return (gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta,
                running_mean, running_var)
    mean, var = x.mean(axis=0), x.var(axis=0)
    return (gamma * (x - mean) / np.sqrt(var + eps) + beta,
            (1 - momentum) * running_mean + momentum * mean,
            (1 - momentum) * running_var + momentum * var)


def batchnorm_backward_constants(grad_out, x, gamma, beta, eps):
    std = np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - x.mean(axis=0)) / std
    return grad_out * gamma / std, (grad_out * x_hat).sum(axis=0), grad_out.sum(axis=0)


def compose_reversed(transforms):
    def apply(X):
        for transform in reversed(transforms):
            X = transform(X)
        return X
    return apply


def fine_tune_unfrozen(model, num_classes, lr):
    head = nn.Linear(model[-1].in_features, num_classes)
    model = nn.Sequential(*list(model)[:-1], head)
    return model, optim.SGD(model.parameters(), lr=lr)


def fine_tune_whole_optimizer(model, num_classes, lr):
    model.requires_grad_(False)
    model = nn.Sequential(*list(model)[:-1], nn.Linear(model[-1].in_features, num_classes))
    return model, optim.SGD(model.parameters(), lr=lr)


def standardize_each(X_train, X_test):
    return ((X_train - X_train.mean(axis=0)) / X_train.std(axis=0),
            (X_test - X_test.mean(axis=0)) / X_test.std(axis=0))


def train_diagnosis_untrained(X_train, y_train):
    return nn.Sequential(nn.Linear(30, 2))


@pytest.mark.parametrize("grade_id, answer, words", [
    ("conv_forward", conv_no_padding, "The padding is missing"),
    ("maxpool_backward", maxpool_backward_every_max, "only the FIRST maximum"),
    ("rnn_step_forward", rnn_step_untransposed, "The weights are transposed"),
    ("rnn_bptt", rnn_bptt_no_time, "does not flow back through time"),
    ("lstm_step_forward", lstm_ifog, "The gates are in the wrong order"),
    ("lstm_step_forward", lstm_no_memory, "The previous cell state is forgotten"),
    ("dropout_forward", dropout_unscaled, "not rescaled"),
    ("batchnorm_forward", batchnorm_eval_with_batch, "normalise with the RUNNING mean"),
    ("batchnorm_forward", batchnorm_biased_running, "the UNBIASED batch variance"),
    ("batchnorm_backward", batchnorm_backward_constants, "treats the mean and variance"),
    ("compose", compose_reversed, "in the wrong order"),
    ("fine_tune_setup", fine_tune_unfrozen, "A frozen layer was still updated"),
    ("fine_tune_setup", fine_tune_whole_optimizer, "only the trainable parameters"),
    ("standardize", standardize_each, "its own statistics"),
    ("train_diagnosis", train_diagnosis_untrained, "Train longer"),
])
def test_typical_mistakes_get_their_hint(grade_id, answer, words):
    spec = get_spec(grade_id)
    report = run_check(spec, {spec.name: answer})
    assert not report.passed and report.points < spec.points
    assert words in " ".join(o.hint for o in report.outcomes), report.text()


@pytest.mark.parametrize("grade_id", ["fine_tune_setup", "train_diagnosis"])
def test_own_comparers_turn_down_wrong_plain_data_politely(grade_id):
    spec = get_spec(grade_id)
    case = spec.cases()[0]
    for wrong in ({}, {"predictions": np.zeros(3)}, "hello", None):
        outcome = spec.compare(wrong, spec.reference(case), case)
        assert not outcome.passed and outcome.message


def test_fine_tune_reference_passes_and_a_head_that_stays_put_is_named():
    spec = get_spec("fine_tune_setup")
    for case in spec.cases((0, 1, 7)):
        expected = spec.reference(case)
        assert spec.compare(decode(encode(expected)), expected, case).passed
        kept = dict(expected, **{"head new": False})
        outcome = spec.compare(kept, expected, case)
        assert not outcome.passed and "must be a NEW layer" in outcome.hint


def test_diagnosis_that_always_says_benign_is_told_it_did_not_learn():
    spec = get_spec("train_diagnosis")
    case = spec.cases()[0]
    benign = {"predictions": np.ones(len(data.load_breast_cancer().y_val), dtype=np.int64)}
    outcome = spec.compare(benign, spec.reference(case), case)
    assert not outcome.passed                  # the notebook's check scores validation
    assert "0 of 21 malignant tumours found" in outcome.message
    assert "did not learn" in outcome.hint
