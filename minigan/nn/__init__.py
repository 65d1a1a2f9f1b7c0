"""Layers with explicit forward and backward passes (see :mod:`minigan.nn.module`)."""

from . import init
from .activations import LeakyReLU, ReLU, Sigmoid, Tanh, sigmoid
from .dense import Dense
from .module import Module
from .pack import Pack
from .sequential import Sequential

__all__ = ["Dense", "Pack", "LeakyReLU", "Module", "ReLU", "Sequential", "Sigmoid", "Tanh", "init", "sigmoid"]
