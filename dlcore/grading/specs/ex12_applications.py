"""Exercise 12: an application from start to end, breast-cancer diagnosis: standardise
with the training set's statistics, measure precision and recall, train a network that
reaches a stated accuracy and recall on held-out patients, and choose a decision
threshold on the validation patients for a recall target.

The learner's network is scored on the VALIDATION patients in the notebook's check (the
public seed), so iterating until the check passes never tunes on the test patients; the
class autograder (a hidden seed) scores the test patients, which the learner never sees
a score on (lesson 06: choose on validation, report on test once)."""
from __future__ import annotations

import math

import numpy as np

from ... import data, nn, rng
from ..spec import AnswerError, Case, Hint, Outcome, Spec, as_array, as_float, as_parts, learner
from ._common import call, gen, keep_rng, names, normal, reached, refuse

ASSIGNMENT = "12_applications"
MALIGNANT = 0                # load_breast_cancer: 0 = malignant, 1 = benign
MIN_ACCURACY = 0.95
MIN_RECALL = 0.95
PUBLIC_SEEDS = (0,)          # the in-notebook check; any other seed is the autograder's


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
def _split_for(seed: int) -> str:
    """Which patients score the network: the validation ones for the notebook's public
    seed, the test ones (never shown to the learner) for the autograder's hidden seed."""
    return "val" if int(seed) in PUBLIC_SEEDS else "test"


def _held_out(split: str) -> tuple[np.ndarray, np.ndarray]:
    splits = data.load_breast_cancer()
    return (splits.X_val, splits.y_val) if split == "val" else (splits.X_test, splits.y_test)


def _train_cases(seed: int) -> list[Case]:
    split = _split_for(seed)
    _, y = _held_out(split)
    who = ("the 57 validation patients" if split == "val"
           else f"the {len(y)} test patients, which the notebook never scores")
    return [Case(f"breast-cancer table, the course's fixed split: 399 training patients; "
                 f"dlcore.manual_seed({int(seed)}) before your function; scored on {who}",
                 {"seed": int(seed), "split": split})]


def _train_run(namespace, case: Case) -> dict:
    fn = learner(namespace, "train_diagnosis")
    splits = data.load_breast_cancer()
    X_held, y_held = _held_out(case.inputs["split"])
    with keep_rng():
        rng.manual_seed(case.inputs["seed"])
        model = fn(splits.X_train.copy(), splits.y_train.copy())
        if not isinstance(model, nn.Module):
            raise AnswerError("`train_diagnosis` should return the trained model (an "
                              f"nn.Module), but it returned a {type(model).__name__}")
        model.eval()
        scores = as_array(model(X_held), "the model's output on the held-out patients")
    if scores.ndim != 2 or scores.shape[0] != len(y_held) or scores.shape[1] < 2:
        raise AnswerError(f"the model should give (N, 2) scores for N patients; for "
                          f"{len(y_held)} patients it gave {scores.shape}")
    return {"predictions": scores.argmax(axis=1).astype(np.int64)}


def _train_reference(case: Case) -> dict:
    return {"y": _held_out(case.inputs["split"])[1]}


def _train_compare(spec: Spec, got, expected, case: Case) -> Outcome:
    y = expected["y"]
    pred = got.get("predictions") if isinstance(got, dict) else None
    if not isinstance(pred, np.ndarray) or pred.shape != y.shape:
        return Outcome(case.label, False, f"expected one prediction per held-out patient "
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
         f"held-out patients (validation in the notebook, test in the class autograder) it "
         f"must get {MIN_ACCURACY:.0%} right and find {MIN_RECALL:.0%} of the malignant "
         "tumours",
    make_cases=_train_cases, run=_train_run, reference=_train_reference,
    comparer=_train_compare, time_limit=30.0, public_seeds=PUBLIC_SEEDS,
    tips=("A Linear(30, H) -> ReLU -> Linear(H, 2) network with H around 16-32 is enough; "
          "the features are already standardised.",
          "Train with CrossEntropyLoss and Adam over shuffled mini-batches (data.DataLoader) "
          "for a few dozen epochs; it takes well under a second.",
          "Return the model itself; the check switches it to eval() and scores the "
          "validation patients."),
)


