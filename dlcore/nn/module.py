"""``Parameter`` and ``Module`` (``Sequential`` and ``ModuleList`` are in ``container.py``).

The one difference from PyTorch that the course is about: there is no autograd.
Every module writes both halves of its computation by hand:

* ``forward(x)`` computes the output and keeps what the backward pass will need
  (in ``self._cache``);
* ``backward(grad_out)`` receives dLoss/dOutput, *adds* (``+=``) dLoss/dParameter
  into each parameter's ``.grad`` and returns dLoss/dInput for the layer before.

Everything else (registration by attribute, ``parameters()``, ``state_dict()``
with PyTorch's keys, ``train()``/``eval()``, ``repr``) mirrors ``torch.nn.Module``
so that code and weights carry over either way.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` did not match (only non-empty with ``strict=False``)."""
    missing_keys: list[str]
    unexpected_keys: list[str]


class Parameter:
    """A learnable array: ``.data`` holds its values, ``.grad`` dLoss/d(data).

    ``.grad`` has the shape of ``.data`` and starts at zero; backward passes
    add into it and ``zero_grad()`` resets it. Set ``requires_grad = False`` to
    freeze it: optimizers then leave it alone.
    """

    def __init__(self, data: Any, requires_grad: bool = True):
        array = np.array(data, copy=True)
        if array.dtype.kind not in "f":
            array = array.astype(np.float32)
        self.data = array
        self.grad = np.zeros_like(array)
        self.requires_grad = requires_grad

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def numel(self) -> int:
        return int(self.data.size)

    def zero_grad(self) -> None:
        self.grad[...] = 0

    def requires_grad_(self, requires_grad: bool = True) -> Parameter:
        self.requires_grad = requires_grad
        return self

    def __repr__(self) -> str:
        frozen = "" if self.requires_grad else ", requires_grad=False"
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype}{frozen})"


