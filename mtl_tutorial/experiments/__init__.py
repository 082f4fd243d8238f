"""Whole experiments, shared by the command-line tool and the book."""

from .sinusoid import PAPER_SINUSOID_K5, SinusoidBudget, reproduce_sinusoid
from .trends import (
    MetaGradientCost,
    TrainingCurve,
    flops_per_iteration,
    meta_gradient_cost,
    seconds_per_iteration,
    train_with_checkpoints,
)

__all__ = [
    "PAPER_SINUSOID_K5",
    "MetaGradientCost",
    "SinusoidBudget",
    "TrainingCurve",
    "flops_per_iteration",
    "meta_gradient_cost",
    "reproduce_sinusoid",
    "seconds_per_iteration",
    "train_with_checkpoints",
]
