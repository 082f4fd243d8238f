"""What a claims experiment measured: per-task scores, training curves and costs (data only;
:func:`.report.result_rows` renders the rows ``mtl-tutorial claims --json`` writes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from ...evaluation import MeanCI, summarise
from ..trends import TrainingCurve
from .verdicts import advantage


def geometric_checkpoints(total: int, count: int) -> list[int]:
    """``0`` and about ``count`` iteration counts spaced evenly on a log scale, ending at ``total``."""
    return [0, *sorted({max(1, round(total ** (i / count))) for i in range(1, count + 1)})]


@dataclass
class ClaimResults:
    """Everything one benchmark's claims experiments measured.

    Attributes:
        benchmark: ``"sinusoid"`` or ``"glyphs"``.
        metric: ``"mse"`` (lower is better) or ``"accuracy"``.
        meta, transfer: the method names on each side, in the order they were run.
        scores: per-task scores by ``(claim, method, x)``, every method on the same tasks.
        curves: each method's validation score during training (for the cost claim).
        extras: fields that describe each ``(claim, x)`` (the sinusoids' distance ``bin``, the
            glyphs' ``script``), given to :meth:`add_scores`.
        labels: optional names of the x values (glyphs: the script at each distance).
        flops_per_iteration: FLOPs of one training iteration of each method (recorded by
            :meth:`add_cost`); the transfer learners share their pretraining's.
        measures: what each method cost, by measure (:meth:`add_cost`, read by :meth:`cost`).
    """

    benchmark: str
    metric: str
    meta: tuple[str, ...]
    transfer: tuple[str, ...]
    scores: dict[tuple[str, str, float], Tensor] = field(default_factory=dict)
    curves: dict[str, TrainingCurve] = field(default_factory=dict)
    extras: dict[tuple[str, float], dict] = field(default_factory=dict)
    labels: dict[tuple[str, float], str] = field(default_factory=dict)
    flops_per_iteration: dict[str, int] = field(default_factory=dict)
    measures: dict[str, dict[str, float]] = field(default_factory=dict)

    def xs(self, claim: str) -> list[float]:
        """The x values of ``claim``, increasing."""
        return sorted({x for c, _, x in self.scores if c == claim})

    def summary(self, claim: str, method: str) -> dict[float, MeanCI | None]:
        """Mean score with 95% interval at each x (``None`` where some task diverged)."""
        return {x: summarise(self.scores[(claim, method, x)]).mean for x in self.xs(claim)}

    def advantages(self, claim: str, meta: str, transfer: str) -> dict[float, MeanCI]:
        """Advantage of ``meta`` over ``transfer`` at each x (see :func:`.verdicts.advantage`)."""
        return {
            x: advantage(self.scores[(claim, meta, x)], self.scores[(claim, transfer, x)], self.metric)
            for x in self.xs(claim)
        }

    def add_scores(self, claim: str, x: float, by_method: Mapping[str, Tensor], **extra) -> None:
        """Record per-task scores of every method at ``x``, and ``extra`` fields describing ``x``."""
        for method, values in by_method.items():
            self.scores[(claim, method, x)] = values
        self.extras[(claim, x)] = dict(extra)

    def matched_target(self, methods: Sequence[str] | None = None) -> float:
        """The score all ``methods`` (default: every method) reach at some checkpoint: each one's
        best validation mean over its checkpoints (what keeping the best checkpoint gives), and
        the worst of those (highest MSE, lowest accuracy).

        The best, not the final score: a learner whose score gets worse with longer training
        (the sinusoid probe does) would otherwise set a level that its untrained network meets."""
        chosen = list(self.curves) if methods is None else list(methods)
        means = [self.curves[m].scores.double().mean(dim=1) for m in chosen]
        if self.metric == "mse":
            return max(m.nan_to_num(nan=torch.inf).min().item() for m in means)
        return min(m.nan_to_num(nan=-torch.inf).max().item() for m in means)

    def spent(self, method: str, unit: str = "flops") -> list[float]:
        """Training spent by ``method`` at each of its checkpoints: FLOPs (``unit="flops"``,
        iterations × :attr:`flops_per_iteration`) or CPU-seconds (``"cpu_seconds"``, as measured)."""
        if unit not in ("flops", "cpu_seconds"):
            raise ValueError(f"unit must be 'flops' or 'cpu_seconds', got {unit!r}")
        curve = self.curves[method]
        if unit == "cpu_seconds":
            return [float(s) for s in curve.cpu_seconds]
        if method not in self.flops_per_iteration:
            raise ValueError(f"no FLOPs per iteration recorded for {method!r}; add_cost records them")
        return [float(i * self.flops_per_iteration[method]) for i in curve.iterations]

    def reach_interval(self, method: str, target: float, unit: str = "flops") -> tuple[float, float] | None:
        """Training spent ``(at the last checkpoint short of target, at the first that reaches it)``:
        the learner reached ``target`` somewhere in this interval. ``None`` if it never did; the
        interval starts at 0 when the first checkpoint already reaches it.

        ``unit`` is ``"flops"`` (default: iterations × :attr:`flops_per_iteration`, the same on
        every machine) or ``"cpu_seconds"`` (as measured during this run).
        """
        curve = self.curves[method]
        spent = self.spent(method, unit)
        sign = 1.0 if self.metric == "mse" else -1.0
        index = curve.first_reaching(sign * target, lambda s: sign * s.double().mean().item())
        if index is None:
            return None
        return (spent[index - 1] if index > 0 else 0.0, spent[index])

    def add_cost(self, method: str, measures: Mapping[str, float]) -> None:
        """Record what ``method`` cost: ``measures`` (FLOPs per training iteration, peak memory,
        parameters, adaptation FLOPs and CPU-milliseconds per task; see :meth:`cost`). The FLOPs,
        bytes and counts are the same on every machine; the seconds are this run's, to show, not
        to decide on. What each pair spent to reach its matched level comes from :meth:`pair_cost`.

        ``measures`` must hold ``train_flops_per_iteration``, which the cost verdict rests on."""
        if "train_flops_per_iteration" not in measures:
            raise ValueError(f"measures must include 'train_flops_per_iteration', got {sorted(measures)}")
        self.flops_per_iteration[method] = int(measures["train_flops_per_iteration"])
        self.measures[method] = dict(measures)

    def pair_cost(self, meta: str, transfer: str) -> PairCost:
        """What ``meta`` and ``transfer`` spent to reach their pair's matched level
        (:meth:`matched_target` of the two): the one rule the verdict, the cost table, the plot
        and the rows all read."""
        level = self.matched_target((meta, transfer))
        return PairCost(
            meta,
            transfer,
            level,
            flops={m: self.reach_interval(m, level, "flops") for m in (meta, transfer)},
            cpu_seconds={m: self.reach_interval(m, level, "cpu_seconds") for m in (meta, transfer)},
        )

    def pairs(self) -> list[tuple[str, str]]:
        """Every ``(meta, transfer)`` pair, meta-learners first."""
        return [(m, t) for m in self.meta for t in self.transfer]

    def cost(self, method: str) -> dict[str, float]:
        """The measures :meth:`add_cost` recorded for ``method``, by name."""
        if method not in self.measures:
            raise ValueError(f"no cost recorded for {method!r}; recorded: {sorted(self.measures)}")
        return dict(self.measures[method])


@dataclass(frozen=True)
class PairCost:
    """What a pair spent to reach its matched ``level``: for each of ``meta`` and ``transfer``,
    ``(spent at the last checkpoint short of it, at the first that reaches it)`` in FLOPs and in
    CPU-seconds, ``None`` if it never did (see :meth:`ClaimResults.reach_interval`)."""

    meta: str
    transfer: str
    level: float
    flops: dict[str, tuple[float, float] | None]
    cpu_seconds: dict[str, tuple[float, float] | None]
