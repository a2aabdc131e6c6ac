"""Layers, losses and initialisation, named and laid out as in ``torch.nn``."""
from . import functional, init
from .activation import GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .linear import Flatten, Identity, Linear
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import Module, ModuleList, Parameter, Sequential

__all__ = [
    "functional", "init", "Module", "ModuleList", "Parameter", "Sequential",
    "Linear", "Flatten", "Identity",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "Softmax",
    "MSELoss", "CrossEntropyLoss", "BCEWithLogitsLoss",
]