class Module:
    """Base class of every layer, loss and model.

    Subclasses call ``super().__init__()`` first, then assign parameters,
    submodules and buffers as attributes; they implement ``forward`` and
    ``backward``.
    """

    training: bool
    #: True where ``backward(grad_out, input_grad=False)`` is implemented: it fills the
    #: parameters' ``.grad`` but skips the gradient for the input (a training step never
    #: needs dL/d(data)). Linear, Conv2d, the recurrent layers, Sequential and LastStep
    #: declare it; a learner's own Module need not.
    skips_input_grad: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A class that writes its own backward skips the input gradient only if it says
        # so: a learner's subclass of Linear with backward(grad_out) is called plainly.
        if "backward" in cls.__dict__ and "skips_input_grad" not in cls.__dict__:
            cls.skips_input_grad = False

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_cache", None)

    # -- registration ------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}.__init__ must call super().__init__() "
                f"before assigning self.{name}")
        if name in self._parameters and not isinstance(value, Parameter | None):
            raise TypeError(f"cannot assign a {type(value).__name__} to parameter '{name}' of "
                            f"{type(self).__name__} (a Parameter or None expected); to change "
                            f"its values write self.{name}.data[...] = new_values")
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._buffers.pop(name, None)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._buffers.pop(name, None)
            self._modules[name] = value
        elif name in self._buffers:
            self._buffers[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._modules, self._buffers):
            registry.pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, array: np.ndarray | None) -> None:
        """A state array that is saved in ``state_dict`` but not trained
        (BatchNorm's running statistics)."""
        self._buffers[name] = array
        object.__setattr__(self, name, array)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is None:
            self._parameters.pop(name, None)
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    def add_module(self, name: str, module: Module) -> None:
        setattr(self, name, module)

    # -- the two passes ----------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        raise NotImplementedError(
            f"{type(self).__name__} must implement backward(grad_out): add the "
            "gradient of each parameter into its .grad and return the input gradient")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def _saved(self) -> Any:
        """What ``forward`` kept for ``backward``; a clear error if nothing."""
        if self._cache is None:
            raise RuntimeError(f"{self._short()}: backward() was called before forward(). "
                               "Run the forward pass first, then backward once per forward.")
        return self._cache

    def _short(self) -> str:
        """A short name for error messages, such as ``Linear(64 -> 10)``."""
        return f"{type(self).__name__}({self.extra_repr()})"

    def _check_grad_out(self, grad_out: Any, shape: tuple) -> np.ndarray:
        """``grad_out`` as an array of the output's ``shape``, or a clear error
        (NumPy would otherwise broadcast a wrong shape silently)."""
        grad_out = np.asarray(grad_out)
        if grad_out.shape != tuple(shape):
            hint = (": a single number, the loss itself? Pass the gradient, "
                    "model.backward(loss_fn.backward())" if grad_out.ndim == 0 else "")
            raise ValueError(f"{self._short()} backward expected grad_out of shape "
                             f"{tuple(shape)} (the shape of its output), got "
                             f"{grad_out.shape}{hint}")
        return grad_out

    # -- traversal ---------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        yield prefix, self
        for name, module in self._modules.items():
            yield from module.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix: str = "", recurse: bool = True
                         ) -> Iterator[tuple[str, Parameter]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, param in module._parameters.items():
                if param is None or id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        for module_name, module in self.named_modules(prefix):
            for name, buf in module._buffers.items():
                if buf is not None:
                    yield (f"{module_name}.{name}" if module_name else name), buf

    def apply(self, fn) -> Module:
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # -- modes and gradients -------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self) -> None:
        for param in self.parameters():
            param.zero_grad()

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze (True) every parameter of this module."""
        for param in self.parameters():
            param.requires_grad = requires_grad
        return self

    def _cast(self, dtype: type) -> Module:
        for module in self.modules():
            for param in module._parameters.values():
                if param is not None:
                    param.data = param.data.astype(dtype)
                    param.grad = param.grad.astype(dtype)
            for name, buf in module._buffers.items():
                if buf is not None and buf.dtype.kind == "f":
                    module._buffers[name] = buf.astype(dtype)
                    object.__setattr__(module, name, module._buffers[name])
        return self

    def double(self) -> Module:
        """Cast parameters and buffers to float64 (for gradient checks)."""
        return self._cast(np.float64)

    def float(self) -> Module:
        """Cast parameters and buffers to float32 (the default)."""
        return self._cast(np.float32)

    # -- state dict ---------------------------------------------------------
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Copies of every parameter and buffer under PyTorch's keys."""
        state: OrderedDict[str, np.ndarray] = OrderedDict()
        for module_name, module in self.named_modules():
            prefix = f"{module_name}." if module_name else ""
            for name, param in module._parameters.items():
                if param is not None:
                    state[prefix + name] = param.data.copy()
            for name, buf in module._buffers.items():
                if buf is not None:
                    state[prefix + name] = np.array(buf, copy=True)
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any],
                        strict: bool = True) -> IncompatibleKeys:
        """Copy values in by key; takes NumPy arrays or torch tensors.

        Every key and shape is checked before anything is copied, so a failed
        load leaves the module as it was. Raises ``KeyError`` naming the missing
        and unexpected keys (unless ``strict=False``, which loads the keys both
        sides have) and ``ValueError`` naming each key whose shape differs.
        Values are copied into the module's own arrays and keep their dtype.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict for {type(self).__name__} expects a dict such "
                            f"as model.state_dict(), got {type(state_dict).__name__}")
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if unexpected:
                parts.append(f"unexpected keys {unexpected}")
            raise KeyError(f"load_state_dict for {type(self).__name__}: " + "; ".join(parts))
        values = {}
        wrong = []
        for key in own:
            if key not in state_dict:
                continue
            value = state_dict[key]
            if hasattr(value, "detach"):  # a torch tensor
                value = value.detach().cpu().numpy()
            values[key] = np.asarray(value)
            if values[key].shape != own[key].shape:
                wrong.append(f"'{key}' has shape {own[key].shape} here but "
                             f"{values[key].shape} in the state dict")
        if wrong:
            raise ValueError(f"load_state_dict for {type(self).__name__}: " + "; ".join(wrong))
        # Copy into the existing arrays, as torch's param.copy_(value) does.
        for module_name, module in self.named_modules():
            prefix = f"{module_name}." if module_name else ""
            for name, param in module._parameters.items():
                if param is not None and prefix + name in values:
                    param.data[...] = values[prefix + name]
            for name, buf in module._buffers.items():
                if isinstance(buf, np.ndarray) and prefix + name in values:
                    buf[...] = values[prefix + name]
                elif buf is not None and prefix + name in values:   # a plain number
                    setattr(module, name, values[prefix + name].copy())
        return IncompatibleKeys(missing, unexpected)

    # -- printing ------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        if not self._modules:
            return f"{type(self).__name__}({extra})"
        lines = [f"{type(self).__name__}("]
        if extra:
            lines.append(f"  {extra}")
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        lines.append(")")
        return "\n".join(lines)
