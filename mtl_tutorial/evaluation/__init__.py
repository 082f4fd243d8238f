"""Evaluation on fixed, seeded tasks: means with 95% intervals and paired comparisons."""

from .compute import count_flops
from .cost import StepCost, sampled_training_step_cost, training_step_cost
from .memory import peak_tensor_memory
from .scoring import episode_accuracy, query_accuracy, query_mse, results_table
from .stats import MeanCI, count_diverged, diverged_tasks, fraction_better, mean_ci, paired_difference

__all__ = [
    "MeanCI",
    "StepCost",
    "count_diverged",
    "count_flops",
    "diverged_tasks",
    "episode_accuracy",
    "fraction_better",
    "mean_ci",
    "paired_difference",
    "peak_tensor_memory",
    "query_accuracy",
    "query_mse",
    "results_table",
    "sampled_training_step_cost",
    "training_step_cost",
]
