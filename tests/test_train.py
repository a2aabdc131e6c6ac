"""dlcore.train: fit, evaluate, History, early stopping, the NaN guard, modes, progress."""
from __future__ import annotations

import numpy as np
import pytest

import dlcore
from dlcore import nn, optim
from dlcore.data import DataLoader, TensorDataset, make_moons
from dlcore.train import (
    EarlyStopping,
    History,
    NonFiniteLossError,
    accuracy,
    clip_grad_norm_,
    evaluate,
    fit,
    predict,
)


def moons_loaders(n=256, seed=0, batch_size=32):
    X, y = make_moons(n, noise=0.1, seed=seed)
    Xv, yv = make_moons(128, noise=0.1, seed=seed + 100)
    return (DataLoader(TensorDataset(X, y), batch_size, shuffle=True, seed=seed),
            DataLoader(TensorDataset(Xv, yv), 64))


def mlp(out=2):
    return nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, out))


class Probe(nn.Module):
    """Records the mode it was called in."""

    def __init__(self):
        super().__init__()
        self.modes = []

    def forward(self, x):
        self.modes.append(self.training)
        return x

    def backward(self, grad_out):
        return grad_out


def test_loss_decreases_and_history_contents():
    train_loader, val_loader = moons_loaders()
    model = mlp()
    history = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.02),
                  train_loader, epochs=15, val_loader=val_loader, progress=False)
    assert isinstance(history, History)
    assert set(history.keys()) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr",
                                   "time"}
    assert history.epochs == list(range(1, 16)) and len(history) == 15
    assert all(len(history[k]) == 15 for k in history.keys())
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["val_accuracy"][-1] > 0.95
    assert history["lr"] == [0.02] * 15
    assert "15 epochs" in repr(history) and not history.stopped_early
    # The last epoch's validation figures are what evaluate says now.
    result = evaluate(model, val_loader, nn.CrossEntropyLoss())
    assert result["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-5)
    assert result["accuracy"] == pytest.approx(history["val_accuracy"][-1])
    with pytest.raises(KeyError, match="val_loss"):
        history["nope"]


def test_same_seeds_same_history():
    runs = []
    for _ in range(2):
        dlcore.manual_seed(3)
        train_loader, _ = moons_loaders()
        model = mlp()
        runs.append(fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
                        train_loader, epochs=3, progress=False)["loss"])
    assert runs[0] == runs[1]


def test_metrics_default_by_loss():
    X = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
    y = X.sum(1, keepdims=True)
    model = nn.Linear(2, 1)
    h = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1),
            DataLoader(TensorDataset(X, y), 16), epochs=3, progress=False)
    assert set(h.keys()) == {"loss", "lr", "time"}
    yb = (X[:, :1] > 0).astype(np.float32)
    h = fit(model, nn.BCEWithLogitsLoss(), optim.SGD(model.parameters(), lr=0.1),
            DataLoader(TensorDataset(X, yb), 16), epochs=2, progress=False,
            metrics={"acc": accuracy, "one": lambda y_hat, y: 1.0})
    assert set(h.keys()) == {"loss", "acc", "one", "lr", "time"} and h["one"] == [1.0, 1.0]


def test_accuracy():
    assert accuracy(np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]]), np.array([0, 1, 1])) \
        == pytest.approx(2 / 3)
    assert accuracy(np.array([[2.0], [-1.0]]), np.array([[1.0], [1.0]])) == 0.5
    assert accuracy(np.array([3.0, -1.0]), np.array([1, 0])) == 1.0


def test_early_stopping_restores_best_weights():
    # Validation labels are the training labels flipped: the better the model
    # fits, the worse validation gets, so the best epoch comes early.
    X, y = make_moons(256, noise=0.1, seed=0)
    train_loader = DataLoader(TensorDataset(X, y), 32, shuffle=True, seed=0)
    val_loader = DataLoader(TensorDataset(X, 1 - y), 256)
    model = mlp()
    stopper = EarlyStopping("val_loss", patience=2)
    h = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.02),
            train_loader, epochs=30, val_loader=val_loader, early_stopping=stopper,
            progress=False)
    assert h.stopped_early and len(h) == h.best_epoch + 2 + 1 < 30
    best = min(h["val_loss"])
    assert h["val_loss"][h.best_epoch - 1] == best
    assert h["val_loss"][-1] > best
    assert evaluate(model, val_loader, nn.CrossEntropyLoss())["loss"] == \
        pytest.approx(best, rel=1e-5)


