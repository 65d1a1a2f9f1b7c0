"""Layers with explicit forward and backward passes (see :mod:`minigan.nn.module`)."""

from . import init
from .activations import LeakyReLU, ReLU, Sigmoid, Tanh, sigmoid
from .dense import Dense
from .dropout import Dropout
from .instance_noise import InstanceNoise
from .module import Module
from .pack import Pack
from .sequential import Sequential
from .spectral_norm import SpectralNorm
from .translate import RandomTranslate

__all__ = ["Dense", "Dropout", "InstanceNoise", "LeakyReLU", "Module", "Pack", "RandomTranslate", "ReLU", "Sequential",
           "Sigmoid", "SpectralNorm", "Tanh", "init", "sigmoid"]
