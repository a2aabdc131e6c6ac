"""Lesson 11's widgets compute real augmentations and a real labels-per-class sweep:
strength 0 changes nothing, draws repeat with a seed, frozen layers stay put, and
a pretrained model beats one trained from scratch when labels are few."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import asyncio  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from figure_checks import assert_inside_and_apart  # noqa: E402

import dlcore  # noqa: E402
from dlcore import nn, optim, train  # noqa: E402
from dlcore.data import load_digits, load_printed_digits, printed_digits  # noqa: E402
from dlcore.viz import transfer, widgets  # noqa: E402


@pytest.fixture(scope="module")
def images():
    X, _ = printed_digits(n=4, size=28, seed=0)
    return X


@pytest.mark.parametrize("kind", list(transfer.AUGMENTATIONS))
def test_strength_zero_keeps_every_image(images, kind):
    grid = transfer.augment_examples(images, kind, 0.0, seed=0, variants=3)
    assert grid.shape == (4, 4, 28, 28)
    for v in range(4):
        np.testing.assert_array_equal(grid[:, v], images[:, 0])


@pytest.mark.parametrize("kind", list(transfer.AUGMENTATIONS))
def test_full_strength_changes_images_and_repeats_with_its_seed(images, kind):
    a = transfer.augment_examples(images, kind, 1.0, seed=3)
    b = transfer.augment_examples(images, kind, 1.0, seed=3)
    c = transfer.augment_examples(images, kind, 1.0, seed=4)
    np.testing.assert_array_equal(a, b)
    if kind != "horizontal flip":              # at p = 1 every image flips, whatever the seed
        assert not np.array_equal(a, c)
    np.testing.assert_array_equal(a[:, 0], images[:, 0])          # column 0: the originals
    assert not np.array_equal(a[:, 1:], np.repeat(a[:, :1], 7, axis=1))
    assert a.min() >= 0.0 and a.max() <= 1.0


def test_flip_at_strength_one_mirrors_every_image(images):
    grid = transfer.augment_examples(images, "horizontal flip", 1.0, variants=2)
    np.testing.assert_array_equal(grid[:, 1], images[:, 0, :, ::-1])


def test_shift_moves_the_digit_up_and_down(images):
    grid = transfer.augment_examples(images[:, :, 4:-4, 4:-4], "shift", 0.5, seed=1)
    ink = grid.sum(axis=(2, 3))
    centre = (grid * np.arange(20)[:, None]).sum(axis=(2, 3)) / ink
    assert np.ptp(centre, axis=1).max() > 0.5            # variants sit at other heights


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="augmentation must be one of"):
        transfer.augment_examples(np.zeros((1, 8, 8)), "blur", 0.5)
    with pytest.raises(ValueError, match="strength"):
        transfer.augment_examples(np.zeros((1, 8, 8)), "shift", 2.0)
    with pytest.raises(ValueError, match="has 2 examples"):
        transfer.per_class(np.zeros((4, 3)), np.array([0, 0, 1, 1]), 3)


def test_figures_show_the_grid_and_the_transform(images):
    fig = transfer.augmentation_figure(images, "rotation", 0.5)
    shown = fig.axes[0].images[0].get_array()
    grid = transfer.augment_examples(images, "rotation", 0.5)
    assert shown.shape == (4 * 30 - 2, 8 * 30 - 2)                 # 4 x 8 cells, 2 px gaps
    np.testing.assert_array_equal(shown[30:58, 60:88], grid[1, 2])   # row 1, column 2
    assert "RandomRotation(degrees=22)" in fig._suptitle.get_text()
    transfer.update_augmentation_figure(fig, "noise", 1.0, seed=2)
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(),
                                  transfer.mosaic(transfer.augment_examples(images, "noise", 1.0,
                                                                            seed=2)))
    assert "GaussianNoise(std=0.50)" in fig._suptitle.get_text()
    fig = transfer.augmentation_gallery(images[0])
    rows = len(transfer.AUGMENTATIONS)
    assert fig.axes[0].images[0].get_array().shape == (rows * 30 - 2, 6 * 30 - 2)
    assert {t.get_text() for t in fig.axes[0].texts} >= set(transfer.AUGMENTATIONS)


def test_image_rows_draws_rows_as_one_picture_at_most_900_px_wide(images):
    rows = np.stack([images[:, 0]] * 3)                      # 3 rows of 4 images
    fig = transfer.image_rows(rows, ["a", "b", "c", "d"], ["one", "two", "three"], title="t")
    shown = fig.axes[0].images[0].get_array()
    np.testing.assert_array_equal(shown[60:88, 30:58], images[1, 0])    # row 2, column 1
    assert {"a", "d", "one", "three"} <= {t.get_text() for t in fig.axes[0].texts}
    wide = transfer.image_rows(np.zeros((2, 12, 8, 8)), [str(i) for i in range(12)], ["x", "y"])
    assert wide.get_size_inches()[0] * wide.dpi <= 900
    with pytest.raises(ValueError, match="image_rows expects"):
        transfer.image_rows(np.zeros((3, 8, 8)))


def _cpu_ms(fn):
    """The kernel's CPU time for one call, in ms: a gross-regression guard that a
    loaded machine does not make flaky (wall time would)."""
    t0 = time.process_time()
    fn()
    return 1e3 * (time.process_time() - t0)


def test_augmentation_explorer_redraws_in_place_fast(images):
    box = transfer.augmentation_explorer(images)
    fig = box.view.fig
    before = widgets.image_array(box).copy()
    assert _cpu_ms(lambda: setattr(widgets.find_control(box, "strength"), "value", 1.0)) < 500
    after = widgets.image_array(box).copy()
    assert box.view.fig is fig and (after != before).any()
    assert "degrees=45" in fig._suptitle.get_text()
    widgets.find_control(box, "augmentation").value = "horizontal flip"
    assert "RandomHorizontalFlip(p=1.00)" in fig._suptitle.get_text()
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array()[:28, 30:58],
                                  images[0, 0, :, ::-1])          # every variant mirrored
    widgets.find_control(box, "random draw").value = 5
    for control in box.controls.values():
        assert control.description and len(control.tooltip) > 20


def test_per_class_draws_balanced_distinct_examples():
    digits = load_digits()
    X, y = transfer.per_class(digits.X_train, digits.y_train, 5, seed=0)
    assert X.shape == (50, 64) and np.bincount(y).tolist() == [5] * 10
    assert len(np.unique(X, axis=0)) == 50
    X2, _ = transfer.per_class(digits.X_train, digits.y_train, 5, seed=0)
    np.testing.assert_array_equal(X, X2)


def _cnn():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(64, 10))


@pytest.fixture(scope="module")
def pretrained_state():
    source = load_printed_digits(n=2000, size=8)
    dlcore.manual_seed(0)
    model = _cnn()
    loader, _, _ = source.loaders(batch_size=32, seed=0)
    train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=3e-3), loader,
              epochs=10, progress=False)
    return model.state_dict()


def test_frozen_layers_do_not_move(pretrained_state):
    digits = load_digits(images=True)
    X, y = transfer.per_class(digits.X_train, digits.y_train, 2)
    model = _cnn()
    model.load_state_dict(pretrained_state)
    model[:6].requires_grad_(False)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    transfer.train_on_few(model, X, y, steps=20)
    after = model.state_dict()
    for key in ("0.weight", "0.bias", "3.weight", "3.bias"):
        np.testing.assert_array_equal(before[key], after[key])
    assert not np.array_equal(before["7.weight"], after["7.weight"])


def test_fine_tuning_beats_scratch_with_few_labels(pretrained_state):
    digits = load_digits(images=True)
    sweep = transfer.label_sweep(_cnn, pretrained_state, digits.X_train, digits.y_train,
                                 digits.X_test, digits.y_test, counts=(1, 2), freeze_first=6,
                                 draws=2)
    assert sweep["counts"].tolist() == [1, 2]
    assert set(sweep) == {"counts", transfer.SCRATCH, transfer.FROZEN, transfer.FINE_TUNED}
    gain = sweep[transfer.FINE_TUNED] - sweep[transfer.SCRATCH]
    assert (gain > 0.03).all(), gain
    assert (sweep[transfer.FROZEN] > 0.5).all()

    fig = transfer.label_sweep_figure(sweep, count=2)
    curve_ax, bar_ax = fig.axes
    bars = [p.get_height() for p in bar_ax.patches]
    np.testing.assert_allclose(sorted(bars), sorted(100 * sweep[m][1] for m in
                                                    (transfer.SCRATCH, transfer.FROZEN,
                                                     transfer.FINE_TUNED)))
    assert "2 per class (20 images)" in bar_ax.get_title()
    with pytest.raises(ValueError, match="count must be one of"):
        transfer.label_sweep_figure(sweep, count=7)


def test_label_sweep_runs_show_each_point_as_it_finishes(pretrained_state):
    digits = load_digits(images=True)
    setup = dict(make_model=_cnn, pretrained=pretrained_state, X_pool=digits.X_train,
                 y_pool=digits.y_train, X_test=digits.X_test, y_test=digits.y_test,
                 counts=(1, 2), freeze_first=6, steps=10, draws=2)
    seen = []
    epochs_seen = 0
    for sweep, (count, mode, draw, epoch, epochs) in transfer.label_sweep_runs(
            **setup, every_epoch=True):
        i = [1, 2].index(count)
        done = epoch == epochs
        assert np.isfinite(sweep[mode][i]) == (draw == 2 and done)   # once its draws are done
        seen += [(count, mode, draw)] if done else []
        epochs_seen += 1
    assert len(seen) == 2 * 3 * 2 and len(set(seen)) == 12
    assert epochs_seen == 2 * 3 * 2 * 10          # 10 steps: 10 epochs of one batch each
    whole = transfer.label_sweep(**setup)
    for mode in (transfer.SCRATCH, transfer.FROZEN, transfer.FINE_TUNED):
        np.testing.assert_array_equal(sweep[mode], whole[mode])
    dlcore.manual_seed(0)                      # one point by hand: train_on_few, all at once
    model = _cnn()
    model.load_state_dict(pretrained_state)
    X, y = transfer.per_class(digits.X_train, digits.y_train, 2, seed=1)
    transfer.train_on_few(model, X, y, steps=10)
    by_hand = train.evaluate(model, (digits.X_test, digits.y_test))["accuracy"]
    dlcore.manual_seed(0)
    model = _cnn()
    model.load_state_dict(pretrained_state)
    X, y = transfer.per_class(digits.X_train, digits.y_train, 2, seed=0)
    transfer.train_on_few(model, X, y, steps=10)
    by_hand += train.evaluate(model, (digits.X_test, digits.y_test))["accuracy"]
    assert whole[transfer.FINE_TUNED][1] == pytest.approx(by_hand / 2, abs=1e-12)


def test_label_sweep_widget_runs_a_new_sweep_point_by_point(pretrained_state):
    digits = load_digits(images=True)
    setup = dict(make_model=_cnn, pretrained=pretrained_state, X_pool=digits.X_train,
                 y_pool=digits.y_train, X_test=digits.X_test, y_test=digits.y_test,
                 counts=(1, 2), freeze_first=6, steps=10, lr=1e-2, draws=1)
    sweep = transfer.label_sweep(**setup)
    box = transfer.label_sweep_explorer(sweep, setup)
    player, fig = box.player, box.fig
    assert "shown" in player.status.value                      # the sweep given is shown ...
    assert not player.play_button.disabled                     # ... and Run sweep reruns it
    full_draws = []                                # every control redraws only what moves
    show = box.view.show
    box.view.show = lambda **kw: full_draws.append(kw) or show(**kw)
    before = widgets.image_array(box).copy()
    count = widgets.find_control(box, "labels per class")
    assert _cpu_ms(lambda: setattr(count, "value", 1)) < 500
    assert "1 per class" in fig.axes[1].get_title() and (widgets.image_array(box) != before).any()
    assert bytes(box.view.widget.value).startswith(b"\x89PNG")         # at rest: PNG, crisp text

    before = widgets.image_array(box).copy()
    steps = widgets.find_control(box, "fine-tuning steps")
    assert _cpu_ms(lambda: setattr(steps, "value", 25)) < 500   # new settings: nothing yet
    assert not player.done and "press" in player.status.value
    assert all(np.isnan(line.get_ydata()).all() for line in fig.parts.lines.values())
    assert "25 steps" in fig.axes[0].get_title() and (widgets.image_array(box) != before).any()
    assert full_draws == []
    player.step_button.click()                                 # one epoch of one training
    assert "0/6 trainings done; now 1 per class, from scratch" in player.status.value
    assert "epoch 1/25" in player.status.value               # 25 steps: 25 epochs of 1 batch
    assert fig.parts.progress.get_width() == pytest.approx(1 / 25 / 6)   # the progress bar
    player.play(frame_every=1000)                              # draws the last frame
    assert player.done and (25, 1e-2, 1) in box.finished
    expected = transfer.label_sweep(**{**setup, "steps": 25})
    for mode, line in fig.parts.lines.items():
        np.testing.assert_allclose(line.get_ydata(), 100 * expected[mode])
    widgets.find_control(box, "fine-tuning steps").value = 10  # back: the first sweep, at once
    assert "shown" in player.status.value
    np.testing.assert_allclose(fig.parts.lines[transfer.SCRATCH].get_ydata(),
                               100 * sweep[transfer.SCRATCH])
    before = widgets.image_array(box).copy()
    assert _cpu_ms(lambda: player.reset_button.click()) < 500   # Reset: the curves cleared
    assert all(np.isnan(line.get_ydata()).all() for line in fig.parts.lines.values())
    assert (widgets.image_array(box) != before).any()
    # full draws only for a live frame whose new point widened the accuracy axis
    assert all(kw["control"] == "Run sweep" for kw in full_draws)
    for control in box.controls.values():
        assert control.description and len(control.tooltip) > 20

    async def play_a_few_frames():
        frames = player.frames
        player.play()
        while player.frames < frames + 3:
            await asyncio.sleep(0.001)
        live = box.view.widget.format, bytes(box.view.widget.value[:3])
        player.pause()
        return live

    assert asyncio.run(play_a_few_frames()) == ("jpeg", b"\xff\xd8\xff")   # live: JPEG
    assert "trainings done" in player.status.value
    player.step_button.click()
    assert box.view.widget.format == "png" and bytes(box.view.widget.value).startswith(b"\x89PNG")

    async def move_a_setting_while_it_plays():
        frames = player.frames
        player.play()
        while player.frames < frames + 2:
            await asyncio.sleep(0.001)
        draws = widgets.find_control(box, "draws")
        movable = player.playing and not draws.disabled    # settings stay movable ...
        draws.value = 2                                      # ... and moving one stops it
        return movable, player.playing

    assert asyncio.run(move_a_setting_while_it_plays()) == (True, False)
    assert "not run yet" in player.status.value and "2 draws" in fig.axes[0].get_title()
    assert all(np.isnan(line.get_ydata()).all() for line in fig.parts.lines.values())


def test_idea_and_flip_figures_draw(images):
    fig = transfer.idea_figure(images[0, 0])
    assert len(fig.axes) == 2 and len(fig.axes[0].images) == 4
    photo = np.random.default_rng(0).random((10, 16, 3))
    fig = transfer.flip_figure(photo, images[:2, 0], [3, 7])
    np.testing.assert_array_equal(fig.axes[1].images[0].get_array(), photo[:, ::-1])
    assert fig.axes[3].get_title() == "not a 3"


def test_seed_comparison_draws_every_run_and_the_mean():
    losses = {"plain": [[2.0, 1.0, 0.5], [2.0, 0.9, 0.4]], "shifted": [[2.0, 1.5, 1.2]] * 2}
    accuracies = {"plain": [0.80, 0.78], "shifted": [0.92, 0.90]}
    fig = transfer.seed_comparison_figure(losses, accuracies)
    loss_ax, acc_ax = fig.axes[:2]
    assert len(loss_ax.get_lines()) == 4                       # one line per run
    assert {line.get_linestyle() for line in loss_ax.get_lines()} == {"-", "--"}
    texts = " ".join(t.get_text() for t in acc_ax.texts)
    assert "79.0%" in texts and "91.0%" in texts               # the means, written
    with pytest.raises(ValueError, match="same settings"):
        transfer.seed_comparison_figure(losses, {"plain": [0.8, 0.78]})


def test_figures_need_no_layout_pass_and_fit(images):
    """Drawn without a layout engine, every axes with its labels and title inside the
    figure and none over another."""
    # losses over decades, as in the lesson (a log axis within one decade labels its
    # minor ticks too, which takes more room)
    losses = {"plain": [[2.0, 0.1, 0.002]] * 3, "shift + rotation (up to 12°)": [[2.0, 0.3]] * 3}
    accuracies = {"plain": [0.80, 0.78, 0.79], "shift + rotation (up to 12°)": [0.9, 0.95, 0.93]}
    sweep = {"counts": np.array([1, 2, 5, 20]), **{m: np.array([0.6, 0.7, 0.8, 0.9])
                                                   for m in (transfer.SCRATCH, transfer.FROZEN,
                                                             transfer.FINE_TUNED)}}
    photo = np.random.default_rng(0).random((107, 160, 3))
    for fig in (transfer.seed_comparison_figure(losses, accuracies),
                transfer.label_sweep_figure(sweep, 5), transfer.idea_figure(images[0, 0]),
                transfer.flip_figure(photo, images[:2, 0], [3, 7])):
        assert_inside_and_apart(fig)