def test_early_stopping_on_a_metric_and_int_shortcut():
    train_loader, val_loader = moons_loaders()
    assert EarlyStopping("val_accuracy").mode == "max"
    model = mlp()
    h = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.05),
            train_loader, epochs=40, val_loader=val_loader, early_stopping=1,
            progress=False)
    assert h.best_epoch is not None and len(h) <= 40
    with pytest.raises(ValueError, match="val_loader"):
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters()), train_loader,
            early_stopping=EarlyStopping("val_accuracy"), progress=False)


class NanOnCall(nn.MSELoss):
    """MSE that returns NaN on its ``k``-th call (counting from 1)."""

    def __init__(self, k):
        super().__init__()
        self.k, self.calls = k, 0

    def forward(self, y_hat, y):
        self.calls += 1
        loss = super().forward(y_hat, y)
        return float("nan") if self.calls == self.k else loss


def test_nan_guard_names_epoch_and_step():
    X = np.random.default_rng(0).normal(size=(40, 2)).astype(np.float32)
    loader = DataLoader(TensorDataset(X, X[:, :1]), 10)  # 4 steps per epoch
    model = nn.Linear(2, 1)
    with pytest.raises(NonFiniteLossError) as info:
        fit(model, NanOnCall(k=7), optim.SGD(model.parameters(), lr=0.1), loader,
            epochs=5, progress=False)
    err = info.value
    assert isinstance(err, FloatingPointError)
    assert (err.epoch, err.step) == (2, 3)
    message = str(err)
    assert "epoch 2, step 3 of 4" in message and "nan" in message
    assert "learning rate" in message and "lr=0.1" in message and "initialis" in message
    assert all(np.all(np.isfinite(p.data)) for p in model.parameters())


def test_nan_guard_on_divergence():
    X = np.linspace(-1, 1, 64, dtype=np.float32).reshape(-1, 1) * 100
    model = nn.Linear(1, 1)
    with pytest.raises(NonFiniteLossError, match=r"epoch \d+, step \d+"), \
            np.errstate(over="ignore", invalid="ignore"):
        fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=10.0),
            DataLoader(TensorDataset(X, 3 * X), 8), epochs=50, progress=False)


def test_modes_during_and_after():
    probe = Probe()
    model = nn.Sequential(probe, nn.Linear(2, 2))
    train_loader, val_loader = moons_loaders(n=64)
    model.eval()
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train_loader,
        epochs=1, val_loader=val_loader, progress=False)
    assert model.training is False and probe.training is False  # restored
    n_train = len(train_loader)
    assert probe.modes[:n_train] == [True] * n_train  # training batches
    assert probe.modes[n_train:] == [False] * len(val_loader)  # validation
    model.train()
    probe.modes.clear()
    evaluate(model, val_loader)
    predict(model, val_loader)
    assert set(probe.modes) == {False} and model.training and probe.training


def test_mode_restored_after_an_error():
    model = nn.Linear(2, 1)
    model.eval()
    X = np.zeros((8, 2), dtype=np.float32)
    with pytest.raises(NonFiniteLossError):
        fit(model, NanOnCall(k=1), optim.SGD(model.parameters()),
            DataLoader(TensorDataset(X, X[:, :1]), 4), progress=False)
    assert model.training is False


def test_progress_false_prints_nothing_and_true_shows_a_bar(capsys):
    train_loader, _ = moons_loaders(n=64)
    model = mlp()
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train_loader,
        epochs=2, progress=False)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train_loader,
        epochs=2, progress=True)
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "loss" in err and "accuracy" in err


def test_schedulers_per_epoch_and_per_batch():
    train_loader, _ = moons_loaders(n=64, batch_size=16)
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    step = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    h = fit(model, nn.CrossEntropyLoss(), opt, train_loader, epochs=3, scheduler=step,
            progress=False)
    assert h["lr"] == pytest.approx([0.1, 0.05, 0.025])
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    cycle = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, epochs=3,
                                          steps_per_epoch=len(train_loader))
    fit(model, nn.CrossEntropyLoss(), opt, train_loader, epochs=3, scheduler=cycle,
        progress=False)
    assert cycle.last_epoch == 3 * len(train_loader)
    with pytest.raises(ValueError, match="scheduler_interval"):
        fit(model, nn.CrossEntropyLoss(), opt, train_loader, scheduler=step,
            scheduler_interval="hourly", progress=False)


