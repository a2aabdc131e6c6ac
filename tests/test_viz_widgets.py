"""The one way widgets are built: FigureView, interactive_figure, Busy, Player."""
from __future__ import annotations

import asyncio
import time

import ipywidgets as widgets
import numpy as np
import pytest

from dlcore import nn
from dlcore.viz import plots
from dlcore.viz import widgets as vw


def line_figure(freq=1.0):
    with plots.style():
        fig, ax = plots.subplots("small", layout="constrained")
        x = np.linspace(0, 6, 200)
        (line,) = ax.plot(x, np.sin(freq * x), color=plots.BLUE)
        ax.set_ylim(-1.2, 1.2)
        ax.set_title(f"sin({freq:.1f} x)")
    fig.line = line
    return plots.finish(fig)


def update_line(fig, freq=1.0):
    x = fig.line.get_xdata()
    fig.line.set_ydata(np.sin(freq * x))
    fig.axes[0].set_title(f"sin({freq:.1f} x)")


def test_figure_view_sends_png_of_the_figure_and_records_timings():
    fig = line_figure()
    vw.TIMINGS.clear()
    view = vw.FigureView(fig, name="line")
    data = view.show(control="freq", compute_ms=1.5)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and view.widget.value == data
    width, height = fig.canvas.get_width_height()
    assert vw.image_array(view).shape == (height, width, 3)
    record = vw.TIMINGS[-1]
    assert record["widget"] == "line" and record["control"] == "freq"
    assert record["compute_ms"] == 1.5 and record["draw_ms"] > 0 and record["encode_ms"] > 0
    assert fig.get_layout_engine().__class__.__name__ == "PlaceHolderLayoutEngine"  # frozen
    pos = fig.axes[0].get_position().bounds
    update_line(fig, 3.0)
    view.show()
    assert fig.axes[0].get_position().bounds == pos


def test_animated_frames_redraw_only_the_moving_artists():
    fig = line_figure()
    view = vw.FigureView(fig, animated=[fig.line])
    first = vw.image_array(view.show() and view).copy()
    fig.line.set_ydata(-fig.line.get_ydata())
    view.frame()
    flipped = vw.image_array(view)
    assert (first != flipped).any()
    fig.line.set_ydata(-fig.line.get_ydata())
    view.frame()
    assert (vw.image_array(view) == first).all()      # the background was restored exactly

    def best(fn, n=7):
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times)

    assert best(view.frame) < best(view.show)


def test_interactive_figure_updates_the_same_figure_in_place():
    freq = widgets.FloatSlider(value=1.0, min=0.5, max=4.0, description="frequency")
    box = plots.interactive_figure(line_figure, {"freq": freq}, update=update_line)
    fig = box.view.fig
    before = vw.image_array(box)
    vw.find_control(box, "frequency").value = 3.0
    assert box.view.fig is fig and fig.axes[0].get_title() == "sin(3.0 x)"
    assert (vw.image_array(box) != before).any()
    follow = widgets.FloatSlider(description="follow")
    plots.interactive_figure(line_figure, {"freq": follow}, update=update_line, continuous=True)
    assert follow.continuous_update        # asked to follow the drag


def test_a_slow_redraw_greys_the_picture_and_disables_the_controls_while_it_computes():
    seen, made = [], {}
    slider = widgets.IntSlider(value=1, min=0, max=3, description="delay")

    def draw(delay):
        if "box" in made:     # what the learner sees while this computes
            seen.append((slider.disabled, made["box"].busy.status.value,
                         "dl-stale" in made["box"].view.widget._dom_classes))
        time.sleep(0.35 if delay else 0.0)
        return line_figure(1 + delay)

    made["box"] = box = plots.interactive_figure(draw, {"delay": slider},
                                                 busy_message="thinking hard")
    assert not slider.continuous_update          # too slow to follow a drag
    slider.value = 2
    assert seen == [(True, seen[0][1], True)] and "thinking hard" in seen[0][1]
    assert "dl-stale" not in box.view.widget._dom_classes
    assert not slider.disabled and "thinking hard" not in box.busy.status.value


