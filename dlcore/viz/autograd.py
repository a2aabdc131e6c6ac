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
    """What ``set_graph_step`` changes. The graph itself (boxes, names, values, circles,
    arrows) is drawn once and never changes; over it, per node, a grey veil (its
    ``_backward`` has run), a vermillion outline (the node of this step) and its
    gradient, and per operation a vermillion copy of its circle, name and arrows (the
    operation of this step). ``moving`` lists those, in drawing order: a widget redraws
    just them at each step (``FigureView`` layers), not the whole graph."""
    order: list
    veils: dict                 # id(node) -> patch, shown once the node is done
    outlines: dict              # id(node) -> patch, shown for the step's node
    grads: dict                 # id(node) -> text, "" until the node is reached
    ops: dict                   # id(node) -> [circle, name, *arrows], shown while active
    title: object               # the two lines under the graph (None: shown elsewhere)
    formula: object
    moving: list = field(default_factory=list)


def draw_graph(out: Value, steps: list[GraphStep] | None = None, k: int | None = None,
               caption: bool = True) -> Figure:
    """The computation graph of ``out``: a box per value (its name, value in black
    and, once reached, gradient in vermillion), a circle per operation. With ``steps``
    and ``k``, the state after step ``k`` of ``backward_steps``: the node just
    processed outlined in vermillion, the nodes done before it greyed, and under the
    graph what the step did
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
    """Draw the graph of ``out`` on a ``draw_graph`` figure, in place of the one there."""
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
    parts = GraphParts(order, {}, {}, {}, {}, None, None)
    with plots.style():
        for node in order:
            x, y = where[id(node)]
            if not node._prev:
                continue
            ox = x - 1.0
            # (add_artist, not add_patch: the limits are set, none to widen)
            ax.add_artist(Circle((ox, y), 0.28, fc="#fdf3e1", ec="0.4", lw=1.2, zorder=3))
            ax.text(ox, y, node._op, ha="center", va="center", fontsize=9.5, zorder=4)
            ax.add_artist(Line2D([ox + 0.28, x - box_w / 2], [y, y], color="0.5", lw=1.1,
                                 zorder=1))
            active = [Circle((ox, y), 0.28, fc="#fde2e2", ec=BACKWARD_COLOR, lw=1.2,
                             zorder=6.5),
                      ax.text(ox, y, node._op, ha="center", va="center", fontsize=9.5,
                              zorder=7)]
            ax.add_artist(active[0])
            for child in dict.fromkeys(node._prev):
                _edge(ax, where[id(child)], (x, y), box_w, "0.6", 1.0, 2)   # drawn once
                active.append(_edge(ax, where[id(child)], (x, y), box_w, BACKWARD_COLOR,
                                    2.0, 6))                               # over it
            parts.ops[id(node)] = active
        for node in order:
            x, y = where[id(node)]
            plots.box(ax, x, y, color="0.3", w=box_w, h=box_h, fc="#eef4fb", lw=1.1,
                      rounding=0.08, autoscale=False)
            # A node that is done is greyed by a veil so light that the black text under
            # it stays black (drawing it over the text keeps the text out of each step).
            parts.veils[id(node)] = plots.box(ax, x, y, color="none", w=box_w, h=box_h,
                                              fc=(0.5, 0.5, 0.5, 0.16), lw=0, rounding=0.08,
                                              zorder=5, autoscale=False)
            parts.outlines[id(node)] = plots.box(ax, x, y, color=BACKWARD_COLOR, w=box_w,
                                                 h=box_h, fc="none", lw=2.5, rounding=0.08,
                                                 zorder=5.5, autoscale=False)
            ax.text(x, y + 0.2, node.label, ha="center", va="center", fontsize=10,
                    weight="bold", zorder=4)
            ax.text(x, y - 0.02, f"{node.data:.4g}", ha="center", va="center", fontsize=9.5,
                    zorder=4)
            parts.grads[id(node)] = ax.text(x, y - 0.23, "", ha="center", va="center",
                                            fontsize=9, color=BACKWARD_COLOR, zorder=7.5)
        if caption:
            low = -max(height, 1.0) - 0.7
            parts.title = ax.text(-0.9, low, "", fontsize=11, weight="bold", va="top",
                                  zorder=8)
            parts.formula = ax.text(-0.9, low - 0.45, "", fontsize=10, va="top", zorder=8)
        ax.text(right - 0.05, top - 0.1, "black: value (forward)\n"
                "vermillion ∂: ∂out/∂(node) (backward)", fontsize=9, ha="right", va="top",
                color="0.25")
    # Drawn in the order a full drawing draws them (by zorder, then as added), so a
    # widget that redraws only these over the rest paints the same pixels.
    moving = [*parts.veils.values(), *parts.outlines.values(), *parts.grads.values(),
              *(artist for op in parts.ops.values() for artist in op)]
    if caption:
        moving += [parts.title, parts.formula]
    added = {id(artist): i for i, artist in enumerate(ax.get_children())}
    parts.moving = sorted(moving, key=lambda a: (a.get_zorder(), added[id(a)]))
    fig.parts = parts
    for artist in parts.moving:              # no step yet: no gradient, nothing marked
        if artist in parts.grads.values():
            artist.set_text("")
        elif artist not in (parts.title, parts.formula):
            artist.set_visible(False)


def _edge(ax, start, end, box_w: float, color, lw: float, zorder: float):
    """The arrow from the box at ``start`` into the circle of the operation whose box
    is at ``end``."""
    (cx, cy), (x, y) = start, end
    ox = x - 1.0
    if x - cx < 2.5:                     # from the column just left: a straight arrow
        return plots.arrow(ax, (cx + box_w / 2, cy), (ox - 0.26, y), color=color, lw=lw,
                           size=10, zorder=zorder, autoscale=False)
    # From further left: leave level, arrive from above or below the circle, dashed and
    # over the boxes it crosses so it can always be followed.
    above = cy >= y
    patch = plots.arrow(ax, (cx + box_w / 2, cy + (0.25 if above else -0.25)),
                        (ox, y + (0.28 if above else -0.28)), color=color, lw=lw, size=10,
                        curve=-0.25 if above else 0.25, zorder=max(zorder, 3.5),
                        autoscale=False)
    patch.set_linestyle("--")
    return patch


def set_graph_step(fig: Figure, steps: list[GraphStep], k: int) -> None:
    """Show the state after step ``k`` of ``steps`` on a ``draw_graph`` figure."""
    if not 0 <= k < len(steps):
        raise ValueError(f"step must be in 0..{len(steps) - 1}, got {k}")
    parts, step = fig.parts, steps[k]
    for node in parts.order:
        parts.veils[id(node)].set_visible(id(node) in step.done)
        parts.outlines[id(node)].set_visible(step.node is node)
        grad = step.grads.get(id(node))
        parts.grads[id(node)].set_text("" if grad is None else f"∂ {grad:+.4g}")
        for artist in parts.ops.get(id(node), ()):
            artist.set_visible(step.node is node and k > 1)
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
    slider, ◀ / ▶ buttons (each off at its end of the pass); what the step did is
    written above the graph (``step_caption``).

    Each expression's graph is drawn once, with its own figure: a step redraws only
    what ``GraphParts.moving`` lists (gradients, outline, greyed boxes, the active
    operation) over it, and the examples are drawn when the widget is built, so
    picking one only redraws those."""
    import collections

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
    picture = None                       # the one Image every expression's view paints
    graphs: collections.OrderedDict = collections.OrderedDict()   # text -> (out, steps, view)
    state: dict = {}

    def graph(expr: str):
        """The expression's graph, its steps and a view of it, drawn once and kept."""
        nonlocal picture
        if expr in graphs:
            graphs.move_to_end(expr)
            return graphs[expr]
        out = parse_expression(expr)
        steps = backward_steps(out)
        fig = draw_graph(out, steps, 0, caption=False)
        view = widgets.FigureView(fig, layers=[fig.parts.moving], name="backward_stepper")
        if picture is None:
            picture = view.widget
        view.widget = picture
        graphs[expr] = (out, steps, view)
        while len(graphs) > 16:
            graphs.popitem(last=False)
        return graphs[expr]

    def load(_change=None) -> None:
        start = time.perf_counter()
        try:
            out, steps, view = graph(text.value)
        except ExpressionError as err:
            status.value = f"<span style='color:{BACKWARD_COLOR}'>{err}</span>"
            return
        values = ", ".join(f"{k} = {v:g}" for k, v in VARIABLES.items())
        status.value = f"out = {out.data:.6g}, with {values}"
        state.update(out=out, steps=steps, view=view)
        box.view = view
        with slider.hold_sync():
            slider.unobserve(show, "value")
            slider.max = len(steps) - 1
            slider.value = 0
            slider.observe(show, "value")
        show(control="expression", start=start)

    def show(_change=None, control: str = "step", start: float | None = None) -> None:
        start = time.perf_counter() if start is None else start
        k = slider.value
        set_graph_step(state["view"].fig, state["steps"], k)
        caption.value = step_caption(state["steps"], k)
        back.disabled, forward.disabled = k == 0, k == slider.max
        # the whole graph the first time (then kept), after that only what moves
        state["view"].refresh(control=control,
                              compute_ms=1e3 * (time.perf_counter() - start))

    def move(delta: int):
        def handler(_button):
            slider.value = min(max(slider.value + delta, 0), slider.max)
        return handler

    for example in (*EXAMPLES, expression):           # drawn now, shown when picked
        try:
            graph(example)[2].show(control="(first)")
        except ExpressionError:
            pass
    examples.observe(lambda change: setattr(text, "value", change["new"]), "value")
    text.observe(load, "value")
    slider.observe(show, "value")
    back.on_click(move(-1))
    forward.on_click(move(+1))
    box = ipw.VBox([ipw.HBox([examples, text]), status, ipw.HBox([back, slider, forward]),
                    caption, picture])
    box.state, box.caption = state, caption
    load()
    return box
