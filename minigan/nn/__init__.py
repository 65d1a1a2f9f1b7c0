"""Layers with explicit forward and backward passes (see :mod:`minigan.nn.module`).

Every layer takes and returns 2-D arrays (N, features).  Images are stored channels-last
and flattened: a row of H W C values is an (H, W, C) image (see :mod:`minigan.nn.conv`),
the one convention of every image layer here and of the judge.
"""

from . import init
from .activations import LeakyReLU, ReLU, Sigmoid, Tanh, sigmoid
from .batchnorm import BatchNorm1d, BatchNorm2d
from .conv import Conv2d, MaxPool2d
from .conv_transpose import ConvTranspose2d
from .dense import Dense
from .dropout import Dropout
from .instance_noise import InstanceNoise
from .module import Module
from .pack import Pack
from .sequential import Sequential
from .spectral_norm import SpectralNorm
from .translate import RandomTranslate

__all__ = ["BatchNorm1d", "BatchNorm2d", "Conv2d", "ConvTranspose2d", "Dense", "Dropout", "InstanceNoise",
           "LeakyReLU", "MaxPool2d", "Module", "Pack", "RandomTranslate", "ReLU", "Sequential", "Sigmoid",
           "SpectralNorm", "Tanh", "init", "sigmoid"]
