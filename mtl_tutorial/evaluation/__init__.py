"""Evaluation on fixed, seeded tasks: means with 95% intervals and paired comparisons."""

from .regression import query_mse, results_table
from .stats import MeanCI, mean_ci, paired_difference

__all__ = ["MeanCI", "mean_ci", "paired_difference", "query_mse", "results_table"]
