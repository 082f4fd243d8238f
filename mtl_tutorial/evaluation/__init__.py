"""Evaluation on fixed, seeded tasks: means with 95% intervals and paired comparisons."""

from .compute import count_flops
from .cost import (
    AdaptationCost,
    StepCost,
    TrainingClock,
    adaptation_cost,
    cpu_ms_per_task,
    fastest_seconds,
    sampled_training_step_cost,
    training_step_cost,
)
from .memory import peak_tensor_memory
from .scoring import episode_accuracy, fits_after_steps, query_accuracy, query_mse, results_table
from .stats import (
    MeanCI,
    ScoreSummary,
    count_diverged,
    difference_verdict,
    diverged_tasks,
    fraction_better,
    mean_ci,
    paired_difference,
    summarise,
)

__all__ = [
    "AdaptationCost",
    "MeanCI",
    "ScoreSummary",
    "StepCost",
    "TrainingClock",
    "adaptation_cost",
    "count_diverged",
    "count_flops",
    "cpu_ms_per_task",
    "difference_verdict",
    "diverged_tasks",
    "episode_accuracy",
    "fastest_seconds",
    "fits_after_steps",
    "fraction_better",
    "mean_ci",
    "paired_difference",
    "peak_tensor_memory",
    "query_accuracy",
    "query_mse",
    "results_table",
    "summarise",
    "sampled_training_step_cost",
    "training_step_cost",
]
