"""Generated card transactions with rare fraud: an imbalanced classification task.

About 1 transaction in 100 is fraudulent (``y == 1``). A model that calls every
transaction legitimate is 99% accurate and useless: what matters are precision
(how many alarms are fraud) and recall (how much fraud is caught).

    X, y = make_transactions(n=20000, fraud_rate=0.01, seed=0)   # X (n, 6), y (n,)
    FEATURES                                                     # the columns' names

The fraud is drawn from distributions that overlap the legitimate ones (large
amounts at night, far from home, card not present, in quick succession), so no
threshold separates them perfectly.
"""
from __future__ import annotations

import numpy as np

FEATURES = ("log amount", "hour of day", "log km from home", "card not present",
            "log minutes since last", "merchant risk")


def make_transactions(n: int = 20000, fraud_rate: float = 0.01, seed: int = 0
                      ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` transactions, each fraudulent with probability ``fraud_rate``.

    Returns X (n, 6) float32, the columns of ``FEATURES`` (not standardised), and
    y (n,) int64: 1 fraud, 0 legitimate.
    """
    if not 0 < fraud_rate < 1:
        raise ValueError(f"make_transactions: fraud_rate must be in (0, 1), got {fraud_rate}")
    g = np.random.default_rng(seed)
    fraud = g.random(n) < fraud_rate
    k = int(fraud.sum())

    def pick(legit, bad):
        out = np.empty(n)
        out[~fraud], out[fraud] = legit(n - k), bad(k)
        return out

    amount = pick(lambda m: g.normal(3.3, 1.0, m), lambda m: g.normal(4.3, 1.2, m))
    hour = pick(lambda m: (g.normal(14, 4, m)) % 24, lambda m: (g.normal(2, 5, m)) % 24)
    distance = pick(lambda m: g.normal(1.5, 1.0, m), lambda m: g.normal(3.0, 1.6, m))
    not_present = pick(lambda m: g.random(m) < 0.25, lambda m: g.random(m) < 0.7)
    since_last = pick(lambda m: g.normal(6.0, 1.5, m), lambda m: g.normal(4.0, 2.0, m))
    risk = pick(lambda m: g.beta(2, 6, m), lambda m: g.beta(3, 4, m))
    X = np.stack([amount, hour, distance, not_present, since_last, risk], axis=1)
    return X.astype(np.float32), fraud.astype(np.int64)
