"""How fast is one dlcore training step next to PyTorch CPU's?

    python benchmarks/speed.py            # prints the table, writes benchmarks/speed.md
    python benchmarks/speed.py --quick    # fewer rounds, for a first look

One step = zero_grad, forward, cross-entropy loss, backward, SGD update, on the same
shapes in float32, with PyTorch's model starting from dlcore's weights (copied through
``state_dict``). dlcore's backward is the one ``fit(..., input_grad=False)`` runs,
``backward(g, input_grad=False)``: like PyTorch, it does not compute the gradient for
the data. The plain ``backward(g)`` (``fit``'s default), which does, is timed too
("full backward").

dlcore and PyTorch run in alternation (A, B, C, then C, B, A, ...) and the table gives
the medians, and the median of the per-round ratios, so a busy machine slows both
alike. Both sides get one thread unless ``--threads`` says otherwise: with more, NumPy's
OpenBLAS pool and PyTorch's OpenMP pool share one process, and on a machine with few
cores their idle threads spin against each other (on 2 cores with nothing else running,
a 7x "ratio" that says nothing about either library). Rows whose layers dlcore does
not have yet are skipped with a note; without PyTorch, dlcore's times are printed alone.
"""
from __future__ import annotations

import argparse
import datetime
import gc
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import dlcore
from dlcore import nn, optim

HERE = Path(__file__).resolve().parent
LR = 0.01


@dataclass
class Case:
    """One benchmark row: how to build each side, the input shape and the targets."""

    name: str
    target: str          # the ratio we aim at, as text ("<= 1.0", "<= 4.0, then 2.5")
    limit: float         # the first target, as a number
    needs: tuple[str, ...]
    x_shape: tuple[int, ...]
    n_classes: int = 10
    memory: bool = False


CASES = [
    Case("MLP 64-128-128-10, batch 128", "<= 1.0", 1.0, ("Linear", "ReLU"), (128, 64)),
    Case("MLP 784-256-256-10, batch 128", "<= 1.0", 1.0, ("Linear", "ReLU"), (128, 784)),
    Case("CNN 2x(conv3x3, ReLU, maxpool2) + linear, batch 64 of 1x28x28",
         "<= 4.0, then 2.5", 4.0, ("Conv2d", "MaxPool2d", "ReLU", "Flatten", "Linear"),
         (64, 1, 28, 28), memory=True),
    Case("LSTM 32->128, 50 steps, batch 64, last step -> linear",
         "<= 2.5, then 1.5", 2.5, ("LSTM", "Linear"), (64, 50, 32), memory=True),
]


# -- the models, built the same way on both sides --------------------------------------
def build_dlcore(case: Case):
    if case.name.startswith("MLP"):
        d_in, h1, h2 = (64, 128, 128) if case.x_shape[1] == 64 else (784, 256, 256)
        return nn.Sequential(nn.Linear(d_in, h1), nn.ReLU(), nn.Linear(h1, h2), nn.ReLU(),
                             nn.Linear(h2, case.n_classes))
    if case.name.startswith("CNN"):
        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, case.n_classes))
    return nn.LastStep(nn.LSTM(32, 128, batch_first=True), nn.Linear(128, case.n_classes))


def build_torch(case: Case, state: dict):
    import torch
    from torch import nn as tnn

    if case.name.startswith("MLP"):
        d_in, h1, h2 = (64, 128, 128) if case.x_shape[1] == 64 else (784, 256, 256)
        model = tnn.Sequential(tnn.Linear(d_in, h1), tnn.ReLU(), tnn.Linear(h1, h2),
                               tnn.ReLU(), tnn.Linear(h2, case.n_classes))
    elif case.name.startswith("CNN"):
        model = tnn.Sequential(
            tnn.Conv2d(1, 16, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Conv2d(16, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Flatten(), tnn.Linear(32 * 7 * 7, case.n_classes))
    else:
        class TorchLastStepLSTM(tnn.Module):
            def __init__(self):
                super().__init__()
                self.recurrent = tnn.LSTM(32, 128, batch_first=True)
                self.head = tnn.Linear(128, case.n_classes)

            def forward(self, x):
                output, _ = self.recurrent(x)
                return self.head(output[:, -1])

        model = TorchLastStepLSTM()
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()})
    return model


