"""minigan: a generative adversarial network built by hand in NumPy.

Companion code to a Chinese article on GANs for image generation: every layer has an
explicit forward and backward pass, every gradient can be checked, and the article's
generator and discriminator (section 4) train on real handwritten digits.
"""

from . import gradcheck, losses, nn, optim
from .gan import GAN, StepStats, build_discriminator, build_generator

__version__ = "0.1.0"

__all__ = ["GAN", "StepStats", "build_discriminator", "build_generator", "gradcheck", "losses", "nn", "optim"]
