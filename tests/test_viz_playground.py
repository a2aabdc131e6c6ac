"""The playground trains real dlcore models: losses fall, capacity matters, runs
repeat, the learning-rate sweep finds a U shape. The live playground: its set-up
string, features, regularisation, one epoch, the arrays of a frame, and the widget
(driven synchronously: Player.play without an event loop) streaming them."""
from __future__ import annotations

from dataclasses import replace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlcore import nn, optim  # noqa: E402
from dlcore.viz import playground as pg  # noqa: E402
from dlcore.viz import widgets  # noqa: E402

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
    assert fig.parts.best_text.get_text() == "best: lr = 0.01"
    np.testing.assert_array_equal(fig.parts.best.get_xdata(), [1e-2])
    plt.close(fig)


def test_a_sweep_run_epoch_by_epoch_equals_one_training_per_learning_rate():
    config = replace(FAST, epochs=4)
    lrs = np.array([1e-3, 0.1])
    sweep = pg.LrSweep(config, lrs)
    steps = 0
    while sweep.step():
        steps += 1
        if sweep.training is not None:      # the run in progress says where it is
            assert f"epoch {sweep.training.epochs_done} of 4" in sweep.describe()
    assert steps + 1 == 2 * 4 and sweep.finished and sweep.training is None
    for i, lr in enumerate(lrs):
        run = pg.train_playground(replace(config, lr=float(lr)))   # 4 epochs in one call
        assert sweep.result["loss"][i] == run.curves["loss"][-1]
        assert sweep.result["val_loss"][i] == run.curves["val_loss"][-1]


def test_draw_playground_shows_the_run():
    run = pg.train_playground(replace(FAST, epochs=3))
    fig = pg.draw_playground(run)
    assert tuple(fig.get_size_inches()) == (10, 4.2)      # the "wide" size: 900 px
    assert fig.axes[1].get_title().startswith("epoch 3: train")
    line = fig.axes[2].get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), run.curves["loss"])
    plt.close(fig)


def test_the_sweep_widget_trains_epoch_by_epoch_and_draws_each_point_as_it_finishes():
    pytest.importorskip("ipywidgets")
    config = replace(FAST, epochs=3)
    box = pg.lr_sweep_widget(config, num_lrs=3)
    parts = box.view.fig.parts
    assert "0 of 3" in box.player.status.value          # nothing trained yet
    assert parts.hint.get_visible()                     # ... and it says how to start
    before = widgets.image_array(box)
    shown = []                                           # per frame: points, point in training
    box.player.frame_fn = (lambda frame=box.player.frame_fn: (
        frame(), shown.append((len(parts.loss.get_xdata()), len(parts.current.get_xdata())))))
    box.player.play()
    assert len(shown) == 3 * 3                           # a frame after every epoch
    assert shown[0] == (0, 1)            # the first frame: the first training, moving
    finished = [n for n, _ in shown]
    assert finished == sorted(finished) and finished[-1] == 3
    assert all(b - a <= 1 for a, b in zip(finished, finished[1:], strict=False))
    assert shown[-1] == (3, 0) and not parts.hint.get_visible()
    assert box.player.done and "3 of 3" in box.player.status.value
    assert not any(c.disabled for c in box.controls.values())
    assert not np.array_equal(before, widgets.image_array(box))
    expected = pg.lr_sweep(config, np.logspace(-4, 1, 3))
    np.testing.assert_array_equal(parts.loss.get_ydata(), expected["loss"])


