"""Networks the learners adapt."""

from .conv4 import Conv4
from .film import FiLMNetwork
from .mlp import MLP

__all__ = ["MLP", "Conv4", "FiLMNetwork"]