def missing_layers(case: Case) -> list[str]:
    return [name for name in case.needs if not hasattr(nn, name)]


def data(case: Case) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(case.x_shape).astype(np.float32)
    y = rng.integers(0, case.n_classes, size=case.x_shape[0])
    return x, y


# -- one training step on each side ------------------------------------------------------
def dlcore_step_fn(model, x: np.ndarray, y: np.ndarray,
                   input_grad: bool = False) -> Callable[[], float]:
    """A training step; ``input_grad=False`` is what ``fit(..., input_grad=False)``
    passes to backward."""
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=LR)

    def step() -> float:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        model.backward(loss_fn.backward(), input_grad=input_grad)
        optimizer.step()
        return loss

    return step


def torch_step_fn(model, x: np.ndarray, y: np.ndarray) -> Callable[[], float]:
    import torch

    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)

    def step() -> float:
        optimizer.zero_grad()
        loss = loss_fn(model(xt), yt)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def timed(step: Callable[[], float], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        step()
    return (time.perf_counter() - start) / repeat


def inner_repeats(step: Callable[[], float]) -> int:
    """Enough steps per timing to last about 50 ms, so the clock's grain does not matter."""
    once = timed(step, 1)
    return max(1, min(200, int(0.05 / max(once, 1e-6))))


# -- peak memory -----------------------------------------------------------------------
def dlcore_peak_tracemalloc(step: Callable[[], float]) -> int:
    """Bytes NumPy and Python allocate at the peak of one step, over what was live before."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak - base


def rss_peak_in_fresh_process(side: str, index: int) -> int | None:
    """Peak resident memory one warmed-up step adds, measured the same way on both sides
    in a fresh interpreter whose malloc returns every large block to the system."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--rss-child", side, str(index)]
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="0")
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True,
                             env=env)
        return int(out.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, ValueError, IndexError):
        return None


