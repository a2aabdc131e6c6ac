"""The playground trains real dlcore models: losses fall, capacity matters,
runs repeat, the learning-rate sweep finds a U shape."""
from __future__ import annotations

from dataclasses import replace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcore import nn, optim  # noqa: E402
from dlcore.viz import playground as pg  # noqa: E402

FAST = pg.PlaygroundConfig(epochs=30)


def test_training_reduces_the_loss_and_classifies_the_moons():
    run = pg.train_playground(FAST)
    assert run.epochs_done == 30
    assert all(len(v) == 31 for v in run.curves.values())
    assert run.curves["loss"][-1] < 0.4 * run.curves["loss"][0]
    assert run.curves["val_accuracy"][-1] >= 0.85
    assert run.diverged_at is None


def test_a_linear_model_underfits_the_circles_and_a_hidden_layer_does_not():
    circles = replace(FAST, dataset=pg.DATASETS["circles"], noise=0.1, epochs=60)
    linear = pg.train_playground(replace(circles, hidden_layers=0))
    hidden = pg.train_playground(replace(circles, hidden_layers=1, width=8))
    assert len(linear.model) == 1
    assert linear.curves["val_accuracy"][-1] < 0.75
    assert hidden.curves["val_accuracy"][-1] > 0.9


def test_runs_repeat_exactly_with_the_same_seed():
    a = pg.train_playground(replace(FAST, epochs=5))
    b = pg.train_playground(replace(FAST, epochs=5))
    assert a.curves == b.curves
    c = pg.train_playground(replace(FAST, epochs=5, seed=1))
    assert a.curves != c.curves


def test_model_follows_the_config():
    config = replace(FAST, hidden_layers=3, width=5, activation=nn.ReLU)
    model = pg.build_model(config, num_classes=3)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "ReLU"] * 3 + ["Linear"]
    assert model[0].weight.shape == (5, 2) and model[-1].weight.shape == (3, 5)


def test_data_is_split_seventy_thirty_and_stratified():
    X_train, y_train, X_val, y_val = pg.make_data(FAST)
    assert len(X_train) == 210 and len(X_val) == 90
    assert abs(y_val.mean() - 0.5) < 0.05
    spirals = pg.make_data(replace(FAST, dataset=pg.DATASETS["spirals (3 arms)"]))
    assert set(spirals[1]) == {0, 1, 2}


def test_snapshots_call_back_with_growing_curves():
    lengths = []
    pg.train_playground(replace(FAST, epochs=10), snapshots=4,
                        on_snapshot=lambda run: lengths.append(run.epochs_done))
    assert lengths == [2, 5, 8, 10]


def test_a_huge_learning_rate_diverges_and_is_reported():
    config = replace(FAST, epochs=5, lr=1000.0, optimizer=optim.SGD, activation=nn.ReLU,
                     hidden_layers=3, width=16)
    run = pg.train_playground(config)
    assert run.diverged_at == 1
    fig = pg.draw_playground(run)
    assert "diverged at epoch 1" in fig.axes[1].get_title()
    plt.close(fig)


def test_lr_sweep_has_a_u_shape():
    lrs = np.array([1e-4, 1e-2, 3.0])
    sweep = pg.lr_sweep(replace(FAST, epochs=15), lrs)
    loss = sweep["loss"]
    assert loss.shape == (3,)
    assert loss[1] < loss[0] and loss[1] < loss[2]
    fig = pg.draw_lr_sweep(sweep, FAST)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "best: lr = 0.01" in labels
    plt.close(fig)


def test_draw_playground_shows_the_run():
    run = pg.train_playground(replace(FAST, epochs=3))
    fig = pg.draw_playground(run)
    assert tuple(fig.get_size_inches()) == (14, 4.6)
    assert fig.axes[1].get_title().startswith("epoch 3: train")
    line = fig.axes[2].get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), run.curves["loss"])
    plt.close(fig)


def test_widgets_build():
    pytest.importorskip("ipywidgets")
    box = pg.playground(replace(FAST, epochs=10))
    noise = box.children[0].children[1]
    noise.value = 0.3
    box = pg.lr_sweep_widget(replace(FAST, epochs=5), num_lrs=3)
    assert box.children


def test_a_look_before_training_keeps_the_planned_epochs():
    run = pg.train_playground(FAST, epochs=0)
    assert run.epochs_done == 0 and run.config.epochs == 30
    fig = pg.draw_playground(run)
    assert fig.axes[2].get_xlim() == (0.0, 30.0)
    assert any("not trained yet" in t.get_text() for t in fig.axes[2].texts)
    plt.close(fig)


def test_lesson_pictures_name_their_parts():
    fig = pg.training_loop_figure()
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    for stage in ("mini-batch", "forward pass", "loss", "backward pass", "update", "epoch"):
        assert stage in texts
    plt.close(fig)
    fig = pg.splits_figure({"train": 70, "validation": 10, "test": 20})
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "70 (70%)" in texts and "test\n20 (20%)" in texts
    plt.close(fig)
