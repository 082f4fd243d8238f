"""Means with 95% confidence intervals, and paired comparisons on identical tasks."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

Z_95 = 1.96  # the field's convention: mean ± 1.96·std/√N over test tasks


@dataclass(frozen=True)
class MeanCI:
    """A mean over ``n`` test tasks and the half-width of its 95% confidence interval."""

    mean: float
    ci95: float
    n: int

    @property
    def low(self) -> float:
        return self.mean - self.ci95

    @property
    def high(self) -> float:
        return self.mean + self.ci95

    def __str__(self) -> str:
        return f"{self.mean:.3f} ± {self.ci95:.3f}"


def mean_ci(values: Tensor) -> MeanCI:
    """Mean of one value per task with the half-width ``1.96 · std / √n`` of its 95% interval.

    Raises:
        ValueError: if ``values`` is not 1-D with at least two entries, or holds NaN or inf.
    """
    values = torch.as_tensor(values, dtype=torch.float64)
    if values.dim() != 1 or values.numel() < 2:
        raise ValueError(
            f"values must be a 1-D tensor with at least 2 entries, got shape {tuple(values.shape)}"
        )
    if not torch.isfinite(values).all():
        raise ValueError("values must be finite; got NaN or infinite entries")
    n = values.numel()
    std = values.std(unbiased=True).item()
    return MeanCI(values.mean().item(), Z_95 * std / math.sqrt(n), n)


def paired_difference(a: Tensor, b: Tensor) -> MeanCI:
    """Mean and 95% interval of ``a - b`` for two methods scored on the same tasks.

    Pairing removes the variation between tasks, so it resolves differences that two
    overlapping unpaired intervals would hide. ``a`` is better (lower loss) than ``b`` with
    95% confidence when ``paired_difference(a, b).high < 0``.
    """
    a, b = torch.as_tensor(a), torch.as_tensor(b)
    if a.shape != b.shape:
        raise ValueError(f"paired values must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    return mean_ci(a.double() - b.double())


def difference_verdict(
    difference: MeanCI,
    above: str = "measurably higher",
    below: str = "measurably lower",
    neither: str = "not measurably different",
) -> str:
    """What a paired difference's 95% interval says, in words: ``above`` where the whole interval
    lies above zero, ``below`` where it lies below, ``neither`` where it contains zero (defaults
    ``"measurably higher"``, ``"measurably lower"``, ``"not measurably different"``).

    A chapter glues these words into its prose, so that a sentence stating a comparison reads what
    the measurement says, on any machine and at any seed.
    """
    if not isinstance(difference, MeanCI):
        kind = type(difference).__name__
        raise ValueError(f"difference must be a MeanCI (from paired_difference), got {kind}")
    if difference.low > 0:
        return above
    if difference.high < 0:
        return below
    return neither


def fraction_better(a: Tensor, b: Tensor) -> MeanCI:
    """Fraction of tasks on which ``a`` has the lower loss than ``b``, with its 95% interval.

    Unlike a mean, it stays defined when some tasks diverge (an infinite or NaN loss never counts
    as better), so it can compare methods whose fine-tuning blows up on rare tasks.
    """
    a, b = torch.as_tensor(a), torch.as_tensor(b)
    if a.shape != b.shape:
        raise ValueError(f"paired values must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    return mean_ci((a < b).double())


def count_diverged(values: Tensor) -> int:
    """Number of tasks whose loss is infinite or NaN (their fine-tuning diverged)."""
    return int((~torch.isfinite(torch.as_tensor(values))).sum())


def diverged_tasks(after: Tensor, before: Tensor, factor: float = 10.0) -> Tensor:
    """Which tasks fine-tuning blew up on: the error after adapting is infinite, NaN, or more than
    ``factor`` (default 10) times both the task's own error before adapting and the median of
    those errors over the tasks (so that a task whose error starts near zero, a sinusoid of tiny
    amplitude, is not called diverged for an error that is still small).

    A step size past the stability limit can make the error grow by orders of magnitude and still
    stay finite (one test task of the sinusoid reproduction reached 4e20 after 10 steps): counting
    only infinities would miss it, and its mean would swamp every other task's.

    Args:
        after: errors after adapting, shape ``(tasks,)`` or ``(steps, tasks)``.
        before: each task's error before adapting (0 steps), shape ``(tasks,)``, or any trailing
            part of ``after``'s shape.
    """
    after, before = torch.as_tensor(after), torch.as_tensor(before)
    if before.dim() > after.dim() or after.shape[after.dim() - before.dim():] != before.shape:
        raise ValueError(
            f"after must end with the tasks of before {tuple(before.shape)}, got {tuple(after.shape)}"
        )
    typical = before.median(dim=-1, keepdim=True).values if before.dim() else before
    return ~torch.isfinite(after) | (after > factor * torch.maximum(before, typical))


@dataclass(frozen=True)
class ScoreSummary:
    """Per-task scores summarised the one way the package reports them.

    ``mean`` (with its 95% interval) is ``None`` where some task diverged: one blown-up task
    makes a mean meaningless, so the count of diverged tasks and the median speak instead.
    ``median`` counts a NaN task as the worst (infinite).
    """

    mean: MeanCI | None
    median: float
    diverged: int
    tasks: int

    def text(self, spec: str = ".3f") -> str:
        """``"mean ± ci95"``, or ``"k of n diverged (median m)"``, numbers in format ``spec``."""
        if self.mean is None:
            return f"{self.diverged} of {self.tasks} diverged (median {self.median:{spec}})"
        return f"{self.mean.mean:{spec}} ± {self.mean.ci95:{spec}}"

    def fields(self, digits: int = 4) -> dict[str, float | int | None]:
        """JSON-ready ``{value, ci95, median, diverged, tasks}`` (``None`` for what is undefined)."""
        return {
            "value": None if self.mean is None else round(self.mean.mean, digits),
            "ci95": None if self.mean is None else round(self.mean.ci95, digits),
            "median": round(self.median, digits) if math.isfinite(self.median) else None,
            "diverged": self.diverged,
            "tasks": self.tasks,
        }


def summarise(values: Tensor, before: Tensor | None = None) -> ScoreSummary:
    """Summarise one score per task (see :class:`ScoreSummary`).

    Args:
        values: one loss or accuracy per task, shape ``(tasks,)``.
        before: each task's error before adapting; where given, a task counts as diverged by
            :func:`diverged_tasks` (a finite error can have blown up too), else only where its
            value is infinite or NaN (default ``None``; accuracies never diverge).
    """
    values = torch.as_tensor(values).double()
    if values.dim() != 1 or values.numel() < 2:
        raise ValueError(f"values must be 1-D with at least 2 tasks, got shape {tuple(values.shape)}")
    blown = ~torch.isfinite(values) if before is None else diverged_tasks(values, before)
    diverged = int(blown.sum())
    median = torch.nan_to_num(values, nan=math.inf, posinf=math.inf).median().item()
    return ScoreSummary(mean_ci(values) if diverged == 0 else None, median, diverged, values.numel())