def test_a_change_of_setting_does_not_train_and_going_back_is_instant(monkeypatch):
    pytest.importorskip("ipywidgets")
    box = pg.lr_sweep_widget(replace(FAST, epochs=3), num_lrs=3)
    box.player.play()
    trainings = []
    real = pg.start_run
    monkeypatch.setattr(pg, "start_run", lambda config: trainings.append(config)
                        or real(config))
    ax = box.view.fig.parts.ax
    epochs = widgets.find_control(box, "epochs per learning rate")
    for control, value, title in [
            (epochs, 5, "moons · Adam · 5 epochs, batch 16 · 0 of 3 learning rates"),
            (widgets.find_control(box, "optimizer"), pg.optim.SGD, "moons · SGD · 5 epochs"),
            (widgets.find_control(box, "data set"), pg.DATASETS["xor"], "xor · SGD · 5 epochs")]:
        widgets.TIMINGS.clear()
        shown = widgets.image_array(box)
        control.value = value
        assert title in ax.get_title() and not trainings            # a new axis, no training
        assert not box.player.done and not box.player.play_button.disabled
        assert box.view.fig.parts.hint.get_visible()
        assert not np.array_equal(shown, widgets.image_array(box))
        assert len(widgets.TIMINGS) == 1                             # one redraw ...
        t = widgets.TIMINGS[-1]                                      # ... and a fast one
        assert t["compute_ms"] + t["draw_ms"] + t["encode_ms"] < 500
    widgets.find_control(box, "data set").value = pg.DATASETS["moons"]
    widgets.find_control(box, "optimizer").value = pg.optim.Adam
    epochs.value = 3                                     # back to the sweep already run
    assert ax.get_title().endswith("3 epochs, batch 16") and not trainings
    assert box.player.done and box.player.play_button.disabled
    assert len(box.view.fig.parts.loss.get_xdata()) == 3
    box.player.reset()                                   # Reset: this setting from the start
    assert "0 of 3" in box.player.status.value and not box.player.done


def test_a_live_sweep_frame_redraws_only_the_point_in_training():
    pytest.importorskip("ipywidgets")
    box = pg.lr_sweep_widget(replace(FAST, epochs=6), num_lrs=3)
    for _ in range(7):        # lr 1e-4 (6 epochs, then its point), lr 0.032's first epoch
        box.player.step()
    parts = box.view.fig.parts
    drawn = []
    axis_draw = parts.ax.yaxis.draw
    parts.ax.yaxis.draw = lambda renderer: (drawn.append("y axis"), axis_draw(renderer))
    widgets.TIMINGS.clear()
    before = parts.current.get_ydata().copy()
    shown = widgets.image_array(box)
    box.player.step()
    assert parts.current.get_ydata()[0] != before[0]                # the loss moved ...
    assert not np.array_equal(shown, widgets.image_array(box))      # ... on the picture
    assert "lr 0.032: epoch 2 of 6" in box.player.status.value
    assert drawn == []                             # only the marker: no axis drawn again
    t = widgets.TIMINGS[-1]
    assert t["control"] == "sweep" and t["draw_ms"] + t["encode_ms"] < 250


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


# -- the live playground -------------------------------------------------------------

EXAMPLE = ("data=xor;features=x1,x2;hidden=4,2;act=tanh;lr=0.03;reg=l2:0.001;noise=10;"
           "ratio=50;hide=features,reg")


def test_setup_string_parses_and_round_trips():
    s = pg.parse_setup(EXAMPLE)
    assert (s.data, s.features, s.hidden, s.act, s.lr) == ("xor", ("x1", "x2"), (4, 2),
                                                           "tanh", 0.03)
    assert (s.reg, s.reg_rate, s.noise, s.ratio, s.hide) == ("l2", 0.001, 10, 50,
                                                             ("features", "reg"))
    assert s.batch == 10 and s.opt == "sgd"                 # left out: the defaults
    assert pg.parse_setup(pg.format_setup(s)) == s
    assert pg.format_setup(pg.parse_setup(pg.format_setup(s))) == pg.format_setup(s)
    odd = pg.Setup(data="spiral", features=("sin(x1)", "x1*x2"), hidden=(), act="relu",
                   lr=0.0123456789, reg="l1", reg_rate=3e-4, noise=35, ratio=70, batch=3,
                   opt="adam", epochs=50, seed=7)
    assert pg.parse_setup(str(odd)) == odd
    assert "hidden=none" in str(odd) and "opt=adam" in str(odd) and "seed=7" in str(odd)
    # Spaces, line breaks, aliases and the order of keys do not matter.
    assert pg.parse_setup(" hidden = 3 ;\n features = sin x1, x1x2 ; data=moons ") == \
        pg.Setup(data="moons", features=("sin(x1)", "x1*x2"), hidden=(3,))
    assert pg.parse_setup("") == pg.Setup()


