"""Exercise 12's graded parts that choose on validation: the network is scored on the
validation patients in the notebook and on the test patients only by the autograder's
hidden seed; the threshold is chosen for a recall target (mistakes get their hint)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from dlcore import data, nn
from dlcore.grading import get_spec, run_check


def test_notebook_check_scores_validation_and_hidden_seeds_score_test():
    spec = get_spec("train_diagnosis")
    splits = data.load_breast_cancer()
    public = spec.cases()[0]
    assert public.inputs["split"] == "val" and "57 validation patients" in public.label
    assert np.array_equal(spec.reference(public)["y"], splits.y_val)
    for hidden_seed in (1, 12345):
        hidden = spec.cases([hidden_seed])[0]
        assert hidden.inputs["split"] == "test"
        assert np.array_equal(spec.reference(hidden)["y"], splits.y_test)


def test_a_model_that_always_says_benign_is_scored_on_validation():
    spec = get_spec("train_diagnosis")
    case = spec.cases()[0]
    n_val = len(data.load_breast_cancer().y_val)
    outcome = spec.compare({"predictions": np.ones(n_val, dtype=np.int64)},
                           spec.reference(case), case)
    assert not outcome.passed and "0 of 21 malignant tumours found" in outcome.message


def choose_threshold(p_malignant, y_true, min_recall):
    ranked = np.sort(p_malignant[y_true == 0])[::-1]
    return float(ranked[max(math.ceil(min_recall * len(ranked) - 1e-9), 1) - 1])


def every_cancer(p_malignant, y_true, min_recall):
    return float(p_malignant[y_true == 0].min())


def rounded_down(p_malignant, y_true, min_recall):
    ranked = np.sort(p_malignant[y_true == 0])[::-1]
    return float(ranked[max(math.floor(min_recall * len(ranked)), 1) - 1])


def ranked_among_all(p_malignant, y_true, min_recall):
    ranked = np.sort(p_malignant)[::-1]
    return float(ranked[math.ceil(min_recall * np.sum(y_true == 0)) - 1])


def test_the_right_threshold_passes_on_public_and_hidden_seeds():
    spec = get_spec("choose_threshold")
    for seed in (0, 3, 99):
        for case in spec.cases([seed]):
            got = spec.run({"choose_threshold": choose_threshold}, case)
            assert spec.compare(got, spec.reference(case), case).passed
            # the threshold really reaches the recall target, and one step higher does not
            p, y = case.inputs["p_malignant"], case.inputs["y_true"]
            t, target = got["threshold"], case.inputs["min_recall"]
            assert np.mean(p[y == 0] >= t) >= target
            assert np.mean(p[y == 0] > t) < target


@pytest.mark.parametrize("answer, words", [
    (every_cancer, "finds EVERY malignant patient"),
    (rounded_down, "round UP"),
    (ranked_among_all, "rank their probabilities"),
])
def test_threshold_mistakes_get_their_hint(answer, words):
    spec = get_spec("choose_threshold")
    report = run_check(spec, {"choose_threshold": answer})
    assert not report.passed and report.points < spec.points
    assert words in " ".join(o.hint for o in report.outcomes), report.text()


def test_an_untrained_network_fails_on_validation_with_a_hint():
    spec = get_spec("train_diagnosis")
    report = run_check(spec, {"train_diagnosis": lambda X, y: nn.Sequential(nn.Linear(30, 2))})
    assert not report.passed and report.outcomes[0].hint
