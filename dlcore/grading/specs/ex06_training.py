"""Exercise 06: mini-batches, accuracy, and a training loop that learns the digits."""
from __future__ import annotations

import numpy as np

from ... import data, nn, optim, rng, train
from ..spec import AnswerError, Case, Hint, Outcome, Spec, as_array, as_float, learner
from ._common import call, gen, keep_rng, names, normal, reached, refuse

ASSIGNMENT = "06_training"


# -- iterate_minibatches(X, y, batch_size, shuffle, seed) ---------------------------
def _batch_cases(seed: int) -> list[Case]:
    g = gen(seed, 601)
    n = int(g.integers(10, 30))
    b = int(g.integers(3, 7))
    if n % b == 0:
        n += 1
    X = np.stack([np.arange(n), np.arange(n) + 0.5], axis=1).astype(np.float64)
    y = np.arange(n, dtype=np.int64)
    return [Case(f"N={n}, batch_size={b}, in order",
                 {"X": X, "y": y, "batch_size": b, "shuffle": False, "seed": 0}),
            Case(f"N={n}, batch_size={b}, shuffled",
                 {"X": X, "y": y, "batch_size": b, "shuffle": True, "seed": int(seed)})]


def _batch_run(namespace, case: Case) -> dict:
    i = case.copy_inputs()
    n = len(i["y"])
    batches = call(namespace, case, "iterate_minibatches", "X", "y", "batch_size",
                   "shuffle", "seed")
    if batches is None:
        raise AnswerError("`iterate_minibatches` returned None: it should `yield` "
                          "(X_batch, y_batch) pairs")
    sizes, rows, pairs_match = [], [], True
    for batch in batches:
        if len(sizes) > n:
            raise AnswerError(f"`iterate_minibatches` gave more than {n} batches for "
                              f"{n} samples: does its loop stop?")
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise AnswerError("each batch should be a pair (X_batch, y_batch)")
        Xb = as_array(batch[0], "X_batch")
        yb = as_array(batch[1], "y_batch")
        if Xb.ndim != 2 or Xb.shape[1] != 2 or yb.shape != Xb.shape[:1]:
            raise AnswerError(f"a batch has X_batch {Xb.shape} and y_batch {yb.shape}; "
                              "expected (B, 2) and (B,) here")
        sizes.append(len(yb))
        rows.extend(Xb[:, 0].tolist())
        pairs_match = pairs_match and bool(np.array_equal(Xb[:, 0], yb))
    return {"batch sizes": sizes, "rows": np.array(rows, dtype=np.float64),
            "pairs match": pairs_match}


def _batch_reference(case: Case) -> dict:
    i = case.inputs
    loader = data.DataLoader(data.TensorDataset(i["X"], i["y"]),
                             batch_size=i["batch_size"], shuffle=i["shuffle"], seed=i["seed"])
    return {"batch sizes": [len(yb) for _, yb in loader],
            "rows": np.concatenate([yb for _, yb in loader]).astype(np.float64),
            "pairs match": True}


