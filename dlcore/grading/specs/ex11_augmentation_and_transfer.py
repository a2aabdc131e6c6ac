"""Exercise 11: data augmentation on a batch (a random horizontal flip from a given
generator, a shift with given offsets, a composition) and a fine-tuning set-up with
frozen layers."""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import data, nn, optim, rng
from ..compare import compare_plain
from ..spec import AnswerError, Case, Hint, Outcome, Spec, as_array, learner
from ._common import gen, keep_rng, names, normal, reached, refuse

ASSIGNMENT = "11_augmentation_and_transfer"


# -- random_hflip(X, p, generator) -----------------------------------------------------------
def _flip_cases(seed: int) -> list[Case]:
    g = gen(seed, 1101)
    n, h, w = int(g.integers(6, 10)), int(g.integers(3, 5)), int(g.integers(3, 6))
    return [Case(f"{n} images (N, C=2, H={h}, W={w}), p=0.5",
                 {"X": normal(g, n, 2, h, w), "p": 0.5, "draw": int(g.integers(0, 2**31))}),
            Case(f"{n} images (N, H={h}, W={w}), p=0.3",
                 {"X": normal(g, n, h, w), "p": 0.3, "draw": int(g.integers(0, 2**31))})]


def _flip_run(namespace, case: Case) -> dict:
    fn = learner(namespace, "random_hflip")
    i = case.copy_inputs()
    X = i["X"]
    out = as_array(fn(X, i["p"], np.random.default_rng(i["draw"])),
                   "what `random_hflip` returned")
    return {"images": out, "X unchanged": bool(np.array_equal(X, case.inputs["X"]))}


def _flip(case: Case, transform: type = data.RandomHorizontalFlip, p: float | None = None
          ) -> dict:
    i = case.inputs
    flip = transform(i["p"] if p is None else p, generator=np.random.default_rng(i["draw"]))
    return {"images": flip(i["X"]), "X unchanged": True}


def _flip_inverted(case: Case) -> dict:
    """Flips where the draw is >= p instead of < p."""
    i = case.inputs
    chosen = np.random.default_rng(i["draw"]).random(len(i["X"])) >= i["p"]
    out = i["X"].copy()
    out[chosen] = data.hflip(i["X"][chosen])
    return {"images": out, "X unchanged": True}


RANDOM_HFLIP = Spec(
    grade_id="random_hflip", assignment=ASSIGNMENT, name="random_hflip", points=2,
    task="mirror image n left-right where the n-th of N uniform draws from `generator` is "
         "below p; X (N, C, H, W) or (N, H, W) is not changed",
    make_cases=_flip_cases, run=_flip_run, reference=_flip,
    hints=(
        Hint("The images are mirrored top-bottom: a horizontal flip reverses the LAST axis "
             "(the columns, W).", mistake=lambda c: _flip(c, data.RandomVerticalFlip)),
        Hint("Every image is flipped: flip only those whose draw is below p.",
             mistake=lambda c: _flip(c, p=1.0)),
        Hint("The choice is the other way round: image n is flipped when its draw is BELOW "
             "p, so about a fraction p of the images flip.", mistake=_flip_inverted),
        Hint("Your function changed the caller's X: work on a copy (X.copy()), since "
             "augmentation must never change the data set itself.",
             mistake=lambda c: {"images": _flip(c)["images"], "X unchanged": False}),
    ),
    tips=("Draw all N numbers at once with generator.random(N), one per image, before "
          "anything else.",
          "A boolean array of the chosen images indexes the batch; `[..., ::-1]` reverses "
          "the last axis whatever the number of axes."),
    shortcuts=refuse("random_hflip", "draw the numbers and mirror the chosen images "
                      "yourself",
                      (names("RandomHorizontalFlip"),
                       "`data.RandomHorizontalFlip`, the engine's own transform"),
                      (reached("hflip", "data", "augment"), "`data.hflip`, the engine's own "
                       "flip")),
)


# -- shift_images(X, dy, dx, fill) ---------------------------------------------------------------
class _Given:
    """A stand-in generator that hands nn's RandomShift the offsets of the case."""

    def __init__(self, *draws: np.ndarray):
        self.draws = list(draws)

    def integers(self, low: int, high: int, size: int) -> np.ndarray:
        return self.draws.pop(0)


def _shift_cases(seed: int) -> list[Case]:
    g = gen(seed, 1102)
    n, h, w = int(g.integers(3, 6)), int(g.integers(5, 8)), int(g.integers(5, 8))
    return [Case(f"{n} images (N, C=1, H={h}, W={w}), shifts up to 2, fill 0",
                 {"X": normal(g, n, 1, h, w), "dy": g.integers(-2, 3, size=n),
                  "dx": g.integers(-2, 3, size=n), "fill": 0.0}),
            Case(f"{n} images (N, H={h}, W={w}), shifts up to 3, fill 0.5",
                 {"X": normal(g, n, h, w), "dy": g.integers(-3, 4, size=n),
                  "dx": g.integers(-3, 4, size=n), "fill": 0.5})]


