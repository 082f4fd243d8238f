"""The verdict on each claim, for each pair of a meta-learner and a transfer learner.

- *Data scarcity* ("meta-learning helps especially when data is scarce"): the advantage on the
  scarcest third of the K values, pooled, against the richest third. The claim holds if it is
  larger where data is scarce, with 95% confidence.
- *Task dissimilarity* ("... or tasks are dissimilar"): the advantage on the farthest third of
  the test tasks (distance bins, or scripts), pooled, against the nearest third.
- *Cost* ("transfer learning may need more data and compute"): CPU-seconds of training until
  each learner first reaches the accuracy (or MSE) both of the pair reach. The claim holds if
  the transfer learner needed more.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ...evaluation import MeanCI
from .results import ClaimResults
from .verdicts import Change, advantage, change_in_advantage, crossings, side

CLAIMS = ("data_scarcity", "task_dissimilarity", "cost")


@dataclass(frozen=True)
class Verdict:
    """Whether one claim holds for one pair on one benchmark, and the numbers behind it.

    ``holds`` is ``None`` when the measurement cannot decide (no detectable change; a learner
    that never reached the matched level)."""

    claim: str
    benchmark: str
    meta: str
    transfer: str
    holds: bool | None
    text: str


def _pooled(results: ClaimResults, claim: str, meta: str, transfer: str, xs: list[float]) -> MeanCI:
    a = torch.cat([results.scores[(claim, meta, x)] for x in xs])
    b = torch.cat([results.scores[(claim, transfer, x)] for x in xs])
    return advantage(a, b, results.metric)


def ends(results: ClaimResults, claim: str, meta: str, transfer: str) -> tuple[MeanCI, MeanCI, Change]:
    """Pooled advantage on the first and last third of the x values, and first − last."""
    xs = results.xs(claim)
    third = max(1, len(xs) // 3)
    first = _pooled(results, claim, meta, transfer, xs[:third])
    last = _pooled(results, claim, meta, transfer, xs[-third:])
    return first, last, change_in_advantage(first, last)


def _describe(results: ClaimResults, value: MeanCI) -> str:
    if results.metric == "mse":
        return f"wins {value.mean:.0%} ± {value.ci95:.0%} of tasks"
    return f"{value.mean * 100:+.1f} ± {value.ci95 * 100:.1f} points"


def judge(results: ClaimResults, claim: str, meta: str, transfer: str) -> Verdict:
    """The verdict on ``claim`` for ``meta`` against ``transfer`` (see the module's rules)."""
    if claim == "cost":
        target = results.matched_target((meta, transfer))
        seconds = {m: results.seconds_to_reach(m, target) for m in (meta, transfer)}
        level = f"{target:.3f} {'MSE' if results.metric == 'mse' else 'accuracy'}"
        if None in seconds.values():
            text = f"at {level}: one learner never reached it ({seconds})"
            return Verdict(claim, results.benchmark, meta, transfer, None, text)
        text = f"to reach {level}: {meta} {seconds[meta]:.2f} CPU-s, {transfer} {seconds[transfer]:.2f} CPU-s"
        return Verdict(claim, results.benchmark, meta, transfer, seconds[transfer] > seconds[meta], text)
    if claim not in CLAIMS:
        raise ValueError(f"claim must be one of {CLAIMS}, got {claim!r}")
    if claim == "data_scarcity":
        scarce, rich, change = ends(results, claim, meta, transfer)
        text = f"{meta} {_describe(results, scarce)} with the fewest shots, "
        text += f"{_describe(results, rich)} with the most"
    else:
        near, far, _ = ends(results, claim, meta, transfer)
        change = change_in_advantage(far, near)
        text = f"{meta} {_describe(results, far)} on the farthest tasks, "
        text += f"{_describe(results, near)} on the nearest"
    cross = crossings(results.advantages(claim, meta, transfer), results.metric)
    if cross:
        text += "; the curves cross between " + ", ".join(f"{a:g} and {b:g}" for a, b in cross)
    holds = None if change.verdict == "no detectable change" else change.verdict == "larger"
    return Verdict(claim, results.benchmark, meta, transfer, holds, f"{text} ({change.verdict})")


def judge_all(results: ClaimResults) -> list[Verdict]:
    """Every claim for every (meta, transfer) pair of ``results``."""
    return [judge(results, c, m, t) for c in CLAIMS for m in results.meta for t in results.transfer]


def overall_side(results: ClaimResults, claim: str, meta: str, transfer: str) -> dict[float, str]:
    """Which learner is ahead at each x: ``"meta"``, ``"transfer"`` or ``"tie"``."""
    return {x: side(a, results.metric) for x, a in results.advantages(claim, meta, transfer).items()}
