"""Turning per-task scores into the verdicts the chapter asserts.

A claim such as "meta-learning helps especially when data is scarce" is about how an *advantage*
changes along an axis (shots, distance from the training tasks). The advantage of a meta-learner
over a transfer learner is measured per task on identical tasks:

- for accuracy, the paired difference in accuracy (:func:`~mtl_tutorial.evaluation.paired_difference`);
- for a regression error, the fraction of tasks on which the meta-learner's error is lower
  (:func:`~mtl_tutorial.evaluation.fraction_better`), which is scale-free (errors shrink as K
  grows, so raw differences would favour small K by construction) and stays defined when a
  fine-tuning run diverges.

:func:`advantage` computes it; :func:`change_in_advantage` compares it at two ends of the axis;
:func:`margin` says how far a verdict lies from the edge of its rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from torch import Tensor

from ...evaluation import MeanCI, fraction_better, paired_difference

#: The advantage that means "no difference": accuracy difference 0, or winning half the tasks.
NO_ADVANTAGE = {"accuracy": 0.0, "mse": 0.5}


def advantage(meta: Tensor, transfer: Tensor, metric: str) -> MeanCI:
    """Per-task advantage of ``meta`` over ``transfer`` on the same tasks, with its 95% interval.

    Args:
        meta, transfer: one score per task, same shape.
        metric: ``"accuracy"`` (higher is better; returns the mean paired difference) or
            ``"mse"`` (lower is better; returns the fraction of tasks where ``meta`` is lower).
    """
    if metric == "accuracy":
        return paired_difference(meta, transfer)
    if metric == "mse":
        return fraction_better(meta, transfer)
    raise ValueError(f"metric must be 'accuracy' or 'mse', got {metric!r}")


def side(value: MeanCI, metric: str) -> str:
    """Which learner the advantage favours at 95% confidence: ``"meta"``, ``"transfer"`` or ``"tie"``."""
    null = NO_ADVANTAGE[metric]
    if value.low > null:
        return "meta"
    if value.high < null:
        return "transfer"
    return "tie"


@dataclass(frozen=True)
class Change:
    """How the advantage changes from one end of an axis to the other: ``first - last`` with a
    95% interval, and the verdict ``"larger"`` (larger at the first end), ``"smaller"`` or
    ``"no detectable change"``."""

    difference: float
    ci95: float
    verdict: str


def change_in_advantage(first: MeanCI, last: MeanCI) -> Change:
    """Compare the advantage at the first end of an axis with the last, as independent estimates.

    The interval is ``1.96·√(se₁² + se₂²)``. Where the two ends share tasks (the same seeded
    functions with more support points), the estimates are positively correlated and this
    interval is wider than necessary: the verdict errs towards "no detectable change".
    """
    difference = first.mean - last.mean
    ci95 = math.hypot(first.ci95, last.ci95)
    if difference - ci95 > 0:
        verdict = "larger"
    elif difference + ci95 < 0:
        verdict = "smaller"
    else:
        verdict = "no detectable change"
    return Change(difference, ci95, verdict)


def margin(value: Change | MeanCI, metric: str | None = None) -> float:
    """How far a verdict lies from the nearest edge of its rule, in half-widths of its 95% interval.

    For a :class:`Change`, the rule compares ``|difference|`` with ``ci95``; for an advantage
    (a :class:`MeanCI`, with its ``metric``), :func:`side` compares ``|mean − no advantage|`` with
    ``ci95``. The margin is how far the estimate would have to move, in units of ``ci95``, for the
    verdict to change: from decided to undecided ("tie"), or from undecided to decided. The
    interval covers the spread of the test tasks, not of training: another machine's floating
    point trains a slightly different network, so a verdict within about one half-width of its
    edge (margin below 1) can come out the other way there.
    """
    if isinstance(value, Change):
        distance, width = value.difference, value.ci95
    else:
        if metric is None:
            raise ValueError("metric is needed for an advantage: 'accuracy' or 'mse'")
        distance, width = value.mean - NO_ADVANTAGE[metric], value.ci95
    if width <= 0:
        return math.inf
    return abs(abs(distance) - width) / width


def crossings(advantages: Mapping[float, MeanCI], metric: str) -> list[tuple[float, float]]:
    """Adjacent axis values between which the favoured side flips from meta to transfer or back
    (ties skipped): where the two curves cross, if they do."""
    decided = [(x, side(a, metric)) for x, a in sorted(advantages.items())]
    decided = [(x, s) for x, s in decided if s != "tie"]
    return [(x0, x1) for (x0, s0), (x1, s1) in zip(decided[:-1], decided[1:], strict=True) if s0 != s1]
