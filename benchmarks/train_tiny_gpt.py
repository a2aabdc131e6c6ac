"""Train lesson 13's tiny GPT and, beside it, lesson 12's character LSTM at a similar
parameter count, on Python's documentation (``dlcore.data.python_docs``); write their
weights and loss curves to ``dlcore/data/tiny_gpt.npz``, which the lesson loads.

    python benchmarks/train_tiny_gpt.py            # the shipped file (see the lesson for times)
    python benchmarks/train_tiny_gpt.py --steps 50 --out /tmp/x.npz   # a quick try

Both models see the same random windows (seeded), the same number of steps, the same
optimizer (Adam, cosine-decayed learning rate) and are trained in NumPy by dlcore, each
in its own process (one BLAS thread each), side by side.
"""
from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # see benchmarks/README.md

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import dlcore  # noqa: E402
from dlcore.viz import gpt  # noqa: E402
from dlcore.viz.textgen import CharLSTM  # noqa: E402

GPT_CONFIG = {"context": 64, "d_model": 64, "nhead": 4, "num_layers": 2, "dim_feedforward": 256}
LSTM_CONFIG = {"embed": 32, "hidden": 144}


MODELS = {"gpt": (gpt.TinyGPT, GPT_CONFIG), "lstm": (CharLSTM, LSTM_CONFIG)}


def train_one(name: str, steps: int, batch_size: int, lr: float) -> dict:
    """Train one model from seed 0; its part of the saved file."""
    train_ids, val_ids, vocab = gpt.corpus()
    cls, config = MODELS[name]
    dlcore.manual_seed(0)
    model = cls(len(vocab), **config)
    print(f"{name}: {gpt.count_parameters(model):,} parameters", flush=True)
    history = gpt.train_char_model(model, train_ids, val_ids, steps=steps,
                                   batch_size=batch_size, seq_len=GPT_CONFIG["context"], lr=lr,
                                   eval_every=max(steps // 30, 1), seed=0, progress=True)
    print(f"{name} sample:", gpt.sample(model, vocab, "The ", 200, temperature=0.8, seed=0),
          flush=True)
    return {"config": config, "state": model.state_dict(), "steps": steps,
            "train": np.array(history["train"], np.float32),
            "val_steps": np.array(history["val_steps"]),
            "val": np.array(history["val"], np.float32), "seconds": history["seconds"]}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--out", default=str(gpt.PRETRAINED))
    args = parser.parse_args(argv)
    train_ids, val_ids, vocab = gpt.corpus()
    print(f"corpus: {len(train_ids):,} training and {len(val_ids):,} validation characters, "
          f"{len(vocab)} distinct", flush=True)
    saved = {"vocab": np.array("".join(vocab.chars))}
    with ProcessPoolExecutor(max_workers=len(MODELS)) as pool:
        jobs = {name: pool.submit(train_one, name, args.steps, args.batch_size, args.lr)
                for name in MODELS}
        for name, job in jobs.items():
            saved[name] = job.result()
    dlcore.save(saved, args.out)
    print(f"wrote {args.out} ({Path(args.out).stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
