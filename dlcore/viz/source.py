"""The engine's code, shown in a lesson: one helper, used everywhere."""
from __future__ import annotations

from typing import Any


def show_source(obj: Any):
    """The source of a function, method or class as a highlighted code block,
    headed by its name and file: how every lesson shows the one true copy of the
    engine's code. ``plots.show_source(nn.Linear.backward)``.

    Returns an ``IPython.display.Markdown``: JupyterLab renders it as Python with
    syntax colours. Its text/plain form is a fixed line; its text/markdown is the
    source itself, which nbval compares too, so a lesson whose printed code has
    changed fails nbval until it is re-executed (as it should). A method inherited
    from a base class is shown with the base's name (``nn.BatchNorm1d.forward``
    is ``BatchNorm.forward``), where its code really is. No line numbers: they
    would change with every edit above the code.
    """
    import inspect
    import textwrap
    from pathlib import Path

    from IPython.display import Markdown

    try:
        path = Path(inspect.getsourcefile(obj)).resolve()
        code = textwrap.dedent(inspect.getsource(obj)).rstrip()
    except (TypeError, OSError) as err:
        raise TypeError(f"show_source: no Python source to show for {obj!r} (a function, "
                        "method or class defined in a .py file is needed)") from err
    package = Path(__file__).resolve().parents[1]          # .../dlcore
    where = (path.relative_to(package.parent) if package in path.parents else path).as_posix()
    name = getattr(obj, "__qualname__", getattr(obj, "__name__", ""))
    return Markdown(f"`{name}`, from `{where}`:\n\n```python\n{code}\n```")
