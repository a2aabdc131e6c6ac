"""Lesson 04's widget: step through backpropagation on a tiny network.

``backprop_steps`` runs the engine's own layers one at a time (forward, then
the loss, then ``backward`` in reverse) and records what each step computes;
``draw_backprop_step`` draws the network as a computation graph with every
value known so far (black) and every gradient known so far (vermillion);
``backprop_stepper`` wraps both in a slider and two buttons.

    from dlcore.viz import backprop
    model, loss_fn, x, y = backprop.tiny_network()
    steps = backprop.backprop_steps(model, loss_fn, x, y)
    backprop.draw_backprop_step(model, steps, len(steps) - 1)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from .. import nn
from ..rng import manual_seed
from . import plots

FORWARD_COLOR, BACKWARD_COLOR = plots.FORWARD_COLOR, plots.BACKWARD_COLOR


@dataclass
class Step:
    """What one step of the pass computes.

    Attributes:
        phase: ``"forward"`` or ``"backward"``.
        column: the column of the diagram the step fills in (0 = the input,
            k = the output of layer k, ``len(model) + 1`` = the loss).
        title: one line naming the step.
        formula: the rule, with the numbers of this step.
        values: column -> the forward values known after this step, (D,) each.
        grads: column -> dLoss/d(that column), known after this step.
        param_grads: parameter name (``"0.weight"``) -> its gradient so far.
    """
    phase: str
    column: int
    title: str
    formula: str
    values: dict[int, np.ndarray] = field(default_factory=dict)
    grads: dict[int, np.ndarray] = field(default_factory=dict)
    param_grads: dict[str, np.ndarray] = field(default_factory=dict)


def tiny_network(seed: int = 0, hidden: int = 2, activation: type = nn.Sigmoid
                 ) -> tuple[nn.Sequential, nn.MSELoss, np.ndarray, np.ndarray]:
    """A 2-``hidden``-1 network in float64, an MSE loss, one input and its target.

    Returns ``(model, loss_fn, x, y)`` with x of shape (1, 2) and y of shape (1, 1).
    """
    manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, hidden), activation(), nn.Linear(hidden, 1)).double()
    x = np.array([[1.0, -2.0]])
    y = np.array([[1.0]])
    return model, nn.MSELoss(), x, y


def _fmt(a: np.ndarray) -> str:
    return "[" + ", ".join(f"{v:+.3f}" for v in np.ravel(a)) + "]"


def _symbols(model: nn.Sequential) -> list[str]:
    """A name for each column: x, z1, h1, z2, ..., with the last output called y_hat."""
    names, layer = ["x"], 0
    for module in model:
        if isinstance(module, nn.Linear):
            layer += 1
            names.append(f"z{layer}")
        else:
            names.append(f"h{layer}")
    names[-1] = "ŷ"
    return names + ["L"]


def backprop_steps(model: nn.Sequential, loss_fn: nn.Module, x: np.ndarray,
                   y: np.ndarray) -> list[Step]:
    """Run one forward and one backward pass through ``model``, a layer at a time,
    and return the steps: input, each layer forward, the loss, the loss gradient,
    each layer backward (in reverse).

    The gradients are the engine's own: ``model``'s ``.grad`` arrays are zeroed,
    then filled by the layers' ``backward`` exactly as ``model.backward`` would.
    Shape: x (1, D_in), y (1, D_out); one sample, so every value is a vector.
    """
    if x.shape[0] != 1:
        raise ValueError(f"backprop_steps draws one sample, got x of shape {x.shape}")
    names = _symbols(model)
    layers = list(model)
    loss_col = len(layers) + 1
    model.zero_grad()
    values: dict[int, np.ndarray] = {0: x[0].copy()}
    steps = [Step("forward", 0, "The input arrives", f"x = {_fmt(x)},  target y = {_fmt(y)}",
                  dict(values))]
    out = x
    for k, layer in enumerate(layers, start=1):
        out = layer(out)
        values[k] = out[0].copy()
        if isinstance(layer, nn.Linear):
            rule = f"{names[k]} = W {names[k - 1]} + b"
        else:
            rule = f"{names[k]} = {type(layer).__name__}({names[k - 1]})"
        steps.append(Step("forward", k, f"Forward through layer {k}: {layer._short()}",
                          f"{rule} = {_fmt(out)}", dict(values)))
    loss = loss_fn(out, y)
    values[loss_col] = np.array([loss])
    steps.append(Step("forward", loss_col, f"The loss: {type(loss_fn).__name__}",
                      f"L = mean((ŷ - y)²) = {loss:.4f}", dict(values)))

    grads: dict[int, np.ndarray] = {loss_col: np.array([1.0])}
    g = loss_fn.backward()
    grads[len(layers)] = g[0].copy()
    steps.append(Step("backward", len(layers), "Backward starts at the loss: dL/dŷ",
                      f"dL/dŷ = 2 (ŷ - y) = {_fmt(g)}", dict(values), dict(grads), {}))
    for k in range(len(layers), 0, -1):
        layer = layers[k - 1]
        g_in = layer.backward(g)
        grads[k - 1] = g_in[0].copy()
        param_grads = {name: p.grad.copy() for name, p in model.named_parameters()
                       if name.split(".")[0] in {str(j) for j in range(k - 1, len(layers))}}
        if isinstance(layer, nn.Linear):
            rule = (f"dL/dW = dL/d{names[k]} · {names[k - 1]}ᵀ,  dL/db = dL/d{names[k]} "
                    f"= {_fmt(layer.bias.grad)},\ndL/d{names[k - 1]} = Wᵀ dL/d{names[k]} "
                    f"= {_fmt(g_in)}")
        else:
            # An elementwise layer's backward of ones is its local derivative.
            local = layer.backward(np.ones_like(g))
            rule = (f"dL/d{names[k - 1]} = dL/d{names[k]} × {type(layer).__name__}'"
                    f"({names[k - 1]}) = {_fmt(g)} × {_fmt(local)}\n= {_fmt(g_in)}")
        steps.append(Step("backward", k - 1, f"Backward through layer {k}: {layer._short()}",
                          rule, dict(values), dict(grads), param_grads))
        g = g_in
    return steps


def _layout(model: nn.Sequential) -> list[np.ndarray]:
    """The y coordinates of the nodes of each column, centred on 0."""
    sizes = [model[0].in_features]
    for module in model:
        sizes.append(module.out_features if isinstance(module, nn.Linear) else sizes[-1])
    sizes.append(1)
    return [(np.arange(n) - (n - 1) / 2) * -2.2 for n in sizes]


def _edge_texts(ax, x0, y0, x1, y1, t):
    """Two lines of text at fraction ``t`` along an edge: the weight (black) and, once
    known, its gradient (vermillion); returns both Text artists."""
    px, py = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
    return [ax.text(px, py + 0.16 - 0.34 * i, "", color=color, fontsize=9, ha="center",
                    va="center", zorder=5,
                    bbox=dict(boxstyle="round,pad=0.12", fc="white", ec="none", alpha=0.9))
            for i, color in enumerate(("black", BACKWARD_COLOR))]


def draw_backprop_step(model: nn.Sequential, steps: list[Step], k: int) -> Figure:
    """The computation graph of ``model`` after step ``k`` of ``steps``.

    Nodes hold values (black) and, once the backward pass reached them,
    gradients dL/d(node) (vermillion). Edges of a Linear layer carry their weight and,
    after its backward step, the weight's gradient; each node's bias sits above it.
    The graph is drawn once; ``fig.parts`` keeps every artist a step changes, and
    ``update_backprop_step(fig, k)`` shows another step in the same figure.
    """
    if not 0 <= k < len(steps):
        raise ValueError(f"step must be in 0..{len(steps) - 1}, got {k}")
    layers = list(model)
    names = _symbols(model)
    ys = _layout(model)
    xs = np.arange(len(ys)) * 3.0
    x_span, y_low, y_high = xs[-1] + 2.8, -4.6, 2.9
    with plots.style():
        # As wide as the course's "wide" figures, as tall as the graph needs (its aspect
        # is fixed): no band under it.
        fig, ax = plots.subplots("wide", layout="none")
        fig.set_size_inches(plots.SIZES["wide"][0],
                            plots.SIZES["wide"][0] * (y_high - y_low) / x_span)
        fig.subplots_adjust(left=0, right=1, bottom=0, top=1)
        ax.set_xlim(-1.4, xs[-1] + 1.4)
        ax.set_ylim(y_low, y_high)
        ax.set_aspect("equal")
        ax.axis("off")
        band = plots.box(ax, xs[0], -0.1, w=1.8, h=4.95, color=FORWARD_COLOR, lw=1.0,
                         rounding=0.1, zorder=0)
        radius = 0.55
        edge_grads, bias_grads = {}, {}
        for c in range(1, len(ys)):   # edges into column c
            layer = layers[c - 1] if c <= len(layers) else None
            for j, yj in enumerate(ys[c]):
                for i, yi in enumerate(ys[c - 1]):
                    if isinstance(layer, nn.Linear) or layer is None or i == j:
                        ax.plot([xs[c - 1] + radius, xs[c] - radius], [yi, yj], color="0.6",
                                lw=1.2, zorder=1)
                if isinstance(layer, nn.Linear):
                    for i, yi in enumerate(ys[c - 1]):
                        # Straight edges labelled near their target, crossing ones
                        # near their source, so no two labels meet.
                        t = 0.4 if len(ys[c]) == 1 else (0.72 if i == j else 0.28)
                        weight, grad = _edge_texts(ax, xs[c - 1] + radius, yi, xs[c] - radius,
                                                   yj, t)
                        weight.set_text(f"w {layer.weight.data[j, i]:+.2f}")
                        edge_grads[(c, j, i)] = grad
                    ax.text(xs[c] + 0.42, yj - 0.5, f"b {layer.bias.data[j]:+.2f}",
                            fontsize=8.5, ha="left", va="top")
                    bias_grads[(c, j)] = ax.text(xs[c] + 0.42, yj - 0.83, "", fontsize=8.5,
                                                 ha="left", va="top", color=BACKWARD_COLOR)
                elif layer is not None:
                    ax.text((xs[c - 1] + xs[c]) / 2, yj + 0.18, type(layer).__name__,
                            fontsize=8.5, ha="center", color="0.35")

        nodes, values, grads = {}, {}, {}
        for c, (x, col_ys) in enumerate(zip(xs, ys, strict=True)):
            ax.text(x, 2.45, names[c], fontsize=14, ha="center", weight="bold")
            if c == 0:
                sub = "input"
            elif c <= len(layers):
                sub = layers[c - 1]._short()
            else:
                sub = "loss"
            ax.text(x, 2.05, sub, fontsize=8.5, ha="center", color="0.35")
            for i, y in enumerate(col_ys):
                nodes[(c, i)] = ax.add_patch(Circle((x, y), radius, zorder=3))
                values[(c, i)] = ax.text(x, y + 0.17, "", ha="center", va="center",
                                         fontsize=10, zorder=4)
                grads[(c, i)] = ax.text(x, y - 0.2, "", ha="center", va="center",
                                        fontsize=8.5, color=BACKWARD_COLOR, zorder=4)

        title = ax.text(xs[0] - 1.3, -3.05, "", fontsize=11.5, weight="bold", va="top")
        formula = ax.text(xs[0] - 1.3, -3.55, "", fontsize=10.5, va="top",
                          family="DejaVu Sans")
        ax.text(xs[-1] + 1.35, -3.05,
                "black: value (forward)\nvermillion ∂: gradient dL/d· (backward)",
                fontsize=9.5, ha="right", va="top", color="0.25")
    fig.parts = SimpleNamespace(steps=steps, xs=xs, band=band, nodes=nodes, values=values,
                                grads=grads, edge_grads=edge_grads, bias_grads=bias_grads,
                                title=title, formula=formula)
    update_backprop_step(fig, k)
    return plots.finish(fig)


def update_backprop_step(fig: Figure, k: int) -> bool:
    """Show step ``k`` in a ``draw_backprop_step`` figure: the values and gradients known
    after it, the highlighted column, the step's title and formula."""
    parts = fig.parts
    steps = parts.steps
    if not 0 <= k < len(steps):
        raise ValueError(f"step must be in 0..{len(steps) - 1}, got {k}")
    step = steps[k]
    color = FORWARD_COLOR if step.phase == "forward" else BACKWARD_COLOR
    parts.band.set_x(parts.xs[step.column] - parts.band.get_width() / 2)
    parts.band.set_edgecolor(color)
    parts.band.set_facecolor(to_rgba(color, 0.10))
    for (c, i), node in parts.nodes.items():
        known = c in step.values
        node.set_facecolor("#eef4fb" if known else "white")
        node.set_edgecolor(color if c == step.column else "0.3")
        node.set_linewidth(2.5 if c == step.column else 1.2)
        parts.values[(c, i)].set_text(f"{step.values[c][i]:.3f}" if known else "")
        parts.grads[(c, i)].set_text(f"∂ {step.grads[c][i]:+.3f}" if c in step.grads else "")
    for (c, j, i), text in parts.edge_grads.items():
        grad = step.param_grads.get(f"{c - 1}.weight")
        text.set_text("" if grad is None else f"∂ {grad[j, i]:+.3f}")
    for (c, j), text in parts.bias_grads.items():
        grad = step.param_grads.get(f"{c - 1}.bias")
        text.set_text("" if grad is None else f"∂ {grad[j]:+.3f}")
    parts.title.set_text(f"step {k} of {len(steps) - 1} ({step.phase}): {step.title}")
    parts.title.set_color(color)
    parts.formula.set_text(step.formula)
    return False


