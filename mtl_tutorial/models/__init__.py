"""Networks the learners adapt."""

from .conv4 import Conv4
from .film import FiLMNetwork
from .in_context import InContextTransformer
from .mlp import MLP

__all__ = ["MLP", "Conv4", "FiLMNetwork", "InContextTransformer"]