def test_find_control_names_what_matched():
    a = widgets.IntSlider(description="learning rate")
    b = widgets.IntSlider(description="hidden units")
    root = widgets.VBox([widgets.HBox([a]), b])
    assert vw.find_control(root, "HIDDEN") is b
    with pytest.raises(LookupError, match="0 controls match 'momentum'"):
        vw.find_control(root, "momentum")
    with pytest.raises(LookupError, match="2 controls match"):
        vw.find_control(root, "n")


class Counter:
    def __init__(self, total=10):
        self.total, self.value, self.frames = total, 0, []

    def step(self):
        self.value += 1
        return self.value < self.total

    def frame(self):
        self.frames.append(self.value)

    def reset(self):
        self.value = 0


def test_player_without_an_event_loop_runs_to_the_end_and_steps_and_resets():
    c = Counter(5)
    player = vw.Player(c.step, c.frame, c.reset, status=lambda: f"value {c.value}")
    player.step()
    assert c.value == 1 and c.frames == [1] and "value 1" in player.status.value
    player.play()
    assert c.value == 5 and player.done and c.frames[-1] == 5 and "done" in player.status.value
    player.play()                      # nothing left to do
    assert c.value == 5
    player.reset()
    assert c.value == 0 and not player.done and c.frames[-1] == 0


def test_player_plays_on_the_event_loop_at_its_frame_rate_and_pauses():
    c = Counter(10_000)

    def slow_step():
        time.sleep(0.002)
        return c.step()

    player = vw.Player(slow_step, c.frame, c.reset, fps=25)
    locked = widgets.IntSlider(description="locked")
    player.locked.append(locked)

    async def scenario():
        player.play()
        # the first step and frame are drawn in play() itself, before any task runs;
        # the buttons and locked controls change a frame later
        assert c.frames == [1] and player.playing
        assert player.play_button.description == "Train" and not locked.disabled
        await asyncio.sleep(0.1)
        assert player.play_button.description == "Pause" and locked.disabled
        await asyncio.sleep(0.5)
        player.toggle()                  # Pause
        await asyncio.sleep(0.05)
        return c.value, len(c.frames)

    steps, frames = asyncio.run(scenario())
    assert not player.playing and player.play_button.description == "Train"
    assert not locked.disabled
    assert c.frames[0] == 1              # the first frame right after the first step
    assert 8 <= frames <= 20, frames     # ~25 frames/s for 0.6 s, give or take a loaded CI
    assert steps > 2 * frames            # several steps between frames
    assert c.value == steps              # paused: nothing ran after


def test_a_player_with_slow_steps_keeps_its_frame_rate_with_fewer_steps_a_frame():
    """A step of 22 ms at 25 frames a second (40 ms): a second step would not end before
    the frame is due, so each frame shows one step and frames keep coming every ~40 ms
    (two steps a frame would make it 49 ms: 20 frames a second)."""
    c = Counter(10_000)

    def slow_step():
        time.sleep(0.022)
        return c.step()

    def frame():
        time.sleep(0.004)
        c.frame()

    player = vw.Player(slow_step, frame, c.reset, fps=25)

    async def scenario():
        player.play()
        await asyncio.sleep(0.8)
        player.pause()

    asyncio.run(scenario())
    gaps = [b - a for a, b in zip(c.frames, c.frames[1:], strict=False)]
    assert len(gaps) >= 5 and set(gaps) == {1}, gaps


def test_layer_outputs_walk_the_model_in_eval_mode_and_restore_its_mode(rng):
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.ReLU(), nn.Linear(4, 2))
    x = rng.standard_normal((5, 3)).astype(np.float32)
    model.train()
    steps = plots.layer_outputs(model, x)
    assert [name for name, _ in steps][0] == "input" and len(steps) == 5
    assert steps[1][0].startswith("(0) Linear")
    model.eval()
    np.testing.assert_allclose(steps[-1][1], model(x), rtol=1e-6)
    assert steps[2][1] is not None
    model.train()
    plots.layer_outputs(model, x)
    assert model.training


