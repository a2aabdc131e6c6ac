"""``Sequential`` and ``ModuleList``: modules that hold other modules.

``Sequential.backward`` is the backward pass of a whole network: the children's own
backward passes, called in reverse order, each one's input gradient becoming the
output gradient of the child before it.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from .module import Module


class Sequential(Module):
    """Modules run one after the other; backward walks them in reverse.

    ``Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))`` names its
    children ``0``, ``1``, ``2`` (so the state dict has ``0.weight``...), or
    takes an ``OrderedDict`` of names.
    """

    skips_input_grad = True                 # backward(g, input_grad=False)

    def __init__(self, *modules: Module | Mapping[str, Module]):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            items = list(modules[0].items())
        else:
            items = [(str(i), m) for i, m in enumerate(modules)]
        for name, module in items:
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: child {name} is a {type(module).__name__}, "
                                "not a Module (did you forget the parentheses, nn.ReLU()?)")
            self.add_module(name, module)

    def forward(self, x: Any) -> Any:
        for name, module in self._modules.items():
            try:
                x = module(x)
            except Exception as err:
                _add_note(err, f"  in Sequential child ({name}): {module._short()}")
                raise
        return x

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        if not input_grad:                  # a training step: see _backward_to_weights
            return self._backward_to_weights(grad_out)
        for name, module in reversed(self._modules.items()):
            grad_out = _child_backward(name, module, grad_out)
        return grad_out

    def _backward_to_weights(self, grad_out: np.ndarray) -> None:
        """The backward pass of a training step, which never uses dL/d(data).

        PyTorch skips that gradient because the data does not require grad; here
        ``backward(g, input_grad=False)`` asks for the same: the children in front of
        the first one with trainable parameters are not called (their gradient would
        flow only into the data), and that child skips its input product if it
        declares ``skips_input_grad``. ``fit`` does this; ``backward(g)`` does it all.
        """
        children = list(self._modules.items())
        first = _first_trainable(children)
        for index in reversed(range(first, len(children))):
            name, module = children[index]
            grad_out = _child_backward(name, module, grad_out, last=index == first)
        return None

    def __getitem__(self, index: int | slice) -> Module:
        """``model[0]`` is the first child; ``model[1:]`` a Sequential of the rest
        that shares their weights and keeps their names, as in PyTorch."""
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules, registered so their parameters are found."""

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        for module in modules or []:
            self.append(module)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def __getitem__(self, index: int | slice) -> Module:
        modules = list(self._modules.values())
        return ModuleList(modules[index]) if isinstance(index, slice) else modules[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


# -- helpers of the backward pass -------------------------------------------------------
def _first_trainable(children: list[tuple[str, Module]]) -> int:
    """Index of the first child with a parameter that requires grad (len if none)."""
    for index, (_, module) in enumerate(children):
        if any(p.requires_grad for p in module.parameters()):
            return index
    return len(children)


def backward_to_weights(module: Module, grad_out: np.ndarray) -> None:
    """``module.backward(grad_out)`` for a training step: with ``input_grad=False`` if
    the module declares it (``skips_input_grad``), so the gradient for its input is not
    computed; plainly (and the input gradient dropped) otherwise. Returns None."""
    if module.skips_input_grad:
        module.backward(grad_out, input_grad=False)
    else:
        module.backward(grad_out)


def _child_backward(name: str, module: Module, grad_out: np.ndarray,
                    last: bool = False) -> np.ndarray | None:
    """One child's backward, with the child named in any error it raises; ``last``:
    nothing needs its input gradient (``backward_to_weights``)."""
    try:
        if last:
            return backward_to_weights(module, grad_out)
        return module.backward(grad_out)
    except Exception as err:
        _add_note(err, f"  in Sequential child ({name}) backward: {module._short()}")
        raise


def _add_note(err: BaseException, note: str) -> None:
    """Attach where an error happened without hiding the original traceback."""
    if note not in getattr(err, "__notes__", []):
        err.add_note(note)
