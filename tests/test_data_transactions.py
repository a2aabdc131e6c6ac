"""dlcore.data.transactions: rare fraud, shifted but overlapping features."""
import numpy as np
import pytest

from dlcore.data.transactions import FEATURES, make_transactions


def test_shapes_rate_and_seed():
    X, y = make_transactions(20000, fraud_rate=0.01, seed=0)
    assert X.shape == (20000, len(FEATURES)) and X.dtype == np.float32 and y.dtype == np.int64
    assert 0.007 < y.mean() < 0.013
    assert np.array_equal(X, make_transactions(20000, fraud_rate=0.01, seed=0)[0])


def test_fraud_differs_on_average_but_overlaps():
    X, y = make_transactions(40000, fraud_rate=0.05, seed=1)
    amount = FEATURES.index("log amount")
    assert X[y == 1, amount].mean() > X[y == 0, amount].mean() + 0.5
    # overlap: many legitimate transactions are larger than the median fraud
    assert np.mean(X[y == 0, amount] > np.median(X[y == 1, amount])) > 0.1
    assert set(np.unique(X[:, FEATURES.index("card not present")])) == {0.0, 1.0}


def test_bad_rate_is_named():
    with pytest.raises(ValueError, match="fraud_rate"):
        make_transactions(10, fraud_rate=1.5)