@pytest.mark.parametrize("text, names", [
    ("data=blobs", "data=blobs: unknown data set"),
    ("lr=fast", "lr=fast: not a number"),
    ("lr=0", "lr=0.0: the learning rate must be above 0"),
    ("hidden=4,x", "hidden=x: not a whole number"),
    ("hidden=4,9", "hidden=9: each layer has 1 to 8 units"),
    ("hidden=1,1,1,1,1,1,1", "at most 6 hidden layers"),
    ("features=x3", "features=x3: unknown feature"),
    ("features=", "choose at least one input feature"),
    ("reg=l2", "reg=l2: give the rate too"),
    ("reg=l3:0.1", "reg=l3: write none, l1:RATE or l2:RATE"),
    ("noise=80", "noise=80: noise is a percentage from 0 to 50"),
    ("ratio=5", "ratio=5"),
    ("act=swish", "act=swish: unknown activation"),
    ("hide=answer", "hide=answer: cannot hide that"),
    ("lr", "'lr': expected key=value"),
    ("speed=3", "unknown key 'speed'"),
    ("lr=0.1;lr=0.2", "lr: given twice"),
])
def test_setup_errors_name_what_is_wrong(text, names):
    with pytest.raises(pg.SetupError, match=None) as err:
        pg.parse_setup(text)
    assert names in str(err.value)


def test_features_are_computed_from_the_coordinates():
    X = np.array([[1.0, 2.0], [-3.0, 0.5]], dtype=np.float32)
    F = pg.feature_matrix(X, list(pg.FEATURES))
    expected = [[1, 2, 1, 4, 2, np.sin(1), np.sin(2)],
                [-3, 0.5, 9, 0.25, -1.5, np.sin(-3), np.sin(0.5)]]
    np.testing.assert_allclose(F, expected, rtol=1e-6)
    assert F.dtype == np.float32
    model = pg.build_network(pg.parse_setup("features=x1,sin(x2),x1*x2;hidden=5,3"))
    shapes = [m.weight.shape for m in model if isinstance(m, nn.Linear)]
    assert shapes == [(5, 3), (3, 5), (2, 3)]
    assert [type(m).__name__ for m in model] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert len(pg.build_network(pg.parse_setup("hidden=none"))) == 1   # logistic regression


def test_points_split_by_the_ratio_and_noise_moves_them():
    s = pg.parse_setup("data=circle;ratio=30")
    X_train, y_train, X_test, y_test = pg.make_points(s)
    assert len(X_train) == 0.3 * pg.NUM_POINTS and len(X_test) == 0.7 * pg.NUM_POINTS
    assert set(np.unique(y_train)) == {0, 1} and X_train.dtype == np.float32
    radius = np.hypot(*X_train.T)
    assert radius[y_train == 0].max() <= 2.5 < 3.5 <= radius[y_train == 1].min()
    noisy = pg.make_points(replace(s, noise=50))[0]
    assert np.abs(noisy - X_train).mean() > 0.5
    assert np.abs(X_train).max() <= pg.EXTENT


