"""Lesson 14's widget: type an expression, see its computation graph, and step
through its backward pass node by node.

``parse_expression`` (from ``dlcore/autograd/expression.py``, where it is
explained) reads text such as ``"tanh(a * b + c)"`` into a graph of
``dlcore.autograd.Value``s without ever running it as Python.

``backward_steps`` runs the backward pass one node at a time, in reverse
topological order, exactly as ``Value.backward`` does, and records what each
step adds to which gradient; ``draw_graph`` draws the graph after any step;
``backward_stepper`` wraps them in a text box, a step slider and buttons.

    from dlcore.viz import autograd as viz
    out = viz.parse_expression("a * b + a")
    steps = viz.backward_steps(out)
    viz.draw_graph(out, steps, len(steps) - 1)
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle

from ..autograd import Value, topological_order
from ..autograd.expression import VARIABLES, ExpressionError, parse_expression
from . import plots

__all__ = ["EXAMPLES", "VARIABLES", "ExpressionError", "parse_expression", "GraphStep",
           "backward_steps", "draw_graph", "set_graph", "set_graph_step", "step_caption",
           "backward_stepper"]

FORWARD_COLOR, BACKWARD_COLOR = plots.FORWARD_COLOR, plots.BACKWARD_COLOR
EXAMPLES = ("a * b + c", "a * a", "tanh(x * y + x)", "(a + b) * (a - b)",
            "exp(x) / (exp(x) + 1)", "relu(a * b + c) * x", "log(a ** 2 + 1)")
_RULES = {"+": "∂(u+v)/∂u = 1", "*": "∂(u·v)/∂u = v", "tanh": "∂tanh(u)/∂u = 1 - tanh²(u)",
          "exp": "∂eᵘ/∂u = eᵘ", "log": "∂ln(u)/∂u = 1/u", "relu": "∂relu(u)/∂u = 1 if u > 0"}


@dataclass
class GraphStep:
    """What the backward pass knows after one step.

    Attributes:
        node: the node whose ``_backward`` ran in this step (None before the seed).
        title: one line naming the step.
        formula: what was added to which gradient, with the numbers.
        grads: ``id(node)`` -> its gradient so far, for every node reached.
        done: ids of the nodes whose ``_backward`` has run.
    """
    node: Value | None
    title: str
    formula: str
    grads: dict[int, float] = field(default_factory=dict)
    done: frozenset[int] = frozenset()


def _rule(op: str) -> str:
    if op.startswith("**"):
        k = op[2:]
        return f"∂(u^{k})/∂u = {k}·u^({k}-1)"
    return _RULES.get(op, "")


def backward_steps(out: Value) -> list[GraphStep]:
    """Run ``out``'s backward pass one node at a time and record each step:
    step 0 the forward pass only, step 1 the seed dout/dout = 1, then one step
    per inner node, in reverse topological order. Gradients are reset to 0
    first; at the end every ``.grad`` holds what ``out.backward()`` gives."""
    order = topological_order(out)
    for node in order:
        node.grad = 0.0
    steps = [GraphStep(None, "Forward pass done: every value known, no gradient yet",
                       "Next: seed the output's gradient.")]
    out.grad = 1.0
    reached = {id(out): 1.0}
    steps.append(GraphStep(out, "Seed: ∂out/∂out = 1",
                           "The output's gradient with respect to itself is 1: the chain "
                           "rule starts here.", dict(reached)))
    done: set[int] = set()
    for node in reversed(order):
        if not node._prev:
            continue
        before = {id(child): child.grad for child in node._prev}
        node._backward()
        done.add(id(node))
        parts = []
        for child in dict.fromkeys(node._prev):          # a child used twice, once
            reached[id(child)] = child.grad
            added = child.grad - before[id(child)]
            uses = sum(c is child for c in node._prev)
            twice = " (used twice: both shares add)" if uses > 1 else ""
            parts.append(f"∂{child.label} += {added:+.4g}  →  {child.grad:+.4g}{twice}")
        inputs = ", ".join(c.label for c in node._prev)
        steps.append(GraphStep(node, f"Backward through {node.label} = {node._op}({inputs}), "
                                     f"with ∂{node.label} = {node.grad:+.4g}",
                               f"{_rule(node._op)};   " + ";   ".join(parts),
                               dict(reached), frozenset(done)))
    return steps


def _layout(out: Value) -> dict[int, tuple[float, float]]:
    """(x, y) of each node: x by depth (output right), y spread within a column.
    An inner node sits one column right of its deepest input; a leaf sits just
    left of its first user, so no edge passes under another box."""
    order = topological_order(out)
    depth: dict[int, int] = {}
    users: dict[int, list[Value]] = {}
    for node in order:
        depth[id(node)] = 1 + max((depth[id(c)] for c in node._prev), default=-1)
        for child in node._prev:
            users.setdefault(id(child), []).append(node)
    for node in order:
        if not node._prev and id(node) in users:
            depth[id(node)] = min(depth[id(u)] for u in users[id(node)]) - 1
    columns: dict[int, list[Value]] = {}
    for node in order:
        columns.setdefault(depth[id(node)], []).append(node)
    where = {}
    for d, nodes in columns.items():
        nodes.sort(key=lambda n: bool(n._prev), reverse=True)   # inner nodes on top
        for i, node in enumerate(nodes):
            where[id(node)] = (2.0 * d, (len(nodes) - 1) / 2 - i)
    return where


@dataclass
class GraphParts:
    """The artists ``set_graph_step`` changes: per node its box and gradient text, per
    operation its circle and arrows, and the two lines saying what the step did."""
    order: list
    boxes: dict
    grads: dict
    circles: dict
    arrows: dict
    title: object               # the two lines under the graph (None: shown elsewhere)
    formula: object


def draw_graph(out: Value, steps: list[GraphStep] | None = None, k: int | None = None,
               caption: bool = True) -> Figure:
    """The computation graph of ``out``: a box per value (its name, value in black
    and, once reached, gradient in vermillion), a circle per operation. With ``steps``
    and ``k``, the state after step ``k`` of ``backward_steps``, the node just
    processed outlined in vermillion, and under the graph what the step did
    (``caption=False``: not in the figure; ``step_caption`` gives it as HTML).
    ``fig.parts`` (a ``GraphParts``) holds what ``set_graph_step`` moves to another
    step; ``set_graph`` draws another graph on it."""
    if steps is not None and not 0 <= (k or 0) < len(steps):
        raise ValueError(f"step must be in 0..{len(steps) - 1}, got {k}")
    with plots.style():
        fig, ax = plots.subplots("wide", layout=None)
    if not caption:
        fig.set_size_inches(10.0, 3.4)          # "wide", without the two lines under it
    ax.axis("off")
    fig.subplots_adjust(left=0.01, right=0.99, top=0.99, bottom=0.01)
    set_graph(fig, out, caption)
    if steps is not None:
        set_graph_step(fig, steps, k or 0)
    return plots.finish(fig)


def set_graph(fig: Figure, out: Value, caption: bool = True) -> None:
    """Draw the graph of ``out`` on a ``draw_graph`` figure, in place of the one there
    (the widget keeps one figure: a new expression then costs one drawing, not a new
    figure laid out and drawn)."""
    ax = fig.axes[0]
    for artist in [*ax.patches, *ax.texts, *ax.lines]:
        artist.remove()
    where = _layout(out)
    order = topological_order(out)
    width = max(x for x, _ in where.values())
    height = max(abs(y) for _, y in where.values())
    fig_w, fig_h = fig.get_size_inches()
    # Limits in the figure's proportions, so circles stay round and a small graph small.
    left, right = -1.0, max(width, 8.0) + 1.0
    bottom, top = -max(height, 1.0) - (1.6 if caption else 0.8), max(height, 1.0) + 0.8
    ratio = fig_h / fig_w
    if top - bottom < ratio * (right - left):
        pad = (ratio * (right - left) - (top - bottom)) / 2
        bottom, top = bottom - pad, top + pad
    else:
        right = left + (top - bottom) / ratio
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    box_w, box_h = 1.3, 0.72
    boxes, grads, circles, arrows = {}, {}, {}, {}
    with plots.style():
        for node in order:
            x, y = where[id(node)]
            if not node._prev:
                continue
            ox = x - 1.0
            circles[id(node)] = circle = Circle((ox, y), 0.28, fc="#fdf3e1", ec="0.4", lw=1.2,
                                                zorder=3)
            ax.add_artist(circle)    # (not add_patch: the limits are set, none to widen)
            ax.text(ox, y, node._op, ha="center", va="center", fontsize=9.5, zorder=4)
            ax.add_artist(Line2D([ox + 0.28, x - box_w / 2], [y, y], color="0.5", lw=1.1,
                                 zorder=1))
            arrows[id(node)] = []
            for child in dict.fromkeys(node._prev):
                cx, cy = where[id(child)]
                if x - cx < 2.5:             # from the column just left: a straight arrow
                    arrows[id(node)].append(plots.arrow(
                        ax, (cx + box_w / 2, cy), (ox - 0.26, y), color="0.6", lw=1.0,
                        size=10, zorder=2, autoscale=False))
                    continue
                # From further left: leave level, arrive from above or below the circle,
                # dashed and over the boxes it crosses so it can always be followed.
                above = cy >= y
                patch = plots.arrow(ax, (cx + box_w / 2, cy + (0.25 if above else -0.25)),
                                    (ox, y + (0.28 if above else -0.28)), color="0.6", lw=1.0,
                                    size=10, curve=-0.25 if above else 0.25, zorder=3.5,
                                    autoscale=False)
                patch.set_linestyle("--")
                arrows[id(node)].append(patch)
        for node in order:
            x, y = where[id(node)]
            boxes[id(node)] = plots.box(ax, x, y, color="0.3", w=box_w, h=box_h, fc="#eef4fb",
                                        lw=1.1, rounding=0.08, autoscale=False)
            ax.text(x, y + 0.2, node.label, ha="center", va="center", fontsize=10,
                    weight="bold", zorder=4)
            ax.text(x, y - 0.02, f"{node.data:.4g}", ha="center", va="center", fontsize=9.5,
                    zorder=4)
            grads[id(node)] = ax.text(x, y - 0.23, "", ha="center", va="center", fontsize=9,
                                      color=BACKWARD_COLOR, zorder=4)
        title = formula = None
        if caption:
            low = -max(height, 1.0) - 0.7
            title = ax.text(-0.9, low, "", fontsize=11, weight="bold", va="top")
            formula = ax.text(-0.9, low - 0.45, "", fontsize=10, va="top")
        ax.text(right - 0.05, top - 0.1, "black: value (forward)\n"
                "vermillion ∂: ∂out/∂(node) (backward)", fontsize=9, ha="right", va="top",
                color="0.25")
    fig.parts = GraphParts(order, boxes, grads, circles, arrows, title, formula)


def set_graph_step(fig: Figure, steps: list[GraphStep], k: int) -> None:
    """Show the state after step ``k`` of ``steps`` on a ``draw_graph`` figure."""
    if not 0 <= k < len(steps):
        raise ValueError(f"step must be in 0..{len(steps) - 1}, got {k}")
    parts, step = fig.parts, steps[k]
    for node in parts.order:
        current = step.node is node
        done = id(node) in step.done
        box = parts.boxes[id(node)]
        box.set_facecolor("#f4f4f4" if done else "#eef4fb")
        box.set_edgecolor(BACKWARD_COLOR if current else "0.3")
        box.set_linewidth(2.5 if current else 1.1)
        grad = step.grads.get(id(node))
        parts.grads[id(node)].set_text("" if grad is None else f"∂ {grad:+.4g}")
        if id(node) in parts.circles:
            active = current and k > 1
            parts.circles[id(node)].set_facecolor("#fde2e2" if active else "#fdf3e1")
            parts.circles[id(node)].set_edgecolor(BACKWARD_COLOR if active else "0.4")
            for patch in parts.arrows[id(node)]:
                patch.set_color(BACKWARD_COLOR if active else "0.6")
                patch.set_linewidth(2.0 if active else 1.0)
    if parts.title is not None:
        parts.title.set_text(f"step {k} of {len(steps) - 1}: {step.title}")
        parts.title.set_color(BACKWARD_COLOR if k else FORWARD_COLOR)
        parts.formula.set_text(step.formula)


def step_caption(steps: list[GraphStep], k: int) -> str:
    """What step ``k`` did, as HTML: the two lines ``draw_graph`` writes under the graph.
    (The widget shows them as text beside the figure: drawing them in it every step
    cost more than the whole graph.)"""
    import html

    step = steps[k]
    color = BACKWARD_COLOR if k else FORWARD_COLOR
    return (f"<div style='font-size:14px;font-weight:bold;color:{color}'>"
            f"step {k} of {len(steps) - 1}: {html.escape(step.title)}</div>"
            f"<div style='font-size:13px'>{html.escape(step.formula)}</div>")


def backward_stepper(expression: str = EXAMPLES[0]):
    """A widget: an expression (an example to pick, or your own text), a step
    slider, ◀ / ▶ buttons (each off at its end of the pass); the graph's boxes, arrows
    and gradients change in place at each step of the backward pass, what the step did
    is written above it (``step_caption``), and a new expression is drawn on the same
    figure."""
    import ipywidgets as ipw

    from . import widgets

    style = plots.slider_style()
    examples = ipw.Dropdown(options=EXAMPLES, value=expression if expression in EXAMPLES
                            else EXAMPLES[0], description="example", style=style)
    text = ipw.Text(value=expression, description="expression", continuous_update=False,
                    style=style, layout=ipw.Layout(width="360px"))
    status = ipw.HTML()
    caption = ipw.HTML(layout=ipw.Layout(min_height="3.4em", max_width="900px"))
    slider = ipw.IntSlider(value=0, min=0, max=1, description="step of the backward pass",
                           style=style, layout=ipw.Layout(width="420px"))
    back = ipw.Button(description="◀ back", tooltip="one step back",
                      layout=ipw.Layout(width="auto", min_width="90px"))
    forward = ipw.Button(description="next ▶", tooltip="one step forward",
                         layout=ipw.Layout(width="auto", min_width="90px"))
    state: dict = {}

    def load(_change=None) -> None:
        try:
            out = parse_expression(text.value)
        except ExpressionError as err:
            status.value = f"<span style='color:{BACKWARD_COLOR}'>{err}</span>"
            return
        values = ", ".join(f"{k} = {v:g}" for k, v in VARIABLES.items())
        status.value = f"out = {out.data:.6g}, with {values}"
        start = time.perf_counter()
        steps = backward_steps(out)
        if "view" in state:
            set_graph(state["view"].fig, out, caption=False)
            set_graph_step(state["view"].fig, steps, 0)
        else:
            state["view"] = widgets.FigureView(draw_graph(out, steps, 0, caption=False),
                                               name="backward_stepper")
        caption.value = step_caption(steps, 0)
        state.update(out=out, steps=steps)
        slider.unobserve(show, "value")
        slider.max = len(steps) - 1
        slider.value = 0
        slider.observe(show, "value")
        ends()
        state["view"].show(control="expression",
                           compute_ms=1e3 * (time.perf_counter() - start))

    def ends() -> None:
        back.disabled = slider.value == 0
        forward.disabled = slider.value == slider.max

    def show(_change=None) -> None:
        start = time.perf_counter()
        set_graph_step(state["view"].fig, state["steps"], slider.value)
        caption.value = step_caption(state["steps"], slider.value)
        ends()
        state["view"].show(control="step", compute_ms=1e3 * (time.perf_counter() - start))

    def move(delta: int):
        def handler(_button):
            slider.value = min(max(slider.value + delta, 0), slider.max)
        return handler

    examples.observe(lambda change: setattr(text, "value", change["new"]), "value")
    text.observe(load, "value")
    slider.observe(show, "value")
    back.on_click(move(-1))
    forward.on_click(move(+1))
    load()
    box = ipw.VBox([ipw.HBox([examples, text]), status, ipw.HBox([back, slider, forward]),
                    caption, state["view"].widget])
    box.view, box.state, box.caption = state["view"], state, caption
    return box