def _shift(X, dy, dx, fill) -> np.ndarray:
    m = int(max(np.abs(dy).max(), np.abs(dx).max(), 1))
    return data.RandomShift(m, fill, generator=_Given(m - dy, m - dx))(X)


def _rolled(case: Case) -> np.ndarray:
    i = case.inputs
    return np.stack([np.roll(x, (a, b), axis=(-2, -1)) for x, a, b in
                     zip(i["X"], i["dy"], i["dx"], strict=True)])


SHIFT_IMAGES = Spec(
    grade_id="shift_images", assignment=ASSIGNMENT, name="shift_images", points=2,
    task="move image n down by dy[n] and right by dx[n] pixels (negative: up, left); the "
         "pixels that come in are `fill`; X (N, C, H, W) or (N, H, W)",
    make_cases=_shift_cases,
    run=lambda ns, case: as_array(
        learner(ns, "shift_images")(*[case.copy_inputs()[k] for k in ("X", "dy", "dx",
                                                                       "fill")]),
        "what `shift_images` returned"),
    reference=lambda case: _shift(*[case.inputs[k] for k in ("X", "dy", "dx", "fill")]),
    hints=(
        Hint("The images move the wrong way: with dy = 1 the content moves DOWN one row, "
             "so out[i] = X[i - dy].",
             mistake=lambda c: _shift(c.inputs["X"], -c.inputs["dy"], -c.inputs["dx"],
                                      c.inputs["fill"])),
        Hint("np.roll wraps around: the pixels pushed off one edge come back on the other. "
             "New pixels must be `fill` instead.", mistake=_rolled),
        Hint("The new pixels should be `fill`, not 0.",
             mistake=lambda c: None if c.inputs["fill"] == 0 else _shift(
                 c.inputs["X"], c.inputs["dy"], c.inputs["dx"], 0.0)),
    ),
    tips=("Pad every image with `fill` (np.pad with constant_values) by the largest shift on "
          "all four sides, then cut out an H x W window per image.",
          "Moving the content down by dy means the window starts dy rows ABOVE where the "
          "image starts in the padded array."),
    shortcuts=refuse("shift_images", "move the pixels yourself, filling what comes in "
                      "from outside",
                      (names("RandomShift"), "`data.RandomShift`, the engine's own transform"),
                      (reached("shift", "ndimage"), "SciPy's `ndimage.shift`")),
)


# -- compose(transforms) -------------------------------------------------------------------------
def _compose_cases(seed: int) -> list[Case]:
    g = gen(seed, 1103)
    n = int(g.integers(2, 5))
    return [Case(f"{n} images, three transforms: add a, multiply by b, mirror",
                 {"X": normal(g, n, 3, 4), "a": float(normal(g, 1)[0]),
                  "b": float(2 + g.integers(0, 3))})]


def _transforms(i: dict) -> list:
    a, b = i["a"], i["b"]
    return [lambda X: X + a, lambda X: X * b, data.hflip]


def _compose_run(namespace, case: Case) -> np.ndarray:
    fn = learner(namespace, "compose")
    i = case.copy_inputs()
    augment = fn(_transforms(i))
    if not callable(augment):
        raise AnswerError(f"`compose` should return a function, but it returned a "
                          f"{type(augment).__name__}")
    return as_array(augment(i["X"]), "what the composed function returned")


COMPOSE = Spec(
    grade_id="compose", assignment=ASSIGNMENT, name="compose", points=1,
    task="compose(transforms) returns one function that applies the transforms to a batch "
         "in list order, as data.Compose",
    make_cases=_compose_cases, run=_compose_run,
    reference=lambda case: data.Compose(_transforms(case.inputs))(case.inputs["X"]),
    hints=(
        Hint("The transforms run in the wrong order: the FIRST one in the list is applied "
             "first.", mistake=lambda c: data.Compose(_transforms(c.inputs)[::-1])(
                 c.inputs["X"])),
        Hint("Only the last transform was applied: each one must take the output of the "
             "one before.", mistake=lambda c: data.hflip(c.inputs["X"])),
    ),
    tips=("Return an inner function (a closure) that loops over the transforms.",
          "Inside it, feed each transform the result of the previous one."),
    shortcuts=refuse("compose", "write the function that applies the transforms in turn "
                      "yourself",
                      (names("Compose"), "`data.Compose`, the engine's own composition")),
)


# -- fine_tune_setup(model, num_classes, lr) ------------------------------------------------------
def pretrained() -> nn.Sequential:
    """The 'pretrained' network of the check (its weights come from the case's seed)."""
    return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(),
                         nn.Linear(16, 10))


def _tune_cases(seed: int) -> list[Case]:
    g = gen(seed, 1104)
    return [Case(f"a new head for {k} classes, one SGD step on 8 samples",
                 {"seed": int(g.integers(0, 2**31)), "num_classes": k, "lr": 0.1,
                  "X": normal(g, 8, 64), "y": g.integers(0, k, size=8).astype(np.int64)})
            for k in (3, 10)]


