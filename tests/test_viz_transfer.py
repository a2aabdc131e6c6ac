"""Lesson 11's widgets compute real augmentations and a real labels-per-class sweep:
strength 0 changes nothing, draws repeat with a seed, frozen layers stay put, and
a pretrained model beats one trained from scratch when labels are few."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import dlcore  # noqa: E402
from dlcore import nn, optim, train  # noqa: E402
from dlcore.data import load_digits, load_printed_digits, printed_digits  # noqa: E402
from dlcore.viz import transfer  # noqa: E402


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
    assert len([ax for ax in fig.axes if ax.images]) == 4 * 8
    assert "RandomRotation(degrees=22)" in fig._suptitle.get_text()
    fig = transfer.augmentation_gallery(images[0])
    assert len([ax for ax in fig.axes if ax.images]) == len(transfer.AUGMENTATIONS) * 6


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
