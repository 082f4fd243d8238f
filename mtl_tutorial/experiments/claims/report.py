"""The verdict on each claim, for each pair of a meta-learner and a transfer learner.

- *Data scarcity* ("meta-learning helps especially when data is scarce"): the advantage on the
  scarcest third of the K values, pooled, against the richest third. The claim holds if it is
  larger where data is scarce, with 95% confidence.
- *Task dissimilarity* ("... or tasks are dissimilar"): the advantage on the farthest third of
  the test tasks (distance bins, or scripts), pooled, against the nearest third.
- *Cost* ("transfer learning may need more data and compute"): training compute, in
  floating-point operations, until each learner first reaches the accuracy (or MSE) both of the
  pair reach. The claim holds if the transfer learner had not reached it by the time the
  meta-learner had, fails in the opposite case, and is undecided when the checkpoints cannot
  tell them apart. FLOPs, not CPU-seconds, decide it: they are the same on every machine, while
  CPU-seconds move by tens of percent between runs, enough to flip a close verdict. CPU-seconds
  are reported beside them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ...evaluation import MeanCI, summarise
from .results import ClaimResults
from .verdicts import Change, advantage, change_in_advantage, crossings, margin, side

CLAIMS = ("data_scarcity", "task_dissimilarity", "cost")
#: How a verdict's ``holds`` reads in tables and rows.
VERDICT_WORDS = {True: "holds", False: "fails", None: "undecided"}


@dataclass(frozen=True)
class Verdict:
    """Whether one claim holds for one pair on one benchmark, and the numbers behind it.

    ``holds`` is ``None`` when the measurement cannot decide (no detectable change; a learner
    that never reached the matched level). ``margin`` (scarcity and dissimilarity; ``None`` for
    cost) is how far the verdict lies from the edge of its rule, in half-widths of its 95%
    interval (:func:`.verdicts.margin`): below 1, another machine can reach the neighbouring
    verdict."""

    claim: str
    benchmark: str
    meta: str
    transfer: str
    holds: bool | None
    text: str
    margin: float | None = None


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


def claim_ends(results: ClaimResults, claim: str, meta: str, transfer: str) -> tuple[MeanCI, MeanCI, Change]:
    """The numbers behind a scarcity or dissimilarity verdict: the pooled advantage at the end the
    claim favours (scarcest third of K, or farthest third of the tasks), at the other end, and
    favoured − other, whose interval decides (see :func:`.verdicts.margin` for how close to its
    edge it is)."""
    if claim not in ("data_scarcity", "task_dissimilarity"):
        raise ValueError(f"claim must be 'data_scarcity' or 'task_dissimilarity', got {claim!r}")
    first, last, change = ends(results, claim, meta, transfer)
    if claim == "data_scarcity":
        return first, last, change
    return last, first, change_in_advantage(last, first)


def _describe(results: ClaimResults, value: MeanCI) -> str:
    if results.metric == "mse":
        return f"wins {value.mean:.0%} ± {value.ci95:.0%} of tasks"
    return f"{value.mean * 100:+.1f} ± {value.ci95 * 100:.1f} points"


def _gflops(flops: float) -> str:
    """GFLOPs to three significant figures, without an exponent from 100 up (2,990, not 2.99e+03)."""
    gflops = flops / 1e9
    return f"{gflops:,.0f}" if gflops >= 100 else f"{gflops:.3g}"


def judge(results: ClaimResults, claim: str, meta: str, transfer: str) -> Verdict:
    """The verdict on ``claim`` for ``meta`` against ``transfer`` (see the module's rules)."""
    if claim == "cost":
        cost = results.pair_cost(meta, transfer)
        level = f"{cost.level:.3f} {'MSE' if results.metric == 'mse' else 'accuracy'}"
        if None in cost.flops.values():
            text = f"at {level}: one learner never reached it ({cost.flops})"
            return Verdict(claim, results.benchmark, meta, transfer, None, text)
        (meta_before, meta_at), (transfer_before, transfer_at) = cost.flops[meta], cost.flops[transfer]
        text = f"to reach {level}: " + ", ".join(
            f"{m} {_gflops(cost.flops[m][1])} GFLOPs ({cost.cpu_seconds[m][1]:.2f} CPU-s)"
            for m in (meta, transfer)
        )
        # decided only when the checkpoints separate them: one had not reached the level by the
        # time the other had
        holds = True if transfer_before >= meta_at else False if meta_before >= transfer_at else None
        if holds is None:
            text += " (within the checkpoints' resolution)"
        return Verdict(claim, results.benchmark, meta, transfer, holds, text)
    if claim not in CLAIMS:
        raise ValueError(f"claim must be one of {CLAIMS}, got {claim!r}")
    favoured, other, change = claim_ends(results, claim, meta, transfer)
    if claim == "data_scarcity":
        text = f"{meta} {_describe(results, favoured)} with the fewest shots, "
        text += f"{_describe(results, other)} with the most"
    else:
        text = f"{meta} {_describe(results, favoured)} on the farthest tasks, "
        text += f"{_describe(results, other)} on the nearest"
    cross = crossings(results.advantages(claim, meta, transfer), results.metric)
    if cross:
        text += "; the curves cross between " + ", ".join(f"{a:g} and {b:g}" for a, b in cross)
    holds = None if change.verdict == "no detectable change" else change.verdict == "larger"
    text = f"{text} ({change.verdict})"
    return Verdict(claim, results.benchmark, meta, transfer, holds, text, margin(change))


def judge_all(results: ClaimResults) -> list[Verdict]:
    """Every claim for every (meta, transfer) pair of ``results``."""
    return [judge(results, c, m, t) for c in CLAIMS for m, t in results.pairs()]


def overall_side(results: ClaimResults, claim: str, meta: str, transfer: str) -> dict[float, str]:
    """Which learner is ahead at each x: ``"meta"``, ``"transfer"`` or ``"tie"``."""
    return {x: side(a, results.metric) for x, a in results.advantages(claim, meta, transfer).items()}


def claim_table(results: ClaimResults, claim: str) -> str:
    """A Markdown table of ``claim``: each method's score (mean ± 95% interval) at every x, and the
    advantage of each meta method over each transfer method."""
    pairs = [(m, t) for m in results.meta for t in results.transfer]
    methods = (*results.meta, *results.transfer)
    axis = {"data_scarcity": "K", "task_dissimilarity": "distance"}[claim]
    what = "wins" if results.metric == "mse" else "gain"
    header = [axis, *methods, *(f"{m} {what} vs {t}" for m, t in pairs)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    spec = ".1%" if results.metric == "accuracy" else ".3g"
    for x in results.xs(claim):
        label = results.labels.get((claim, x))
        cells = [f"{x:g}" + (f" ({label})" if label else "")]
        cells += [summarise(results.scores[(claim, m, x)]).text(spec) for m in methods]
        for m, t in pairs:
            a = advantage(results.scores[(claim, m, x)], results.scores[(claim, t, x)], results.metric)
            cells.append(_describe(results, a).replace("wins ", "").replace(" of tasks", ""))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cost_table(results: ClaimResults) -> str:
    """Two Markdown tables of what each method cost. Per method: FLOPs per training iteration,
    adaptation FLOPs and CPU-milliseconds (this run) per task, peak memory, parameters trained and
    adapted. Per pair: its matched level and the training GFLOPs and CPU-seconds (this run) each
    learner spent to first reach it, as the cost verdict reads them (:meth:`ClaimResults.pair_cost`)."""
    columns = {
        "train_flops_per_iteration": "FLOPs per training iteration",
        "adapt_flops_per_task": "adaptation FLOPs per task",
        "adapt_cpu_ms_per_task": "adaptation CPU-ms per task (this run)",
        "train_peak_mib": "peak MiB, one training step",
        "adapt_peak_mib": "peak MiB, one task's adaptation",
        "trained_parameters": "parameters trained",
        "adapted_parameters_per_task": "numbers adapted per task",
    }
    lines = ["| method | " + " | ".join(columns.values()) + " |", "|---|" + "---|" * len(columns)]
    for method in results.curves:
        cost = results.cost(method)
        cells = ["" if cost.get(k) is None else f"{cost[k]:,}" for k in columns]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    score = "MSE" if results.metric == "mse" else "accuracy"
    header = ("pair", f"matched {score}", "learner", "training GFLOPs to it",
              "training CPU-s to it (this run)")  # fmt: skip
    lines += ["", "| " + " | ".join(header) + " |", "|---|---|---|---|---|"]
    for meta, transfer in results.pairs():
        cost = results.pair_cost(meta, transfer)
        for method in (meta, transfer):
            flops, seconds = cost.flops[method], cost.cpu_seconds[method]
            reached = "never" if flops is None else _gflops(flops[1])
            cpu = "never" if seconds is None else f"{seconds[1]:.2f}"
            lines.append(f"| {meta} vs {transfer} | {cost.level:.3f} | {method} | {reached} | {cpu} |")
    return "\n".join(lines)


def verdict_table(verdicts: list[Verdict]) -> str:
    """A Markdown table of verdicts: claim, pair, holds / fails / undecided, the numbers, and the
    margin from the rule's edge (in half-widths of the interval; blank for cost)."""
    word = {k: f"**{w}**" if k is not None else w for k, w in VERDICT_WORDS.items()}
    lines = ["| claim | benchmark | meta vs transfer | verdict | measured | margin from the edge |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for v in verdicts:
        claim = v.claim.replace("_", " ")
        edge = "" if v.margin is None else f"{v.margin:.2f}"
        lines.append(
            f"| {claim} | {v.benchmark} | {v.meta} vs {v.transfer} | {word[v.holds]} | {v.text} | {edge} |"
        )
    return "\n".join(lines)


def result_rows(results: ClaimResults) -> list[dict]:
    """The rows behind each plot, as ``mtl-tutorial claims --json`` writes them.

    - Data scarcity and task dissimilarity: each method's score at each ``x``
      (:func:`~mtl_tutorial.evaluation.summarise`'s fields, with the ``extras`` of that ``x``),
      then each meta method's advantage over each transfer method (``method = "meta vs
      transfer"``, ``metric`` ``win_rate`` for MSE, ``accuracy_difference`` for accuracy).
    - Cost: each method's validation score at each checkpoint (``x`` the iteration, with the
      CPU-seconds and GFLOPs so far), one row per recorded measure (``x`` empty), and for each
      pair (``pair``) the training GFLOPs and CPU-seconds to the pair's matched level (``x``).
    """
    rows = [row for claim in CLAIMS[:2] for x in results.xs(claim) for row in _score_rows(results, claim, x)]
    for method in results.measures:
        rows += _cost_rows(results, method)
    for meta, transfer in results.pairs():
        if {meta, transfer} <= results.measures.keys():
            rows += _pair_cost_rows(results, meta, transfer)
    return rows


def _score_rows(results: ClaimResults, claim: str, x: float) -> list[dict]:
    base = {"claim": claim, "benchmark": results.benchmark, "x": x}
    extra = results.extras.get((claim, x), {})
    at_x = [m for m in (*results.meta, *results.transfer) if (claim, m, x) in results.scores]
    scores = {m: results.scores[(claim, m, x)] for m in at_x}
    rows = [{**base, "method": m, "metric": results.metric, **summarise(scores[m]).fields(), **extra}
            for m in at_x]  # fmt: skip
    for meta, transfer in results.pairs():
        if meta in at_x and transfer in at_x:
            a = advantage(scores[meta], scores[transfer], results.metric)
            rows.append({
                **base, "method": f"{meta} vs {transfer}",
                "metric": "win_rate" if results.metric == "mse" else "accuracy_difference",
                "value": round(a.mean, 4), "ci95": round(a.ci95, 4), "tasks": a.n, **extra,
            })  # fmt: skip
    return rows


def _cost_rows(results: ClaimResults, method: str) -> list[dict]:
    base = {"claim": "cost", "benchmark": results.benchmark, "method": method}
    curve = results.curves[method]
    spent = zip(curve.iterations, curve.cpu_seconds, results.spent(method), curve.scores, strict=True)
    rows = [{**base, "x": iteration, "metric": f"validation_{results.metric}", **summarise(scores).fields(),
             "cpu_seconds": round(cpu, 3), "gflops": round(flops / 1e9, 3)}
            for iteration, cpu, flops, scores in spent]  # fmt: skip
    return rows + [{**base, "x": None, "metric": metric, "value": value, "ci95": None}
                   for metric, value in results.measures[method].items()]  # fmt: skip


def _pair_cost_rows(results: ClaimResults, meta: str, transfer: str) -> list[dict]:
    pair = results.pair_cost(meta, transfer)
    rows = []
    for method in (meta, transfer):
        flops, seconds = pair.flops[method], pair.cpu_seconds[method]
        values = {
            "train_gflops_to_target": None if flops is None else round(flops[1] / 1e9, 2),
            "train_cpu_seconds_to_target": None if seconds is None else round(seconds[1], 2),
        }
        rows += [{"claim": "cost", "benchmark": results.benchmark, "method": method,
                  "pair": f"{meta} vs {transfer}", "x": round(pair.level, 4), "metric": metric,
                  "value": value, "ci95": None} for metric, value in values.items()]  # fmt: skip
    return rows


def verdict_rows(verdicts: list[Verdict]) -> list[dict]:
    """The verdicts as rows like the others (``metric="verdict"``, ``value`` "holds", "fails" or
    "undecided", ``x`` and ``ci95`` empty, the numbers behind it in ``text``, its ``margin``)."""
    return [
        {"claim": v.claim, "benchmark": v.benchmark, "method": f"{v.meta} vs {v.transfer}", "x": None,
         "metric": "verdict", "value": VERDICT_WORDS[v.holds], "ci95": None, "text": v.text,
         "margin": round(v.margin, 3) if v.margin is not None and math.isfinite(v.margin) else None}
        for v in verdicts
    ]  # fmt: skip