def _tune_run(namespace, case: Case) -> dict:
    fn = learner(namespace, "fine_tune_setup")
    i = case.copy_inputs()
    with keep_rng():
        rng.manual_seed(i["seed"])
        model = pretrained()
        old_head = model[-1].weight.data.copy()
        out = fn(model, i["num_classes"], i["lr"])
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise AnswerError("`fine_tune_setup` should return a pair (model, optimizer)")
        model, optimizer = out
        if not isinstance(model, nn.Sequential) or not isinstance(optimizer, optim.Optimizer):
            raise AnswerError("`fine_tune_setup` should return the nn.Sequential model and an "
                              "optimizer from dlcore.optim")
        body = [p.data.copy() for p in model[:-1].parameters()]
        head = model[-1].weight
        head_before = head.data.copy()
        loss_fn = nn.CrossEntropyLoss()
        optimizer.zero_grad()
        scores = as_array(model(i["X"]), "the model's output")
        loss_fn(scores, i["y"])
        model.backward(loss_fn.backward())
        optimizer.step()
    return {"output shape": list(scores.shape),
            "trainable": [bool(p.requires_grad) for p in model.parameters()],
            "frozen layers unchanged": all(np.array_equal(p.data, b) for p, b in
                                           zip(model[:-1].parameters(), body, strict=True)),
            "head trained": not np.array_equal(head.data, head_before),
            "head new": head_before.shape != old_head.shape or
            not np.array_equal(head_before, old_head),
            "parameters in the optimizer": sum(len(g["params"]) for g in
                                               optimizer.param_groups)}


def _tune_expected(case: Case, **changes: Any) -> dict:
    out = {"output shape": [len(case.inputs["y"]), case.inputs["num_classes"]],
           "trainable": [False] * 4 + [True] * 2, "frozen layers unchanged": True,
           "head trained": True, "head new": True, "parameters in the optimizer": 2}
    out.update(changes)
    return out


TUNE_HINTS = {
    "output shape": "The head still has 10 outputs: replace the last layer with a new "
                    "nn.Linear(16, num_classes).",
    "trainable": "Freeze every layer but the new head: requires_grad_(False) on the old "
                 "layers, and the new head's parameters stay trainable.",
    "frozen layers unchanged": "A frozen layer was still updated: its parameters need "
                               "requires_grad_(False), so the optimizer leaves them alone.",
    "parameters in the optimizer": "Give the optimizer only the trainable parameters (the "
                                   "new head's weight and bias), not the whole model's.",
    "head trained": "The head did not learn: it must stay trainable and be in the optimizer.",
    "head new": "The head must be a NEW layer (fresh random weights), even when the number "
                "of classes stays 10: the old head answered another question.",
}


def _tune_compare(spec: Spec, got, expected, case: Case) -> Outcome:
    problems = compare_plain(got, expected)
    if not problems:
        return Outcome(case.label, True, "right: only the new head learns")
    hint = spec.hint_for(got, case)
    if not hint and isinstance(got, dict):
        hint = next((text for key, text in TUNE_HINTS.items()
                     if compare_plain(got.get(key), expected[key])), "")
    return Outcome(case.label, False, "; ".join(problems), hint)


FINE_TUNE_SETUP = Spec(
    grade_id="fine_tune_setup", assignment=ASSIGNMENT, name="fine_tune_setup", points=4,
    task="freeze the pretrained layers, put a new nn.Linear(16, num_classes) head in place of "
         "the last layer, return (model, an SGD optimizer over the head's parameters only)",
    make_cases=_tune_cases, run=_tune_run, reference=_tune_expected, comparer=_tune_compare,
    hints=(
        Hint(TUNE_HINTS["frozen layers unchanged"],
             mistake=lambda c: _tune_expected(c, **{"trainable": [True] * 6,
                                                    "frozen layers unchanged": False,
                                                    "parameters in the optimizer": 6})),
        Hint(TUNE_HINTS["parameters in the optimizer"],
             mistake=lambda c: _tune_expected(c, **{"parameters in the optimizer": 6})),
        Hint("Freeze the old layers BEFORE putting in the new head (or freeze only them): "
             "here the new head is frozen too, so nothing learns.",
             mistake=lambda c: _tune_expected(c, **{"trainable": [False] * 6,
                                                    "head trained": False,
                                                    "parameters in the optimizer": 6})),
    ),
    tips=("list(model) gives the layers in order; a new nn.Sequential of all but the last "
          "of them, followed by the new head, shares the pretrained layers' weights.",
          "Module.requires_grad_(False) freezes all the parameters of a layer at once.",
          "optim.SGD takes any list of parameters: the new head's .parameters()."),
)

SPECS = [RANDOM_HFLIP, SHIFT_IMAGES, COMPOSE, FINE_TUNE_SETUP]