def test_box_and_arrow_draw_one_patch_each():
    with plots.style():
        fig, ax = plots.subplots("small")
        patch = plots.box(ax, 0.5, 0.5, "tanh", color=plots.ACCENT)
        arrow = plots.arrow(ax, (0, 0), (1, 1))
    assert patch in ax.patches and arrow in ax.patches
    assert [t.get_text() for t in ax.texts] == ["tanh"]
    x0, y0, w, h = patch.get_x(), patch.get_y(), patch.get_width(), patch.get_height()
    assert (x0 + w / 2, y0 + h / 2) == pytest.approx((0.5, 0.5))
    plots.finish(fig)


def test_player_caps_the_steps_between_frames_and_can_be_rearmed():
    c = Counter(30)
    player = vw.Player(c.step, c.frame, c.reset, max_steps_per_frame=3)

    async def scenario():
        player.play()
        while player.playing:
            await asyncio.sleep(0.01)

    asyncio.run(scenario())
    assert player.done and c.value == 30
    gaps = [b - a for a, b in zip(c.frames, c.frames[1:], strict=False)]
    assert max(gaps) == 3                 # never more than 3 steps between two frames
    assert player.play_button.disabled
    c.total = 40                          # what it plays changed: more to do
    player.rearm()
    assert not player.done and not player.play_button.disabled and c.value == 30
    player.play()                         # no event loop here: runs to the end at once
    assert c.value == 40


