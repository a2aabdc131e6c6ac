"""Accuracy benchmarks: dlcore trains real models to real accuracies, with
PyTorch's figures beside them where torch is installed.

    python benchmarks/accuracy.py                 # all, writes benchmarks/accuracy.md
    python benchmarks/accuracy.py --only mlp_digits cnn_digits --no-torch

Each task is trained twice with the same architecture, data, batches (one
seeded ``DataLoader`` order), initial weights (dlcore's are copied into the
torch model through ``state_dict``, whose keys match), optimizer,
hyperparameters and schedule: once with ``dlcore.train.fit``, once with a plain
PyTorch loop. Models train on the train + validation parts of
``load_digits()`` (1,438 images) and are scored once on its test part (359).

``tests/test_accuracy.py`` loads this file to assert the thresholds.
"""
from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import dlcore
from dlcore import nn, optim, train
from dlcore.data import DataLoader, Standardizer, TensorDataset, adding_problem, load_digits

HERE = Path(__file__).resolve().parent


@dataclass
class Task:
    name: str
    title: str
    data: Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
    model: Callable[[], nn.Module]
    torch_model: Callable[[], object]
    classify: bool            # accuracy (CrossEntropyLoss) or MSE (MSELoss)
    epochs: int
    lr: float
    goal: str                 # the claim, in words
    passes: Callable[[float], bool]
    batch_size: int = 32
    cosine: bool = True       # CosineAnnealingLR over the epochs
    clip: float | None = None
    label_smoothing: float = 0.1


def digits_data(images: bool, per_pixel: bool):
    """Train on train + val, test on test; standardised with training statistics."""
    d = load_digits(images=images)
    X = np.concatenate([d.X_train, d.X_val])
    y = np.concatenate([d.y_train, d.y_val])
    scaler = Standardizer(axis=0 if per_pixel else tuple(range(X.ndim))).fit(X)
    return scaler.transform(X), y, scaler.transform(d.X_test), d.y_test


def digit_rows():
    """The 8x8 digits as sequences of 8 rows of 8 pixels: (N, 8, 8)."""
    X, y, X_test, y_test = digits_data(False, False)
    return X.reshape(-1, 8, 8), y, X_test.reshape(-1, 8, 8), y_test


def adding_data(length: int):
    X, y = adding_problem(4000, length, seed=1)
    X_test, y_test = adding_problem(1000, length, seed=2)
    return X, y, X_test, y_test


# -- the models, in dlcore and in torch with the same parameter names ------------
def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10))


def cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Dropout(0.2), nn.Linear(256, 10))


def torch_mlp():
    import torch.nn as tnn
    return tnn.Sequential(tnn.Linear(64, 256), tnn.ReLU(), tnn.Dropout(0.2), tnn.Linear(256, 10))


