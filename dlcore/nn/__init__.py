"""Layers, losses and initialisation, named and laid out as in ``torch.nn``."""
from . import functional, init
from .activation import GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .attention import MultiheadAttention
from .container import ModuleList, Sequential
from .conv import Conv2d
from .dropout import Dropout
from .embedding import Embedding
from .last_step import LastStep
from .linear import Flatten, Identity, Linear
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .pooling import AvgPool2d, MaxPool2d
from .recurrent import GRU, LSTM, RNN
from .transformer import TransformerEncoderLayer

__all__ = [
    "functional", "init", "Module", "ModuleList", "Parameter", "Sequential",
    "Linear", "Flatten", "Identity",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "Softmax",
    "MSELoss", "CrossEntropyLoss", "BCEWithLogitsLoss",
    "Conv2d", "MaxPool2d", "AvgPool2d", "Dropout", "BatchNorm1d", "BatchNorm2d",
    "LayerNorm", "Embedding", "RNN", "LSTM", "GRU", "LastStep",
    "MultiheadAttention", "TransformerEncoderLayer",
]
