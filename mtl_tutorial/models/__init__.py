"""Networks the learners adapt."""

from .mlp import MLP

__all__ = ["MLP"]
