"""Evaluation on fixed, seeded tasks: means with 95% intervals and paired comparisons."""

from .scoring import query_accuracy, query_mse, results_table
from .stats import MeanCI, count_diverged, fraction_better, mean_ci, paired_difference

__all__ = [
    "MeanCI",
    "count_diverged",
    "fraction_better",
    "mean_ci",
    "paired_difference",
    "query_accuracy",
    "query_mse",
    "results_table",
]
