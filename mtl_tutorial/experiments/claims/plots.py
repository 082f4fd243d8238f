"""The figures of the chapter "Testing the claims": scores and advantages along an axis, and
validation scores against training compute (GFLOPs)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ...plotting import color_of
from .results import ClaimResults
from .verdicts import NO_ADVANTAGE

AXIS_LABELS = {
    "data_scarcity": "support examples per task (K)",
    "task_dissimilarity": "distance from the training tasks",
}
PAIR_STYLES = ("o-", "s--", "^-.", "d:")


def _score_label(results: ClaimResults) -> str:
    return "query MSE (median)" if results.metric == "mse" else "query accuracy (95% CI)"


def plot_claim(results: ClaimResults, claim: str) -> Figure:
    """Two panels: each method's score against the claim's axis (mean and 95% interval; for MSE,
    the median, which stays defined when fine-tuning diverges), and the advantage of each meta
    method over each transfer method (win rate or accuracy difference) with its interval."""
    if claim not in AXIS_LABELS:
        raise ValueError(f"claim must be one of {sorted(AXIS_LABELS)}, got {claim!r}")
    xs = results.xs(claim)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for i, method in enumerate((*results.meta, *results.transfer)):
        if results.metric == "mse":
            values = [results.scores[(claim, method, x)].nanmedian().item() for x in xs]
            left.plot(xs, values, "o-", color=color_of(method, i), label=method)
        else:
            summary = results.summary(claim, method)
            left.errorbar(xs, [summary[x].mean for x in xs], yerr=[summary[x].ci95 for x in xs], fmt="o-",
                          capsize=3, color=color_of(method, i), label=method)  # fmt: skip
    for j, (meta, transfer) in enumerate((m, t) for m in results.meta for t in results.transfer):
        advantages = results.advantages(claim, meta, transfer)
        right.errorbar(xs, [advantages[x].mean for x in xs], yerr=[advantages[x].ci95 for x in xs],
                       fmt=PAIR_STYLES[j % len(PAIR_STYLES)], capsize=3, color=color_of(meta, j),
                       mfc=color_of(transfer, j), label=f"{meta} vs {transfer}")  # fmt: skip
    right.axhline(NO_ADVANTAGE[results.metric], color="0.4", lw=1)
    if results.metric == "mse":
        left.set_yscale("log")
        right.set(ylabel="meta-learner's win rate (95% CI)", ylim=(-0.02, 1.02))
    else:
        right.set(ylabel="accuracy, meta − transfer (95% CI)")
    left.set(ylabel=_score_label(results))
    for ax in (left, right):
        ax.set_xlabel(AXIS_LABELS[claim])
        if claim == "data_scarcity":
            ax.set_xscale("log")
            ax.set_xticks(xs, [str(x) for x in xs])
            ax.minorticks_off()
        ax.legend(fontsize=8)
    labels = {x: name for (c, x), name in results.labels.items() if c == claim}
    if labels:  # name each point's script along the top
        top = left.secondary_xaxis("top")
        top.set_xticks(list(labels), list(labels.values()), rotation=60, fontsize=7)
    fig.suptitle(f"{claim.replace('_', ' ')} — {results.benchmark}", y=1.02)
    fig.tight_layout()
    return fig


def plot_cost(results: ClaimResults) -> Figure:
    """Validation score against training compute (GFLOPs, the unit the cost verdict uses), one
    line per method, and each pair's matched level (what :func:`.report.judge` compares at) as a
    dashed horizontal line. The untrained network (0 FLOPs) is drawn at a third of the first
    checkpoint's compute, where the logarithmic axis can show it."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    spent = {m: [f / 1e9 for f in results.spent(m)] for m in results.curves}
    floor = min(g for gflops in spent.values() for g in gflops if g > 0) / 3
    for i, (method, curve) in enumerate(results.curves.items()):
        means = curve.scores.double().mean(dim=1)  # the mean, as the matched level is defined
        gflops = [max(g, floor) for g in spent[method]]
        ax.plot(gflops, means, "o-", color=color_of(method, i), label=method, ms=4)
    for (meta, transfer), dashes in zip(results.pairs(), ("--", ":", "-.", (0, (5, 5))), strict=False):
        level = results.pair_cost(meta, transfer).level
        ax.axhline(level, color="0.35", lw=1, ls=dashes, label=f"matched level, {meta} vs {transfer}")
    score = "MSE" if results.metric == "mse" else "accuracy"
    ax.set(xscale="log", xlabel="training GFLOPs", ylabel=f"validation {score} (mean)")
    if results.metric == "mse":
        ax.set_yscale("log")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_seed_advantages(runs: Mapping[int, ClaimResults], claim: str) -> Figure:
    """The advantage of each meta method over each transfer method along ``claim``'s axis, one
    panel per pair and one line per training seed (with its 95% interval over test tasks): how
    much of a verdict is the seed. ``runs`` maps each seed to its :class:`ClaimResults`."""
    if claim not in AXIS_LABELS:
        raise ValueError(f"claim must be one of {sorted(AXIS_LABELS)}, got {claim!r}")
    if len(runs) == 0:
        raise ValueError("runs must hold at least one training seed's results, got none")
    first = next(iter(runs.values()))
    pairs = first.pairs()
    fig, axes = plt.subplots(1, len(pairs), figsize=(4.2 * len(pairs), 3.4), squeeze=False)
    for ax, (meta, transfer) in zip(axes[0], pairs, strict=True):
        for i, (seed, results) in enumerate(runs.items()):
            advantages = results.advantages(claim, meta, transfer)
            xs = sorted(advantages)
            ax.errorbar(xs, [advantages[x].mean for x in xs], yerr=[advantages[x].ci95 for x in xs],
                        fmt=PAIR_STYLES[i % len(PAIR_STYLES)], capsize=3, color=color_of(f"seed {seed}", i),
                        label=f"training seed {seed}")  # fmt: skip
        ax.axhline(NO_ADVANTAGE[first.metric], color="0.4", lw=1)
        what = "win rate" if first.metric == "mse" else "accuracy difference"
        ax.set(title=f"{meta} vs {transfer}", xlabel=AXIS_LABELS[claim], ylabel=f"{meta}'s {what}")
        if claim == "data_scarcity":
            ax.set_xscale("log")
            ax.set_xticks(xs, [str(x) for x in xs])
            ax.minorticks_off()
        ax.legend(fontsize=7)
    fig.suptitle(f"{claim.replace('_', ' ')} — {first.benchmark}, by training seed", y=1.02)
    fig.tight_layout()
    return fig