def current_rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def rss_child(side: str, index: int) -> None:
    import threading

    case = CASES[index]
    dlcore.manual_seed(0)
    model = build_dlcore(case)
    x, y = data(case)
    if side == "torch":
        import torch

        torch.set_num_threads(blas_threads())
        step = torch_step_fn(build_torch(case, model.state_dict()), x, y)
    else:
        step = dlcore_step_fn(model, x, y)
    step()
    gc.collect()
    base = current_rss()
    peak = base
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, current_rss())
            time.sleep(0.0002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    for _ in range(3):
        step()
    done.set()
    sampler.join()
    print(peak - base)


# -- the machine -----------------------------------------------------------------------
def blas_threads() -> int:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return int(os.environ.get("OPENBLAS_NUM_THREADS", os.cpu_count() or 1))
    counts = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    return max(counts) if counts else 1


def blas_name() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown BLAS"
    for p in threadpool_info():
        if p["user_api"] == "blas":
            return f"{p['internal_api']} {p.get('version') or ''} ({p.get('architecture') or '?'})"
    return "unknown BLAS"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# -- the benchmark ---------------------------------------------------------------------
@dataclass
class Row:
    case: Case
    note: str = ""
    dl_ms: float | None = None
    full_ms: float | None = None
    torch_ms: float | None = None
    ratio: float | None = None
    full_ratio: float | None = None
    spread: str = ""
    noisy: bool = False
    dl_peak: int | None = None
    dl_rss: int | None = None
    torch_rss: int | None = None
    agree: str = ""


def run_case(index: int, rounds: int, have_torch: bool) -> Row:
    case = CASES[index]
    row = Row(case)
    missing = missing_layers(case)
    if missing:
        row.note = f"skipped: dlcore.nn has no {', '.join(missing)} yet"
        return row
    dlcore.manual_seed(0)
    model = build_dlcore(case)
    x, y = data(case)
    dl_step = dlcore_step_fn(model, x, y)
    steps = [("dlcore", dl_step), ("full", dlcore_step_fn(model, x, y, input_grad=True))]
    if have_torch:
        torch_model = build_torch(case, model.state_dict())
        t_step = torch_step_fn(torch_model, x, y)
        row.agree = first_losses_agree(dl_step, t_step)
        steps.append(("torch", t_step))
    for _, step in steps:   # warm up: caches, thread pools, lazy allocations
        for _ in range(3):
            step()
    repeats = {name: inner_repeats(step) for name, step in steps}
    times: dict[str, list[float]] = {name: [] for name, _ in steps}
    ratios, full_ratios = [], []
    for r in range(rounds):
        order = steps if r % 2 == 0 else steps[::-1]   # A B C, then C B A: no side first
        for name, step in order:
            times[name].append(timed(step, repeats[name]))
        if have_torch:
            ratios.append(times["dlcore"][-1] / times["torch"][-1])
            full_ratios.append(times["full"][-1] / times["torch"][-1])
    row.dl_ms = 1e3 * statistics.median(times["dlcore"])
    row.full_ms = 1e3 * statistics.median(times["full"])
    if have_torch:
        row.torch_ms = 1e3 * statistics.median(times["torch"])
        row.ratio = statistics.median(ratios)
        row.full_ratio = statistics.median(full_ratios)
        if len(ratios) >= 4:
            q1, _, q3 = statistics.quantiles(ratios, n=4)
            row.spread = f"{q1:.2f}-{q3:.2f}"
            row.noisy = q3 > 1.5 * q1   # rounds disagree: the machine was busy
    if case.memory:
        row.dl_peak = dlcore_peak_tracemalloc(dl_step)
        row.dl_rss = rss_peak_in_fresh_process("dlcore", index)
        if have_torch:
            row.torch_rss = rss_peak_in_fresh_process("torch", index)
    return row


def first_losses_agree(dl_step, t_step) -> str:
    """Both sides start from the same weights: their first losses must match."""
    a, b = dl_step(), t_step()
    return "yes" if abs(a - b) <= 1e-4 * max(1.0, abs(b)) else f"NO ({a:.6f} vs {b:.6f})"


def mib(n: int | None) -> str:
    return "-" if n is None else f"{n / 2**20:.1f} MiB"


def table(rows: list[Row], have_torch: bool) -> str:
    if have_torch:
        lines = ["| model | dlcore ms/step | PyTorch ms/step | dlcore / PyTorch "
                 "| middle half of rounds | target | met | same first loss "
                 "| full backward / PyTorch |",
                 "| --- | ---: | ---: | ---: | ---: | --- | --- | --- | ---: |"]
    else:
        lines = ["| model | dlcore ms/step | full backward ms/step | note |",
                 "| --- | ---: | ---: | --- |"]
    for row in rows:
        if row.dl_ms is None:
            cells = ([row.case.name, "-", "-", "-", "-", row.case.target, row.note, "-", "-"]
                     if have_torch
                     else [row.case.name, "-", "-", row.note])
        elif have_torch:
            met = ("yes" if row.ratio <= row.case.limit else "NO") + (
                " (noisy: rerun with --threads 1 on a quiet machine)" if row.noisy else "")
            cells = [row.case.name, f"{row.dl_ms:.2f}", f"{row.torch_ms:.2f}",
                     f"{row.ratio:.2f}", row.spread or "-", row.case.target, met, row.agree,
                     f"{row.full_ratio:.2f}"]
        else:
            cells = [row.case.name, f"{row.dl_ms:.2f}", f"{row.full_ms:.2f}",
                     "PyTorch not installed"]
        lines.append("| " + " | ".join(cells) + " |")
    mem = [r for r in rows if r.case.memory and r.dl_ms is not None]
    if mem:
        lines += ["", "| model | dlcore peak, tracemalloc | dlcore peak RSS | "
                      "PyTorch peak RSS |", "| --- | ---: | ---: | ---: |"]
        for row in mem:
            lines.append(f"| {row.case.name} | {mib(row.dl_peak)} | {mib(row.dl_rss)} | "
                         f"{mib(row.torch_rss)} |")
    return "\n".join(lines)


def machine(have_torch: bool, threads: int) -> str:
    import scipy

    parts = [
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M UTC}",
        f"- machine: {cpu_model()}, {os.cpu_count()} logical CPUs, {platform.system()} "
        f"{platform.release()}",
        f"- Python {platform.python_version()}, NumPy {np.__version__} ({blas_name()}, "
        f"{threads} BLAS threads), SciPy {scipy.__version__}, dlcore {dlcore.__version__}",
    ]
    if have_torch:
        import torch

        parts.append(f"- PyTorch {torch.__version__}, torch.set_num_threads({threads}) "
                     f"-> {torch.get_num_threads()} threads")
    else:
        parts.append("- PyTorch: not installed (dlcore times alone)")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    parts.append(f"- load average at start: {load:.2f} (other work on the machine slows "
                 f"both sides; the ratio is the median of interleaved rounds)")
    if threads > 1:
        parts.append(f"- WARNING: {threads} threads per side. NumPy's BLAS threads and "
                     f"PyTorch's OpenMP threads share this process; with {os.cpu_count()} "
                     f"CPUs their idle threads can spin against each other and times grow "
                     f"several-fold. One thread (the default) gives ratios that hold.")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="A/B rounds per model")
    parser.add_argument("--quick", action="store_true", help="5 rounds per model")
    parser.add_argument("--out", type=Path, default=HERE / "speed.md",
                        help="where to write the markdown report ('-' for none)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for both sides (default 1; 0: what NumPy's BLAS "
                             "uses by default). More than one can make two thread pools "
                             "fight in this one process")
    parser.add_argument("--rss-child", nargs=2, metavar=("SIDE", "INDEX"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_child:
        rss_child(args.rss_child[0], int(args.rss_child[1]))
        return 0
    rounds = 5 if args.quick else args.rounds
    have_torch = importlib.util.find_spec("torch") is not None
    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads, user_api="blas")
        os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)   # the memory children too
    threads = blas_threads()
    if have_torch:
        import torch

        torch.set_num_threads(threads)
    command = " ".join(["python", "benchmarks/speed.py", *(argv or sys.argv[1:])])
    header = f"- command: `{command}`\n" + machine(have_torch, threads)
    print(header, flush=True)
    rows = []
    for index, case in enumerate(CASES):
        print(f"... {case.name}", flush=True)
        rows.append(run_case(index, rounds, have_torch))
    body = table(rows, have_torch)
    print(body)
    if str(args.out) != "-":
        notes = [row.case.name + ": " + row.note for row in rows if row.note]
        text = "\n".join([
            "# dlcore speed next to PyTorch CPU",
            "",
            "Written by `python benchmarks/speed.py`. One training step: zero_grad, "
            "forward, cross-entropy, backward, SGD update, float32, both sides from the "
            f"same weights. Median of {rounds} interleaved rounds; the ratio is the "
            "median of the per-round ratios (lower is better for dlcore).",
            "",
            "dlcore's backward is the one `fit(..., input_grad=False)` runs, "
            "`model.backward(g, input_grad=False)`: like PyTorch, whose data does not "
            "require grad, it skips the gradient for the data (the first layer's input "
            "product). The last column times the plain `model.backward(g)` of the lessons "
            "(and of `fit`'s default), which computes that gradient too.",
            "",
            header, "", body, "",
            "Memory of one warmed-up step over what was resident before it. Peak RSS: "
            "sampled every 0.2 ms in a fresh interpreter whose malloc hands large blocks "
            "back to the system, the same way on both sides (a sampler can miss a short "
            "peak). tracemalloc: dlcore's NumPy and Python allocations, exact.",
            *(["", "Skipped:", *[f"- {n}" for n in notes]] if notes else []),
            "",
        ])
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    print(json.dumps({"ratios": {r.case.name: r.ratio for r in rows}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
