"""Exercise 12: an application from start to end, breast-cancer diagnosis: standardise
with the training set's statistics, measure precision and recall, and train a network
that reaches a stated accuracy and recall on held-out patients."""
from __future__ import annotations

import numpy as np

from ... import data, nn, rng
from ..spec import AnswerError, Case, Hint, Outcome, Spec, as_array, as_parts, learner
from ._common import call, gen, keep_rng, names, normal, reached, refuse

ASSIGNMENT = "12_applications"
MALIGNANT = 0                # load_breast_cancer: 0 = malignant, 1 = benign
MIN_ACCURACY = 0.95
MIN_RECALL = 0.95


# -- standardize(X_train, X_test) ------------------------------------------------------------
def _std_cases(seed: int) -> list[Case]:
    g = gen(seed, 1201)
    d = int(g.integers(3, 6))
    n_train, n_test = int(g.integers(12, 20)), int(g.integers(4, 8))
    center, spread = normal(g, d, scale=50.0), 1 + np.abs(normal(g, d, scale=10.0))
    return [Case(f"{n_train} training rows, {n_test} test rows, D={d} features on "
                 "different scales",
                 {"X_train": center + spread * normal(g, n_train, d),
                  "X_test": center + spread * (normal(g, n_test, d) + 0.5)})]


def _std(X_fit: np.ndarray, i: dict) -> dict:
    scaler = data.Standardizer().fit(X_fit)
    return {"X_train": scaler.transform(i["X_train"]), "X_test": scaler.transform(i["X_test"])}


STANDARDIZE = Spec(
    grade_id="standardize", assignment=ASSIGNMENT, name="standardize", points=2,
    task="(X_train, X_test) standardised per feature with the mean and std of X_train ONLY, "
         "as data.Standardizer",
    make_cases=_std_cases,
    run=lambda ns, case: as_parts(call(ns, case, "standardize", "X_train", "X_test"),
                                  ("X_train", "X_test"), "what `standardize` returned"),
    reference=lambda case: _std(case.inputs["X_train"], case.inputs),
    hints=(
        Hint("The test set was standardised with its own statistics: use the TRAINING "
             "set's mean and std for both, as if the test patients arrived one at a time.",
             mistake=lambda c: {"X_train": _std(c.inputs["X_train"], c.inputs)["X_train"],
                                "X_test": _std(c.inputs["X_test"], c.inputs)["X_test"]}),
        Hint("The statistics come from training and test rows together: the test set must "
             "not influence anything the model sees (that is a leak).",
             mistake=lambda c: _std(np.concatenate([c.inputs["X_train"], c.inputs["X_test"]]),
                                    c.inputs)),
        Hint("One mean per FEATURE (axis=0), not one for the whole table.",
             mistake=lambda c: {k: (c.inputs[k] - c.inputs["X_train"].mean())
                                / c.inputs["X_train"].std() for k in ("X_train", "X_test")}),
    ),
    tips=("Compute the mean and std of X_train along axis 0: one number per feature.",
          "Apply those same numbers to X_train and to X_test."),
    shortcuts=refuse("standardize", "compute the training set's mean and std per "
                      "feature yourself",
                      (reached("standardize", "data", "split") + "|" + names("Standardizer"),
                       "the engine's `data.standardize` (or `data.Standardizer`)"),
                      (names("StandardScaler") + "|" + reached("scale", "preprocessing"),
                       "scikit-learn's `StandardScaler`")),
)


# -- precision_recall(y_true, y_pred, positive) ----------------------------------------------------
def _pr_cases(seed: int) -> list[Case]:
    g = gen(seed, 1202)
    cases = []
    for positive in (MALIGNANT, 1):
        n = int(g.integers(12, 20))
        y_true = g.integers(0, 2, size=n).astype(np.int64)
        y_pred = np.where(g.random(n) < 0.7, y_true, 1 - y_true).astype(np.int64)
        y_true[:2], y_pred[:2] = positive, positive      # at least one true positive
        name = "malignant (0)" if positive == MALIGNANT else "benign (1)"
        cases.append(Case(f"{n} patients, positive class {name}",
                          {"y_true": y_true, "y_pred": y_pred, "positive": positive}))
    return cases


def _pr(case: Case, positive: int | None = None, swap: bool = False) -> dict:
    from sklearn.metrics import precision_score, recall_score  # grader side only

    i = case.inputs
    pos = i["positive"] if positive is None else positive
    p = float(precision_score(i["y_true"], i["y_pred"], pos_label=pos, zero_division=0))
    r = float(recall_score(i["y_true"], i["y_pred"], pos_label=pos, zero_division=0))
    return {"precision": r, "recall": p} if swap else {"precision": p, "recall": r}