def test_interactive_figure_blits_only_the_animated_artists():
    freq = widgets.FloatSlider(value=1.0, min=0.5, max=4.0, description="frequency")

    def update(fig, freq):
        fig.line.set_ydata(np.sin(freq * fig.line.get_xdata()))

    box = plots.interactive_figure(line_figure, {"freq": freq}, update=update,
                                   animated=lambda fig: [fig.line])
    assert box.view.animated == [box.view.fig.line]
    before = vw.image_array(box)
    freq.value = 2.5
    after = vw.image_array(box)
    assert (before != after).any()
    fresh = plots.interactive_figure(line_figure, {"freq": widgets.FloatSlider(value=1.0)})
    fresh.controls["freq"].value = 2.5
    update(fresh.view.fig, 2.5)
    fresh.view.show()
    # the blitted frame is the same picture as a full redraw of the same state,
    # up to the title, which the blit leaves as it was
    rows = slice(after.shape[0] // 6, None)
    assert np.abs(after[rows].astype(int) - vw.image_array(fresh)[rows].astype(int)).max() < 40


def test_update_returning_true_redraws_the_whole_figure_not_only_the_animated():
    freq = widgets.FloatSlider(value=1.0, min=0.5, max=4.0, description="frequency")
    calls = {"frame": 0, "show": 0}

    def update(fig, freq):
        fig.line.set_ydata(np.sin(freq * fig.line.get_xdata()))
        if freq > 3:
            fig.axes[0].set_ylim(-2, 2)          # outside the animated artists
            return True
        return None

    box = plots.interactive_figure(line_figure, {"freq": freq}, update=update,
                                   animated=lambda fig: [fig.line])
    view = box.view
    for method in ("frame", "show"):
        original = getattr(view, method)

        def counted(*a, _m=method, _o=original, **k):
            calls[_m] += 1
            return _o(*a, **k)

        setattr(view, method, counted)
    freq.value = 2.0
    assert calls == {"frame": 1, "show": 0}
    freq.value = 3.5
    assert calls["show"] == 1


def test_jpeg_frames_are_jpeg_and_a_wrong_format_is_named():
    view = vw.FigureView(line_figure(), format="jpeg")
    data = view.show()
    assert data[:3] == b"\xff\xd8\xff" and view.widget.format == "jpeg"
    assert vw.image_array(view).ndim == 3
    with pytest.raises(ValueError, match="format must be 'png' or 'jpeg', got 'gif'"):
        vw.FigureView(line_figure(), format="gif")


def two_layer_figure():
    """A title and a curve that controls change (layer 0), a dot that moves (layer 1)."""
    fig = line_figure()
    (fig.dot,) = fig.axes[0].plot([0.0], [0.0], "o", color=plots.ACCENT, ms=12)
    return fig


def test_layers_redraw_from_the_layer_asked_and_match_a_full_redraw():
    fig = two_layer_figure()
    title = fig.axes[0].title
    view = vw.FigureView(fig, layers=[[title, fig.line], [fig.dot]], name="layers")
    assert view.animated == [title, fig.line, fig.dot]
    view.show()
    drawn = []
    for artist in view.animated:                 # which artists each call draws
        artist.draw = (lambda a=artist, d=artist.draw: lambda r: (drawn.append(a), d(r)))()
    fig.dot.set_data([3.0], [0.5])
    view.frame()                                 # a live frame: the top layer only
    assert drawn == [fig.dot]
    drawn.clear()
    update_line(fig, 2.0)                        # a control: the curve and the title
    view.refresh()
    assert drawn == [title, fig.line, fig.dot]
    layered = vw.image_array(view).copy()
    drawn.clear()
    fig.dot.set_data([1.0], [-0.5])
    view.frame()                                 # over the refreshed curve, not the old one
    assert drawn == [fig.dot]
    moved = vw.image_array(view)
    assert (moved != layered).any()
    # the same state drawn from scratch, without layers, is the same picture
    fresh = two_layer_figure()
    update_line(fresh, 2.0)
    fresh.dot.set_data([1.0], [-0.5])
    plain = vw.FigureView(fresh)
    plain.show()
    assert np.abs(moved.astype(int) - vw.image_array(plain).astype(int)).max() < 40
    with pytest.raises(ValueError, match="no layer 2"):
        view.refresh(2)
    with pytest.raises(ValueError, match="animated= or layers="):
        vw.FigureView(two_layer_figure(), animated=[fig.dot], layers=[[fig.line]])


def test_one_picture_can_be_sent_as_jpeg_and_the_next_as_png():
    fig = two_layer_figure()
    view = vw.FigureView(fig, layers=[[fig.line], [fig.dot]])
    assert view.show()[:8] == b"\x89PNG\r\n\x1a\n" and view.widget.format == "png"
    fig.dot.set_data([2.0], [0.2])
    assert view.frame(format="jpeg")[:3] == b"\xff\xd8\xff"
    assert view.widget.format == "jpeg"
    assert view.refresh()[:8] == b"\x89PNG\r\n\x1a\n" and view.widget.format == "png"


def test_player_finish_says_there_is_nothing_to_play():
    c = Counter(10)
    player = vw.Player(c.step, c.frame, c.reset)
    player.finish()
    assert player.done and player.play_button.disabled and player.step_button.disabled
    player.play()
    assert c.value == 0                   # nothing played
    player.rearm()
    assert not player.play_button.disabled
    player.play()
    assert c.value == 10


def test_png_bytes_are_a_lossless_png_of_the_pixels():
    import io

    from PIL import Image

    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    rgb[:10] = 255                                   # flat areas, as in a figure
    data = vw.png_bytes(rgb)
    decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert decoded.shape == rgb.shape and (decoded == rgb).all()
    view = vw.FigureView(line_figure())
    view.show()
    assert (vw.image_array(view) == np.asarray(view.canvas.buffer_rgba())[:, :, :3]).all()


def test_interactive_figure_can_send_jpeg():
    box = plots.interactive_figure(line_figure, {"freq": widgets.FloatSlider(value=1.0)},
                                   update=update_line, format="jpeg")
    assert box.view.widget.format == "jpeg" and box.view.widget.value[:3] == b"\xff\xd8\xff"


def test_figure_views_draw_text_unhinted_and_leave_the_setting_as_it_was():
    import matplotlib

    seen = []
    fig = line_figure()
    title = fig.axes[0].title
    original = title.draw
    title.draw = lambda renderer: (seen.append(matplotlib.rcParams["text.hinting"]),
                                   original(renderer))
    before = matplotlib.rcParams["text.hinting"]
    view = vw.FigureView(fig, layers=[[title]])
    view.show()
    view.refresh()
    assert seen and set(seen) == {"none"}
    assert matplotlib.rcParams["text.hinting"] == before


def test_box_and_arrow_can_leave_the_data_limits_alone():
    with plots.style():
        fig, ax = plots.subplots("small")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_autoscale_on(True)
        far = plots.box(ax, 5.0, 5.0, "far", autoscale=False)
        arrow = plots.arrow(ax, (0, 0), (8, 8), autoscale=False)
        ax.autoscale_view()
        assert ax.get_xlim()[1] < 5                  # the limits did not grow to hold them
        assert far in ax.patches and arrow in ax.patches
        assert far.get_clip_box() is not None        # clipped to the axes like any patch
        plots.box(ax, 5.0, 5.0, "grows")
        ax.autoscale_view()
        assert ax.get_xlim()[1] >= 5
    plots.finish(fig)


def test_a_player_whose_first_step_ends_it_or_fails_says_so_at_once():
    c = Counter(1)
    player = vw.Player(c.step, c.frame, c.reset)

    async def one_step_run():
        player.play()
        return player.playing

    assert asyncio.run(one_step_run()) is False      # done after one step: not playing
    assert player.done and c.frames == [1] and player.play_button.disabled

    def broken():
        raise ValueError("shapes (3,) and (4,) do not match")

    failing = vw.Player(broken, c.frame)

    async def failing_run():
        failing.play()

    with pytest.raises(ValueError, match="do not match"):
        asyncio.run(failing_run())
    assert "stopped: ValueError" in failing.status.value and not failing.playing
    assert failing.play_button.description == "Train"       # not left saying Pause


def test_the_first_show_reuses_the_layout_draw_unless_something_changed_since():
    """Building a view draws the figure once (to freeze its layout) with the animated
    artists left out: that is the background the first show needs, so it is not drawn
    again, unless an artist that is not animated changed in between."""
    def build():
        fig, ax = plots.subplots("wide")
        ax.plot(np.arange(10))
        moving, = ax.plot(np.arange(10)[::-1])
        ax.set_title("before")
        return fig, ax, moving

    fig, ax, moving = build()
    view = vw.FigureView(fig, animated=[moving])
    draws = []
    original = fig.canvas.draw
    fig.canvas.draw = lambda: (draws.append(1), original())[1]
    first = view.show()
    assert draws == []                       # the background from the layout draw
    view.show()
    assert draws == [1]                      # a later show draws the figure again

    fig2, ax2, moving2 = build()
    view2 = vw.FigureView(fig2, animated=[moving2])
    ax2.set_title("after")                   # changed after the view was built
    fig3, ax3, moving3 = build()
    ax3.set_title("after")
    assert view2.show() == vw.FigureView(fig3, animated=[moving3]).show() != first


def test_player_says_which_frames_are_live():
    """play()'s frames (the first one too, drawn before the player counts as playing)
    are live; a Step's and a Reset's are not."""
    seen = []
    count = {"n": 0}

    def step():
        count["n"] += 1
        return count["n"] < 3

    player = vw.Player(step, lambda: seen.append(player.live), lambda: count.update(n=0))
    player.step()
    player.reset()
    assert seen == [False, False]
    player.play()                              # no event loop here: runs to the end
    assert seen[2:] == [True, True, True] and not player.live