# -- choose_threshold(p_malignant, y_true, min_recall) -----------------------------------------
def _needed(n_positive: int, min_recall: float) -> int:
    """The fewest positives to find for a recall of at least ``min_recall``."""
    return int(math.ceil(min_recall * n_positive - 1e-9))


def _threshold_cases(seed: int) -> list[Case]:
    g = gen(seed, 1204)
    cases = []
    for min_recall in (0.9, 0.8, 1.0):
        n_pos = int(g.integers(8, 16))
        while min_recall < 1 and abs(min_recall * n_pos - round(min_recall * n_pos)) < 0.05:
            n_pos += 1                   # keep "how many cancers to find" unambiguous
        n_neg = int(g.integers(10, 20))
        y = np.concatenate([np.full(n_pos, MALIGNANT), np.full(n_neg, 1 - MALIGNANT)])
        p = np.concatenate([g.beta(4, 2, n_pos), g.beta(2, 3, n_neg)])   # they overlap
        order = g.permutation(len(y))
        cases.append(Case(f"{n_pos} malignant and {n_neg} benign patients, min_recall "
                          f"{min_recall:.0%}",
                          {"p_malignant": np.round(p[order], 4),
                           "y_true": y[order].astype(np.int64), "min_recall": min_recall}))
    return cases


def _threshold(case: Case, count=_needed, pool: str = "malignant") -> dict:
    i = case.inputs
    p, y = i["p_malignant"], i["y_true"]
    positive = p[y == MALIGNANT]
    ranked = np.sort(positive if pool == "malignant" else p)[::-1]
    k = min(max(count(len(positive), i["min_recall"]), 1), len(ranked))
    return {"threshold": float(ranked[k - 1])}


CHOOSE_THRESHOLD = Spec(
    grade_id="choose_threshold", assignment=ASSIGNMENT, name="choose_threshold", points=2,
    task="the HIGHEST threshold t (one of the values in p_malignant) such that calling "
         "'malignant' when p_malignant >= t finds at least min_recall of the malignant "
         "patients (y_true == 0)",
    make_cases=_threshold_cases,
    run=lambda ns, case: {"threshold": as_float(
        call(ns, case, "choose_threshold", "p_malignant", "y_true", "min_recall"),
        "what `choose_threshold` returned")},
    reference=_threshold,
    hints=(
        Hint("This threshold finds EVERY malignant patient, more than asked for: the "
             "highest threshold that still reaches min_recall gives fewer false alarms.",
             mistake=lambda c: _threshold(c, count=lambda n, r: n)),
        Hint("Rounded down: with this threshold the recall falls just short of min_recall. "
             "Find the smallest number k of malignant patients with k / (all malignant) >= "
             "min_recall (round UP).",
             mistake=lambda c: _threshold(c, count=lambda n, r: int(math.floor(r * n)))),
        Hint("The threshold was ranked among ALL patients' probabilities: recall counts only "
             "the malignant ones (y_true == 0), so rank their probabilities.",
             mistake=lambda c: _threshold(c, pool="all")),
    ),
    tips=("Take the probabilities of the malignant patients only, p_malignant[y_true == 0], "
          "and sort them from high to low.",
          "To find k of them, the threshold can be as high as the k-th largest; k is the "
          "smallest whole number with k / (number malignant) >= min_recall."),
    shortcuts=refuse("choose_threshold", "sort the malignant patients' probabilities "
                      "yourself",
                      (names("precision_recall_curve", "roc_curve"),
                       "scikit-learn's ready-made curves")),
)

SPECS = [STANDARDIZE, PRECISION_RECALL, TRAIN_DIAGNOSIS, CHOOSE_THRESHOLD]