def torch_cnn():
    import torch.nn as tnn
    return tnn.Sequential(tnn.Conv2d(1, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                          tnn.Conv2d(32, 64, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
                          tnn.Flatten(), tnn.Dropout(0.2), tnn.Linear(256, 10))


def last_step(kind: str, input_size: int, hidden: int, out: int) -> nn.Module:
    return nn.LastStep(getattr(nn, kind)(input_size, hidden, batch_first=True),
                       nn.Linear(hidden, out))


def torch_last_step(kind: str, input_size: int, hidden: int, out: int):
    """PyTorch's twin of nn.LastStep, with the same parameter names."""
    import torch.nn as tnn

    class TorchLastStep(tnn.Module):
        def __init__(self):
            super().__init__()
            self.recurrent = getattr(tnn, kind)(input_size, hidden, batch_first=True)
            self.head = tnn.Linear(hidden, out)

        def forward(self, x):
            return self.head(self.recurrent(x)[0][:, -1])

    return TorchLastStep()


ADDING_LENGTH = 50
TASKS = [
    Task("mlp_digits", "MLP 64-256-10 (ReLU, dropout 0.2), 8x8 digits",
         lambda: digits_data(False, True), mlp, torch_mlp, True, epochs=40, lr=1e-3,
         goal="test accuracy >= 97%", passes=lambda a: a >= 0.97),
    Task("cnn_digits", "CNN conv32-pool-conv64-pool-linear, 8x8 digits",
         lambda: digits_data(True, False), cnn, torch_cnn, True, epochs=20, lr=2e-3,
         goal="test accuracy >= 98%", passes=lambda a: a >= 0.98),
    Task("lstm_digits", "LSTM(8, 64) reading the 8 rows, then Linear(64, 10)",
         digit_rows, lambda: last_step("LSTM", 8, 64, 10),
         lambda: torch_last_step("LSTM", 8, 64, 10), True, epochs=15, lr=5e-3,
         goal="test accuracy >= 95%", passes=lambda a: a >= 0.95),
    Task("lstm_adding", f"LSTM(2, 32) on the adding problem, T = {ADDING_LENGTH}",
         lambda: adding_data(ADDING_LENGTH),
         lambda: last_step("LSTM", 2, 32, 1),
         lambda: torch_last_step("LSTM", 2, 32, 1), False, epochs=12, lr=1e-2, cosine=False,
         clip=1.0, batch_size=64, goal="test MSE < 0.05 (solved; always 1 gives ~0.17)",
         passes=lambda mse: mse < 0.05),
    Task("rnn_adding", f"plain RNN(2, 32) (tanh), same task and training, T = {ADDING_LENGTH}",
         lambda: adding_data(ADDING_LENGTH),
         lambda: last_step("RNN", 2, 32, 1),
         lambda: torch_last_step("RNN", 2, 32, 1), False, epochs=12, lr=1e-2, cosine=False,
         clip=1.0, batch_size=64, goal="test MSE > 0.1 (fails: it cannot carry the "
         "first mark 25+ steps)", passes=lambda mse: mse > 0.1),
]
BY_NAME = {task.name: task for task in TASKS}


@dataclass
class Result:
    score: float      # accuracy, or mean squared error
    seconds: float
    model: object = None


def _loss(task: Task) -> nn.Module:
    return (nn.CrossEntropyLoss(label_smoothing=task.label_smoothing) if task.classify
            else nn.MSELoss())


def run_dlcore(task: Task, seed: int = 0) -> Result:
    X, y, X_test, y_test = task.data()
    dlcore.manual_seed(seed)
    model = task.model()
    loader = DataLoader(TensorDataset(X, y), task.batch_size, shuffle=True, seed=seed)
    optimizer = optim.Adam(model.parameters(), lr=task.lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, task.epochs) \
        if task.cosine else None
    start = time.perf_counter()
    train.fit(model, _loss(task), optimizer, loader, epochs=task.epochs, scheduler=scheduler,
              clip_grad_norm=task.clip, progress=False)
    seconds = time.perf_counter() - start
    if task.classify:
        score = train.evaluate(model, (X_test, y_test))["accuracy"]
    else:
        score = train.evaluate(model, (X_test, y_test), nn.MSELoss())["loss"]
    return Result(score, seconds, model)


def run_torch(task: Task, seed: int = 0) -> Result:
    import torch

    X, y, X_test, y_test = task.data()
    dlcore.manual_seed(seed)
    twin = task.model()                      # dlcore's initial weights, copied over
    model = task.torch_model()
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v))
                           for k, v in twin.state_dict().items()})
    torch.manual_seed(seed)
    loader = DataLoader(TensorDataset(X, y), task.batch_size, shuffle=True, seed=seed)
    loss_fn = (torch.nn.CrossEntropyLoss(label_smoothing=task.label_smoothing)
               if task.classify else torch.nn.MSELoss())
    optimizer = torch.optim.Adam(model.parameters(), lr=task.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, task.epochs) \
        if task.cosine else None
    start = time.perf_counter()
    model.train()
    for _ in range(task.epochs):
        for X_batch, y_batch in loader:
            loss = loss_fn(model(torch.from_numpy(X_batch)), torch.from_numpy(y_batch))
            optimizer.zero_grad()
            loss.backward()
            if task.clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), task.clip)
            optimizer.step()
        if scheduler is not None:
            scheduler.step()
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        out = model(torch.from_numpy(X_test)).numpy()
    score = float(np.mean(out.argmax(1) == y_test)) if task.classify \
        else float(np.mean((out - y_test) ** 2))
    return Result(score, seconds, model)


def _fmt(task: Task, score: float) -> str:
    return f"{100 * score:.2f}%" if task.classify else f"MSE {score:.4f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(BY_NAME), help="tasks to run")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    parser.add_argument("--out", default=str(HERE / "accuracy.md"),
                        help="where to write the markdown report ('-' for none)")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads for NumPy and threads for torch (default 1: "
                             "these models are small, and the machine may be shared)")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    threadpool_limits(args.threads)
    tasks = [BY_NAME[name] for name in args.only] if args.only else TASKS
    try:
        import torch
        has_torch = not args.no_torch
        torch.set_num_threads(args.threads)
    except ImportError:
        has_torch = False
    rows = []
    for task in tasks:
        mine = run_dlcore(task)
        ref = run_torch(task) if has_torch else None
        verdict = "yes" if task.passes(mine.score) else "**NO**"
        torch_cols = (f"{_fmt(task, ref.score)} | {ref.seconds:.1f} s | "
                      f"{mine.seconds / ref.seconds:.1f}x") if ref else "- | - | -"
        rows.append(f"| {task.title} | {task.goal} | {_fmt(task, mine.score)} | "
                    f"{mine.seconds:.1f} s | {verdict} | {torch_cols} |")
        print(rows[-1], flush=True)
    torch_version = f"torch {torch.__version__}" if has_torch else "PyTorch not run"
    text = "\n".join([
        "# Accuracy: dlcore against PyTorch",
        "",
        "Written by `python benchmarks/accuracy.py`. Same architecture, data, batch order,",
        "initial weights, optimizer (Adam) and hyperparameters on both sides; seed 0;",
        "digits models train on the 1,438 train + validation images of `load_digits()`",
        "and are scored once on its 359 test images. Time is training time only.",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, "
        f"numpy {np.__version__}, {torch_version}; {args.threads} thread(s) for NumPy's "
        "BLAS and for torch.",
        "Timings on a shared machine are noisy; the ratio (dlcore / PyTorch) is from the "
        "same run.",
        "",
        "| model | goal | dlcore | dlcore time | goal met | PyTorch | PyTorch time | "
        "time ratio |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
    ])
    if args.out != "-":                  # '-': print only, write nothing
        Path(args.out).write_text(text)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
