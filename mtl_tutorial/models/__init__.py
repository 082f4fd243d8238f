"""Networks the learners adapt."""

from .film import FiLMNetwork
from .mlp import MLP

__all__ = ["MLP", "FiLMNetwork"]