def test_callbacks_can_stop():
    train_loader, _ = moons_loaders(n=64)
    model = mlp()
    seen = []

    def stop_at_three(history):
        seen.append(len(history))
        return len(history) == 3

    h = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
            train_loader, epochs=10, callbacks=[stop_at_three], progress=False)
    assert len(h) == 3 and seen == [1, 2, 3]


def test_evaluate_and_predict_on_arrays():
    X, y = make_moons(100, seed=1)
    model = mlp()
    result = evaluate(model, (X, y), nn.CrossEntropyLoss())
    assert set(result) == {"loss", "accuracy"} and 0 <= result["accuracy"] <= 1
    assert set(evaluate(model, (X, y))) == {"accuracy"}  # integer labels: accuracy
    assert evaluate(model, (X, X)) == {}  # float targets, no loss: nothing to report
    out = predict(model, X, batch_size=30)
    assert out.shape == (100, 2) and np.allclose(out, model(X))


def test_clip_grad_norm():
    model = nn.Linear(3, 2)
    for p in model.parameters():
        p.grad[...] = 3.0
    norm = clip_grad_norm_(model.parameters(), 1.0)
    assert norm == pytest.approx(3.0 * np.sqrt(8))
    total = np.sqrt(sum(float((p.grad ** 2).sum()) for p in model.parameters()))
    assert total == pytest.approx(1.0, rel=1e-4)


def test_bad_arguments():
    train_loader, _ = moons_loaders(n=32)
    model = mlp()
    with pytest.raises(ValueError, match="epochs"):
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters()), train_loader,
            epochs=-1, progress=False)
    loader = DataLoader(TensorDataset(np.zeros((4, 2), dtype=np.float32)), 2)
    with pytest.raises(ValueError, match=r"batches \(X, y\)"):
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters()), loader,
            progress=False)


def test_history_plot_draws_learning_curves():
    train_loader, val_loader = moons_loaders(n=64)
    model = mlp()
    h = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01),
            train_loader, epochs=4, val_loader=val_loader, progress=False)
    fig = h.plot()
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["loss", "accuracy"]
    loss_lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in loss_lines] == ["train", "validation"]
    assert list(loss_lines[0].get_ydata()) == h["loss"]
    assert [ax.get_title() for ax in h.plot(keys=["loss"]).axes] == ["loss"]
    with pytest.raises(ValueError, match="no curves"):
        History().plot()
    from dlcore.viz.curves import compare_curves
    fig = compare_curves({"a": h, "b": h}, key="val_loss")
    assert len(fig.axes[0].get_lines()) == 2


class BackwardFlags(nn.Sequential):
    """A Sequential that records the input_grad each backward call was given."""

    skips_input_grad = True       # its own backward still takes input_grad

    def backward(self, grad_out, input_grad=True):
        self.flags = [*getattr(self, "flags", []), input_grad]
        return super().backward(grad_out, input_grad=input_grad)


class LearnersModel(nn.Module):
    """A learner's model: its backward takes grad_out and nothing else."""

    def __init__(self):
        super().__init__()
        self.body = mlp()

    def forward(self, x):
        return self.body(x)

    def backward(self, grad_out):
        return self.body.backward(grad_out)


@pytest.mark.parametrize("input_grad", [True, False])
def test_fit_calls_backward_plainly_unless_told_to_skip_the_data_gradient(input_grad):
    train_loader, _ = moons_loaders(n=64, batch_size=16)
    model = BackwardFlags(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train_loader,
        epochs=2, progress=False, input_grad=input_grad)
    assert model.flags == [input_grad] * 8


def test_fit_trains_a_model_whose_backward_takes_only_the_gradient():
    train_loader, _ = moons_loaders()
    model = LearnersModel()
    history = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.02),
                  train_loader, epochs=5, progress=False)
    assert history["loss"][-1] < history["loss"][0]


def test_skipping_the_data_gradient_changes_no_weight():
    """input_grad=False is a shortcut, not another algorithm: the same weights after."""
    trained = []
    for input_grad in (True, False):
        train_loader, _ = moons_loaders(n=128)            # the same batches both times
        dlcore.manual_seed(3)
        model = mlp()
        fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.02),
            train_loader, epochs=3, progress=False, input_grad=input_grad)
        trained.append(model.state_dict())
    for name, value in trained[0].items():
        np.testing.assert_allclose(trained[1][name], value, rtol=1e-6, atol=1e-7, err_msg=name)