@pytest.mark.parametrize("kind", ["l1", "l2"])
def test_regularisation_adds_the_gradient_of_its_penalty(kind):
    model = pg.build_network(pg.parse_setup("hidden=3"))
    for p in model.parameters():
        p.grad[...] = 0
    rate = 0.01
    pg.add_regularization_grad(model, kind, rate)
    w, b = model[0].weight, model[0].bias
    expected = rate * (np.sign(w.data) if kind == "l1" else w.data)
    np.testing.assert_allclose(w.grad, expected, rtol=1e-6)
    assert not b.grad.any()                                 # biases are not penalised
    # It is the gradient of regularization_penalty (a finite difference agrees).
    eps = 1e-3
    before = pg.regularization_penalty(model, kind, rate)
    w.data[0, 0] += eps
    after = pg.regularization_penalty(model, kind, rate)
    assert after - before == pytest.approx(eps * w.grad[0, 0], rel=1e-2)
    w.data[0, 0] -= eps
    # none adds nothing
    grads = [p.grad.copy() for p in model.parameters()]
    pg.add_regularization_grad(model, "none", rate)
    assert all(np.array_equal(g, p.grad) for g, p in zip(grads, model.parameters(),
                                                           strict=True))


def test_l2_shrinks_the_weights_of_a_trained_network():
    plain = pg.Trainer("data=xor;hidden=4;lr=0.1;epochs=30")
    strong = pg.Trainer("data=xor;hidden=4;lr=0.1;reg=l2:0.1;epochs=30")
    while plain.step() | strong.step():
        pass
    size = [sum(float((w.data ** 2).sum()) for w in pg._weights(t.model))
            for t in (plain, strong)]
    assert size[1] < 0.5 * size[0]


def test_a_few_epochs_lower_the_loss_and_features_can_make_it_easy():
    t = pg.Trainer("data=circle;features=x1,x2;hidden=4,2;lr=0.1")
    first = t.history["train"][0]
    for _ in range(20):
        assert t.step()
    assert t.epoch == 20 and len(t.history["train"]) == 21
    assert t.history["train"][-1] < 0.5 * first
    # With x1^2 and x2^2 the circle is linearly separable: no hidden layer needed.
    squares = pg.Trainer("data=circle;features=x1^2,x2^2;hidden=none;lr=0.03")
    for _ in range(30):
        squares.step()
    assert squares.accuracy()[1] > 0.95
    plain = pg.Trainer("data=circle;features=x1,x2;hidden=none;lr=0.03")
    for _ in range(30):
        plain.step()
    assert plain.accuracy()[1] < 0.75


def test_training_stops_at_the_last_epoch_and_on_divergence():
    t = pg.Trainer("epochs=3")
    assert [t.step(), t.step(), t.step(), t.step()] == [True, True, False, False]
    assert t.epoch == 3
    wild = pg.Trainer("data=spiral;features=x1^2,x2^2,x1*x2;hidden=8;act=linear;lr=3")
    for _ in range(50):
        if not wild.step():
            break
    assert wild.diverged and wild.epoch < 50
    assert "diverged" in pg.frame_state(wild)["note"]


def test_frame_arrays_have_the_promised_shapes():
    t = pg.Trainer("features=x1,x2,sin(x1);hidden=5,3")
    t.step()
    f = t.frame()
    assert f["boundary"].shape == (pg.GRID, pg.GRID) and f["boundary"].dtype == np.uint8
    assert [u.shape for u in f["units"]] == [(3, pg.THUMB, pg.THUMB), (5, pg.THUMB, pg.THUMB),
                                             (3, pg.THUMB, pg.THUMB)]
    assert all(u.dtype == np.uint8 for u in f["units"])
    assert [w.shape for w in f["weights"]] == [(5, 3), (3, 5), (2, 3)]
    assert f["epoch"] == 1 and f["train_loss"] == t.history["train"][-1]
    # Row 0 is the top of the plane: the x2 feature is largest there.
    x2 = f["units"][0][1]
    assert x2[0].min() == 255 and x2[-1].max() < 10 and (np.diff(x2[:, 0].astype(int)) < 0).all()
    # The boundary is the model's probability of class 1 at the grid's points.
    grid = pg.plane_grid()
    p1 = nn.functional.softmax(t.model(pg.feature_matrix(grid, t.setup.features)), dim=-1)[:, 1]
    np.testing.assert_allclose(f["boundary"].ravel(), np.rint(p1 * 255), atol=1)
    # The first hidden layer's thumbnail is its output at every 4th grid point.
    h1 = np.tanh(pg.feature_matrix(grid, t.setup.features) @ t.model[0].weight.data.T
                 + t.model[0].bias.data).reshape(pg.GRID, pg.GRID, 5)[::4, ::4]
    np.testing.assert_allclose(f["units"][1], np.rint((np.moveaxis(h1, -1, 0) + 1) / 2 * 255),
                               atol=1)