PRECISION_RECALL = Spec(
    grade_id="precision_recall", assignment=ASSIGNMENT, name="precision_recall", points=2,
    task="(precision, recall) of the predictions y_pred for the class `positive`: precision "
         "= TP / predicted positives, recall = TP / actual positives",
    make_cases=_pr_cases,
    run=lambda ns, case: as_parts(call(ns, case, "precision_recall", "y_true", "y_pred",
                                       "positive"), ("precision", "recall"),
                                  "what `precision_recall` returned"),
    reference=_pr,
    hints=(
        Hint("Precision and recall are swapped: recall divides by the patients who ARE "
             "positive (did we find them all?), precision by those PREDICTED positive (can we "
             "trust an alarm?).", mistake=lambda c: _pr(c, swap=True)),
        Hint("These are the numbers for the other class: count as positive the entries "
             "equal to `positive` (0 here means malignant).",
             mistake=lambda c: _pr(c, positive=1 - c.inputs["positive"])),
    ),
    tips=("TP: entries where both y_true and y_pred equal `positive`.",
          "Both are fractions of TP: divide by (y_pred == positive).sum() for one and by "
          "(y_true == positive).sum() for the other."),
    shortcuts=refuse("precision_recall", "count the true, predicted and actual "
                      "positives yourself",
                      (names("precision_score", "recall_score",
                             "precision_recall_fscore_support", "classification_report"),
                       "scikit-learn's ready-made metrics")),
)


# -- train_diagnosis(X_train, y_train) ------------------------------------------------------------
def _train_cases(seed: int) -> list[Case]:
    return [Case("breast-cancer table, the course's fixed split: 399 training patients, "
                 f"113 held out; dlcore.manual_seed({int(seed)}) before your function",
                 {"seed": int(seed)})]


def _train_run(namespace, case: Case) -> dict:
    fn = learner(namespace, "train_diagnosis")
    splits = data.load_breast_cancer()
    with keep_rng():
        rng.manual_seed(case.inputs["seed"])
        model = fn(splits.X_train.copy(), splits.y_train.copy())
        if not isinstance(model, nn.Module):
            raise AnswerError("`train_diagnosis` should return the trained model (an "
                              f"nn.Module), but it returned a {type(model).__name__}")
        model.eval()
        scores = as_array(model(splits.X_test), "the model's output on the test patients")
    if scores.ndim != 2 or scores.shape[0] != len(splits.y_test) or scores.shape[1] < 2:
        raise AnswerError(f"the model should give (N, 2) scores for N patients; for "
                          f"{len(splits.y_test)} patients it gave {scores.shape}")
    return {"predictions": scores.argmax(axis=1).astype(np.int64)}


def _train_reference(case: Case) -> dict:
    return {"y_test": data.load_breast_cancer().y_test}


def _train_compare(spec: Spec, got, expected, case: Case) -> Outcome:
    y = expected["y_test"]
    pred = got.get("predictions") if isinstance(got, dict) else None
    if not isinstance(pred, np.ndarray) or pred.shape != y.shape:
        return Outcome(case.label, False, f"expected one prediction per test patient "
                       f"({len(y)}), got {type(pred).__name__}")
    accuracy = float(np.mean(pred == y))
    found = int(np.sum((pred == MALIGNANT) & (y == MALIGNANT)))
    recall = found / int(np.sum(y == MALIGNANT))
    scores = (f"{accuracy:.1%} of the held-out patients right, {found} of "
              f"{int(np.sum(y == MALIGNANT))} malignant tumours found (recall {recall:.1%})")
    if accuracy >= MIN_ACCURACY and recall >= MIN_RECALL:
        return Outcome(case.label, True, scores)
    if np.all(pred == pred[0]):
        hint = ("The model gives every patient the same answer: it did not learn. Check the "
                "training loop (zero_grad, forward, loss, backward, step) and the learning "
                "rate.")
    elif recall < MIN_RECALL and accuracy >= MIN_ACCURACY:
        hint = ("Too many malignant tumours are missed: train a little longer, or weigh the "
                "classes; a missed cancer costs more than a false alarm.")
    else:
        hint = ("Train longer or with another learning rate (Adam, lr around 1e-3 to 1e-2, "
                "a few dozen epochs of mini-batches); a small hidden layer is enough.")
    return Outcome(case.label, False, f"{scores}; needed at least {MIN_ACCURACY:.0%} right "
                   f"and a recall of at least {MIN_RECALL:.0%}", hint)


TRAIN_DIAGNOSIS = Spec(
    grade_id="train_diagnosis", assignment=ASSIGNMENT, name="train_diagnosis", points=4,
    task=f"build and train a network on (X_train (N, 30), y_train (N,)); return it; on the "
         f"held-out patients it must get {MIN_ACCURACY:.0%} right and find {MIN_RECALL:.0%} "
         "of the malignant tumours",
    make_cases=_train_cases, run=_train_run, reference=_train_reference,
    comparer=_train_compare, time_limit=30.0,
    tips=("A Linear(30, H) -> ReLU -> Linear(H, 2) network with H around 16-32 is enough; "
          "the features are already standardised.",
          "Train with CrossEntropyLoss and Adam over shuffled mini-batches (data.DataLoader) "
          "for a few dozen epochs; it takes well under a second.",
          "Return the model itself; the check switches it to eval() and scores the test "
          "patients."),
)

SPECS = [STANDARDIZE, PRECISION_RECALL, TRAIN_DIAGNOSIS]
