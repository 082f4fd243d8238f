"""Whole experiments, shared by the command-line tool and the book."""

from .sinusoid import PAPER_SINUSOID_K5, SinusoidBudget, reproduce_sinusoid

__all__ = ["PAPER_SINUSOID_K5", "SinusoidBudget", "reproduce_sinusoid"]