def test_a_frame_is_cheap_to_compute():
    t = pg.Trainer("features=x1,x2,x1^2,x2^2,x1*x2,sin(x1),sin(x2);hidden=8,8,8,8,8,8")
    import time
    start = time.perf_counter()
    for _ in range(5):
        t.step()
        pg.frame_state(t, t.points_version)
    assert (time.perf_counter() - start) / 5 < 0.5          # an epoch and a frame; CI is loaded


def test_added_points_join_the_training_set():
    t = pg.Trainer("data=gauss")
    n = len(t.X_train)
    t.add_point(1.0, -2.0, 0)
    t.add_point(99.0, 0.0, 1)                                # clipped to the plane
    assert len(t.X_train) == n + 2 and t.F_train.shape == (n + 2, 2)
    np.testing.assert_allclose(t.X_train[-1], [pg.EXTENT, 0.0])
    assert list(t.y_train[-2:]) == [0, 1]
    t.clear_added()
    assert len(t.X_train) == n


# -- the live widget -----------------------------------------------------------------

@pytest.fixture
def live():
    pytest.importorskip("anywidget")
    return pg.playground(EXAMPLE)


def test_the_canvas_streams_frames_as_training_plays(live):
    canvas, player = live.canvas, live.player
    assert canvas.frame == 1 and canvas.epoch == 0
    assert len(canvas.boundary) == pg.GRID * pg.GRID
    assert canvas.layer_sizes == [2, 4, 2]
    assert len(canvas.units) == 8 * pg.THUMB * pg.THUMB
    assert len(canvas.train_points) == 200 and len(canvas.test_points) == 200
    boundary, weights = canvas.boundary, canvas.weights
    player.play(max_steps=5)                                # no event loop: synchronous
    assert canvas.frame == 6 and canvas.epoch == 5
    assert canvas.boundary != boundary and canvas.weights != weights
    assert canvas.loss_epochs == [0, 1, 2, 3, 4, 5]
    assert canvas.train_loss[-1] < canvas.train_loss[0]
    assert "epoch 5" in player.status.value
    player.step()
    assert canvas.epoch == 6
    player.reset()
    assert canvas.epoch == 0 and canvas.train_loss == canvas.train_loss[:1]
    assert canvas.boundary == boundary                      # the same start


def test_the_widget_shows_its_setup_string_and_hides_what_it_says(live):
    assert live.setup_text.value == pg.format_setup(pg.parse_setup(EXAMPLE))
    assert live.groups["features"].layout.display == "none"
    assert live.groups["reg"].layout.display == "none"
    shown = [name for name, box in live.groups.items() if box.layout.display != "none"]
    assert shown == [n for n in pg.HIDEABLE if n not in ("features", "reg")]
    # A control's change shows in the string; training goes on for a live change...
    live.player.play(max_steps=3)
    widgets.find_control(live, "learning rate").value = 0.1
    assert "lr=0.1;" in live.setup_text.value and live.canvas.epoch == 3
    widgets.find_control(live, "batch size").value = 5
    assert "batch=5" in live.setup_text.value and live.trainer.setup.batch == 5
    # ...and starts again for a new network or new data.
    live.features["x1^2"].value = True
    assert "features=x1,x2,x1^2;" in live.setup_text.value
    assert live.canvas.epoch == 0 and live.canvas.layer_sizes == [3, 4, 2]
    widgets.find_control(live, "hidden layers").value = 3
    assert "hidden=4,2,2;" in live.setup_text.value
    widgets.find_control(live, "data set").value = "spiral"
    assert live.trainer.setup.data == "spiral"