def _batch_compare(spec: Spec, got, expected, case: Case) -> Outcome:
    shuffle = case.inputs["shuffle"]
    n, b = len(case.inputs["y"]), case.inputs["batch_size"]
    sizes, rows = got.get("batch sizes"), got.get("rows")
    if sizes != expected["batch sizes"]:
        hint = ""
        if isinstance(sizes, list) and sum(sizes) == n - n % b and sizes == [b] * (n // b):
            hint = ("The last batch may be smaller than batch_size: keep it, so every "
                    "sample is seen once per epoch.")
        return Outcome(case.label, False, f"expected batches of sizes "
                       f"{expected['batch sizes']}, got {sizes}", hint or
                       "Step the start index by batch_size: range(0, N, batch_size).")
    if got.get("pairs match") is not True:
        return Outcome(case.label, False, "some X_batch rows come with the wrong y_batch "
                       "labels", "Shuffle X and y with the SAME permutation: idx = "
                       "rng.permutation(N); then X[idx], y[idx].")
    if not isinstance(rows, np.ndarray) or sorted(rows.tolist()) != list(range(n)):
        return Outcome(case.label, False, "the batches do not hold every sample exactly once",
                       "Take every index once: a permutation of range(N), cut in slices.")
    in_order = rows.tolist() == list(range(n))
    if shuffle and in_order:
        return Outcome(case.label, False, "shuffle=True, but the samples come in order",
                       "With shuffle=True, draw idx = np.random.default_rng(seed)"
                       ".permutation(N) and take the batches from X[idx], y[idx].")
    if not shuffle and not in_order:
        return Outcome(case.label, False, "shuffle=False, but the samples are not in order",
                       "Only shuffle when shuffle is True.")
    return Outcome(case.label, True, "right")


MINIBATCHES = Spec(
    grade_id="iterate_minibatches", assignment=ASSIGNMENT, name="iterate_minibatches",
    points=2,
    task="yield (X_batch, y_batch) of batch_size rows (the last may be smaller), every "
         "sample once, in a seeded random order when shuffle is True",
    make_cases=_batch_cases, run=_batch_run, reference=_batch_reference,
    comparer=_batch_compare,
    tips=("Make the order first: np.arange(N), or a permutation when shuffle is True.",
          "Then walk over the order in steps of batch_size and `yield` the rows of X and "
          "y at those positions."),
    shortcuts=refuse("iterate_minibatches", "cut the (shuffled) rows into batches yourself",
                      (names("DataLoader"), "`data.DataLoader`, the engine's own batching")),
)


# -- accuracy(scores, y) ---------------------------------------------------------------
def _accuracy_cases(seed: int) -> list[Case]:
    g = gen(seed, 602)
    n, c = int(g.integers(6, 12)), int(g.integers(3, 5))
    k = int(g.integers(3, 6))
    cases = []
    for label, scores in ((f"N={n}, C={c}", normal(g, n, c)), (f"N=C={k}", normal(g, k, k))):
        y = g.integers(0, scores.shape[1], size=len(scores)).astype(np.int64)
        y[: len(y) // 2] = scores[: len(y) // 2].argmax(axis=1)   # some right, some not
        cases.append(Case(label, {"scores": scores, "y": y}))
    return cases


def _argmax_axis0(case: Case) -> float | None:
    s, y = case.inputs["scores"], case.inputs["y"]
    return float(np.mean(s.argmax(axis=0) == y)) if s.shape[0] == s.shape[1] else None


ACCURACY = Spec(
    grade_id="accuracy", assignment=ASSIGNMENT, name="accuracy", points=1,
    task="the fraction of rows of scores (N, C) whose largest entry is at the class y (N,)",
    make_cases=_accuracy_cases,
    run=lambda ns, case: as_float(call(ns, case, "accuracy", "scores", "y"),
                                  "what `accuracy` returned"),
    reference=lambda case: train.accuracy(case.inputs["scores"], case.inputs["y"]),
    hints=(
        Hint("That is the number of right answers; the accuracy is the fraction (divide "
             "by N).", mistake=lambda c: len(c.inputs["y"]) * train.accuracy(
                 c.inputs["scores"], c.inputs["y"])),
        Hint("Take the argmax along each row (axis=1): one prediction per sample.",
             mistake=_argmax_axis0),
    ),
    tips=("The predicted class of a sample is the column of its largest score.",
          "argmax(axis=1) gives each row's prediction; comparing with y gives booleans, "
          "and the mean of booleans is the fraction of True."),
    shortcuts=refuse("accuracy", "compare each row's largest score with its class yourself",
                      (reached("accuracy", "train", "metrics"),
                       "`dlcore.train.accuracy`, the engine's own metric"),
                      (names("accuracy_score"), "scikit-learn's `accuracy_score`")),
)


# -- train_model(model, loss_fn, optimizer, X, y, num_epochs, batch_size) -----------------
MIN_ACCURACY = 0.9


def _train_cases(seed: int) -> list[Case]:
    return [Case("digits, 64 -> 32 -> 10, Adam lr=0.01, 10 epochs of batches of 32",
                 {"seed": int(seed), "num_epochs": 10, "batch_size": 32, "lr": 0.01})]


def _train_run(namespace, case: Case) -> dict:
    fn = learner(namespace, "train_model")
    i = case.copy_inputs()
    digits = data.load_digits()
    with keep_rng():
        rng.manual_seed(i["seed"])
        model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
        optimizer = optim.Adam(model.parameters(), lr=i["lr"])
        losses = fn(model, nn.CrossEntropyLoss(), optimizer, digits.X_train.copy(),
                    digits.y_train.copy(), i["num_epochs"], i["batch_size"])
        losses = as_array(losses, "what `train_model` returned")
        model.eval()
        scores = model(digits.X_test)
    return {"losses": losses, "test accuracy": train.accuracy(scores, digits.y_test)}


def _train_reference(case: Case) -> dict:
    return {"epochs": case.inputs["num_epochs"], "min accuracy": MIN_ACCURACY}


def _train_compare(spec: Spec, got, expected, case: Case) -> Outcome:
    losses, acc = got.get("losses"), got.get("test accuracy")
    epochs = expected["epochs"]
    step_hint = ("In each batch: optimizer.zero_grad(); loss = loss_fn(model(X_batch), "
                 "y_batch); model.backward(loss_fn.backward()); optimizer.step().")
    if not isinstance(losses, np.ndarray) or losses.shape != (epochs,):
        shape = losses.shape if isinstance(losses, np.ndarray) else type(losses).__name__
        return Outcome(case.label, False, f"expected a list of {epochs} losses (one mean "
                       f"loss per epoch), got {shape}",
                       "Append the mean of the batch losses at the end of each epoch.")
    if not np.all(np.isfinite(losses)):
        return Outcome(case.label, False, "the loss became nan or inf",
                       "Step against the gradient (the optimizer does it for you), and "
                       "zero the gradients before each backward pass. " + step_hint)
    if not losses[-1] < losses[0]:
        return Outcome(case.label, False, f"the loss did not go down (epoch 1: "
                       f"{losses[0]:.4f}, epoch {epochs}: {losses[-1]:.4f})", step_hint)
    if not isinstance(acc, float) or acc < expected["min accuracy"]:
        return Outcome(case.label, False, f"the trained model gets {acc:.1%} of the held-out "
                       f"digits right; it should get at least {MIN_ACCURACY:.0%} "
                       f"(loss went from {losses[0]:.4f} to {losses[-1]:.4f})",
                       "Use every batch of every epoch (shuffle=True), and zero the "
                       "gradients in every step. " + step_hint)
    return Outcome(case.label, True, f"{acc:.1%} of the held-out digits right, loss "
                   f"from {losses[0]:.3f} to {losses[-1]:.3f}")


TRAIN_MODEL = Spec(
    grade_id="train_model", assignment=ASSIGNMENT, name="train_model", points=4,
    task=f"train for num_epochs over shuffled mini-batches, return the mean loss of each "
         f"epoch; the model must reach {MIN_ACCURACY:.0%} on held-out digits",
    make_cases=_train_cases, run=_train_run, reference=_train_reference,
    comparer=_train_compare, time_limit=60.0,
    tips=("One epoch is one pass over the batches of iterate_minibatches(X, y, "
          "batch_size, shuffle=True, seed=epoch).",
          "Per batch: zero the gradients, forward, loss, backward through the loss and "
          "the model, optimizer step.",
          "Keep the batch losses of the epoch in a list; append their mean to the list you "
          "return."),
    shortcuts=refuse("train_model", "write the loop yourself: for every batch, zero the "
                      "gradients, forward, backward, step",
                      (reached("fit", "train", "loop"), "`dlcore.train.fit`, the engine's own "
                       "training loop"), torch=False),
)

SPECS = [MINIBATCHES, ACCURACY, TRAIN_MODEL]