def backprop_moving(fig: Figure) -> list:
    """Every artist a step changes (the rest of the graph is blitted under them)."""
    parts = fig.parts
    return [parts.band, *parts.nodes.values(), *parts.values.values(), *parts.grads.values(),
            *parts.edge_grads.values(), *parts.bias_grads.values(), parts.title,
            parts.formula]


def backprop_stepper(model: nn.Sequential | None = None, loss_fn: nn.Module | None = None,
                     x: np.ndarray | None = None, y: np.ndarray | None = None):
    """A widget: a step slider, ◀ / ▶ buttons and a play button moving through the
    forward pass, then the backward pass, of ``tiny_network()`` (or the network given).
    The graph is drawn once; each step changes only its numbers and colours."""
    import ipywidgets as widgets

    if model is None:
        model, loss_fn, x, y = tiny_network()
    steps = backprop_steps(model, loss_fn, x, y)
    slider = widgets.IntSlider(value=0, min=0, max=len(steps) - 1,
                               description="step (forward, then backward)",
                               style=plots.slider_style(),
                               layout=widgets.Layout(width="420px"))
    back = widgets.Button(description="◀ back", tooltip="the step before",
                          layout=widgets.Layout(width="90px"))
    forward = widgets.Button(description="next ▶", tooltip="the next step",
                             layout=widgets.Layout(width="90px"))

    def move(delta: int):
        def handler(_button):
            slider.value = min(max(slider.value + delta, 0), len(steps) - 1)
        return handler

    back.on_click(move(-1))
    forward.on_click(move(+1))
    # The Play widget counts in the browser and moves the slider (jslink): the picture
    # answers the slider, whatever moved it.
    play = widgets.Play(value=0, min=0, max=len(steps) - 1, interval=1500,
                        description="play all steps", layout=widgets.Layout(width="110px"))
    widgets.jslink((play, "value"), (slider, "value"))

    def draw(step: int) -> Figure:
        return draw_backprop_step(model, steps, step)

    def update(fig: Figure, step: int) -> bool:
        return update_backprop_step(fig, step)

    figure = plots.interactive_figure(draw, {"step": slider}, update=update,
                                      animated=backprop_moving, continuous=True,
                                      name="backprop.backprop_stepper")
    box = widgets.VBox([widgets.HBox([back, slider, forward, play]), *figure.children[1:]])
    box.view, box.controls, box.redraw, box.busy = (figure.view, figure.controls,
                                                    figure.redraw, figure.busy)
    return box