def test_a_pasted_setup_string_moves_the_controls_or_says_what_is_wrong(live):
    live.setup_text.value = "data=moons;features=sin(x1),x2;hidden=6;act=relu;lr=0.3"
    c = live.controls
    assert (c["data"].value, c["act"].value, c["lr"].value) == ("moons", "relu", 0.3)
    assert c["layers"].value == 1 and c["units"].value == "6"
    assert [n for n, b in live.features.items() if b.value] == ["x2", "sin(x1)"]
    assert live.groups["features"].layout.display is None     # hide= left out: all shown
    assert live.canvas.layer_sizes == [2, 6]
    assert live.setup_text.value == pg.format_setup(live.trainer.setup)
    before = live.trainer.setup
    live.setup_text.value = "data=moons;hidden=6,99"
    assert "hidden=99: each layer has 1 to 8 units" in live.message.value
    assert live.trainer.setup == before
    widgets.find_control(live, "units per layer").value = "3,5,2"
    assert live.controls["layers"].value == 3 and live.canvas.layer_sizes == [2, 3, 5, 2]
    widgets.find_control(live, "units per layer").value = "3,x"
    assert "not a list of whole numbers" in live.message.value


def test_a_click_on_the_picture_adds_a_point_of_the_chosen_class(live):
    canvas = live.canvas
    n = len(canvas.train_points)
    canvas._handle_custom_msg({"event": "click", "x": 1.5, "y": -2.0, "shift": False}, [])
    assert canvas.train_points[-1] == [1.5, -2.0, 1] and canvas.added == 1
    canvas._handle_custom_msg({"event": "click", "x": -1.0, "y": 1.0, "shift": True}, [])
    assert canvas.train_points[-1] == [-1.0, 1.0, 0]               # shift: the other class
    widgets.find_control(live, "a click on the picture adds").value = 0
    assert canvas.click_class == 0
    canvas._handle_custom_msg({"event": "click", "x": 0.0, "y": 0.0, "shift": False}, [])
    assert canvas.train_points[-1] == [0.0, 0.0, 0]
    assert len(live.trainer.X_train) == n + 3
    widgets.find_control(live, "remove added points").click()
    assert len(canvas.train_points) == n and canvas.added == 0


def test_the_js_sets_data_frame_after_each_paint():
    js = (pg.Path(pg.__file__).with_name("playground.js")).read_text()
    assert 'el.setAttribute("data-frame"' in js and "export default" in js


def test_the_js_colours_and_contour_in_node(tmp_path):
    """The drawing code's pure parts, run in node when it is there: the colour scale goes
    from class 0's colour through white to class 1's, and the 0.5 line of a grid that is
    class 0 on the left and class 1 on the right is one vertical line in the middle."""
    import json
    import shutil
    import subprocess

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    module = tmp_path / "playground.mjs"
    module.write_text(pg.Path(pg.__file__).with_name("playground.js").read_text())
    script = tmp_path / "check.mjs"
    script.write_text("""
import { palette, contour } from "./playground.mjs";
const lut = palette(["#0072B2", "#D55E00"], 0);
const rgb = i => Array.from(lut.slice(i * 4, i * 4 + 3));
const n = 10, grid = new Uint8Array(n * n).map((_, i) => (i % n) < 5 ? 0 : 255);
const xs = contour(grid, n).flat().map(p => p[0]);
console.log(JSON.stringify({ lo: rgb(0), mid: rgb(128), hi: rgb(255),
                             segments: contour(grid, n).length, xs: [...new Set(xs)] }));
""")
    out = subprocess.run([node, str(script)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["lo"] == [0, 114, 178] and result["hi"] == [213, 94, 0]
    assert min(result["mid"]) >= 250                       # white in the middle
    assert result["segments"] == 9 and result["xs"] == [4.5]     # 10 x 10 grid: 9 cells
