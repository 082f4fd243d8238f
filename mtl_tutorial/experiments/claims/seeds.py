"""Verdicts over several training seeds: a verdict stands only when every seed reaches it.

One claims run trains each learner once. Its confidence intervals cover the spread of the *test
tasks*, not of training: another seed (or another machine's floating point) trains a different
network, and a verdict close to the edge of its rule can come out the other way. Here each
learner is trained with several seeds, each run is judged by the same rule (:func:`.report.judge`),
and the verdict over seeds is the common one, or "undecided" when the seeds disagree.

>>> from mtl_tutorial.experiments.claims import cached_claims, judge_seeds
>>> runs = {s: cached_claims("sinusoid", "book", seed=s) for s in TRAINING_SEEDS}
>>> verdicts = judge_seeds(runs)   # one SeedVerdict per claim and pair
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass

from .report import CLAIMS, VERDICT_WORDS, Verdict, claim_ends, judge
from .results import ClaimResults

#: The training seeds the book's claims chapters train each learner with.
TRAINING_SEEDS = (0, 1, 2)


@dataclass(frozen=True)
class SeedVerdict:
    """One claim for one pair, judged on the run of each training seed.

    Attributes:
        claim, benchmark, meta, transfer: as in :class:`.report.Verdict`.
        seeds: the training seeds, in order.
        verdicts: the verdict of each seed's run.
        effects: per seed, the number the verdict turns on. Scarcity and dissimilarity: the
            advantage at the end the claim favours minus at the other end (accuracy points as a
            fraction, or a difference in win rates). Cost: the transfer learner's training
            FLOPs to the pair's matched level divided by the meta-learner's (upper ends of the
            reach intervals; above 1, transfer needed more), ``nan`` where one never reached it.
    """

    claim: str
    benchmark: str
    meta: str
    transfer: str
    seeds: tuple[int, ...]
    verdicts: tuple[Verdict, ...]
    effects: tuple[float, ...]

    @property
    def holds(self) -> bool | None:
        """The verdict every seed reached, or ``None`` (undecided) when they differ."""
        first = self.verdicts[0].holds
        return first if all(v.holds == first for v in self.verdicts) else None

    @property
    def agree(self) -> bool:
        """Whether every seed reached the same verdict (undecided included)."""
        return len({v.holds for v in self.verdicts}) == 1

    @property
    def effect_mean(self) -> float:
        """Mean of :attr:`effects` over seeds (``nan`` if any is ``nan``)."""
        return statistics.fmean(self.effects)

    @property
    def effect_sd(self) -> float:
        """Standard deviation of :attr:`effects` over seeds (``nan`` if any is ``nan``)."""
        return statistics.stdev(self.effects) if len(self.effects) > 1 else 0.0

    def words(self) -> str:
        """The verdict over seeds as the tables write it (``holds``, ``fails``, ``undecided``)."""
        return VERDICT_WORDS[self.holds]

    def by_seed(self) -> str:
        """Each seed's verdict in a sentence's words, e.g. ``"fails on seeds 0 and 2, undecided
        on seed 1"``: for prose that must say what the runs say, on any machine."""
        parts = []
        for holds in (True, False, None):
            seeds = [str(s) for s, v in zip(self.seeds, self.verdicts, strict=True) if v.holds is holds]
            if seeds:
                listed = seeds[0] if len(seeds) == 1 else f"{', '.join(seeds[:-1])} and {seeds[-1]}"
                parts.append(f"{VERDICT_WORDS[holds]} on seed{'s' * (len(seeds) > 1)} {listed}")
        return ", ".join(parts)

    def standing(self) -> str:
        """What stands over seeds: the common verdict where every seed agrees; where they do not,
        ``"not supported (fails on k seeds of n)"`` when no seed holds, ``"not refuted (holds on
        k seeds of n)"`` when no seed fails, else ``"undecided"``."""
        if self.agree:
            return self.words()
        counts = {h: sum(v.holds is h for v in self.verdicts) for h in (True, False)}
        n = len(self.verdicts)
        if counts[True] == 0:
            return f"not supported (fails on {counts[False]} seed{'s' * (counts[False] > 1)} of {n})"
        if counts[False] == 0:
            return f"not refuted (holds on {counts[True]} seed{'s' * (counts[True] > 1)} of {n})"
        return "undecided"


def _effect(results: ClaimResults, claim: str, meta: str, transfer: str) -> float:
    if claim != "cost":
        return claim_ends(results, claim, meta, transfer)[2].difference
    reached = results.pair_cost(meta, transfer).flops
    if reached[meta] is None or reached[transfer] is None or reached[meta][1] == 0:
        return math.nan
    return reached[transfer][1] / reached[meta][1]


def judge_seeds(runs: Mapping[int, ClaimResults]) -> list[SeedVerdict]:
    """Every claim for every pair, judged on each seed's run (:func:`.report.judge`).

    Args:
        runs: one :class:`ClaimResults` per training seed, all of one benchmark with the same
            learners (for example ``{s: cached_claims("glyphs", "book", seed=s) for s in seeds}``).
    """
    if len(runs) == 0:
        raise ValueError("runs must hold at least one training seed's results, got none")
    seeds = tuple(runs)
    first = runs[seeds[0]]
    for seed, results in runs.items():
        if (results.benchmark, results.pairs()) != (first.benchmark, first.pairs()):
            raise ValueError(
                f"every run must be of one benchmark with the same learners: seed {seeds[0]} has "
                f"{first.benchmark} {first.pairs()}, seed {seed} has {results.benchmark} {results.pairs()}"
            )
    return [
        SeedVerdict(claim, first.benchmark, meta, transfer, seeds,
                    tuple(judge(runs[s], claim, meta, transfer) for s in seeds),
                    tuple(_effect(runs[s], claim, meta, transfer) for s in seeds))
        for claim in CLAIMS for meta, transfer in first.pairs()
    ]  # fmt: skip


def _effect_text(verdict: SeedVerdict, value: float) -> str:
    if math.isnan(value):
        return "never reached"
    if verdict.claim == "cost":
        return f"{value:.2g}×"
    return f"{100 * value:+.1f}"


def seed_verdict_table(verdicts: list[SeedVerdict]) -> str:
    """A Markdown table: for each claim and pair, each seed's verdict and effect, their mean and
    standard deviation over seeds, and the verdict that stands (bold when every seed agrees).

    Effects are as in :class:`SeedVerdict`: for scarcity and dissimilarity the change in
    advantage in points (accuracy points, or percentage points of tasks won), for cost the ratio
    of training FLOPs transfer / meta."""
    seeds = verdicts[0].seeds if verdicts else ()
    header = ["claim", "meta vs transfer", *(f"seed {s}" for s in seeds), "effect over seeds", "verdict"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for v in verdicts:
        cells = [v.claim.replace("_", " "), f"{v.meta} vs {v.transfer}"]
        per_seed = zip(v.verdicts, v.effects, strict=True)
        cells += [f"{VERDICT_WORDS[one.holds]} ({_effect_text(v, e)})" for one, e in per_seed]
        if any(math.isnan(e) for e in v.effects):
            cells.append("—")
        elif v.claim == "cost":
            cells.append(f"{v.effect_mean:.2g}× (sd {v.effect_sd:.2g})")
        else:
            cells.append(f"{100 * v.effect_mean:+.1f} (sd {100 * v.effect_sd:.1f})")
        cells.append(f"**{v.words()}**" if v.agree else f"{v.words()} (seeds disagree)")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def seed_verdict_rows(verdicts: list[SeedVerdict]) -> list[dict]:
    """The verdicts over seeds as rows like :func:`.report.verdict_rows`'s (``metric`` is
    ``"verdict_over_seeds"``, ``value`` the verdict that stands), with each seed's verdict and
    effect, and the effects' mean and standard deviation (``None`` where one is undefined)."""

    def number(x: float) -> float | None:
        return round(x, 4) if math.isfinite(x) else None

    return [
        {"claim": v.claim, "benchmark": v.benchmark, "method": f"{v.meta} vs {v.transfer}", "x": None,
         "metric": "verdict_over_seeds", "value": v.words(), "ci95": None, "seeds": list(v.seeds),
         "seed_verdicts": [VERDICT_WORDS[one.holds] for one in v.verdicts],
         "seed_effects": [number(e) for e in v.effects], "effect_mean": number(v.effect_mean),
         "effect_sd": number(v.effect_sd)}
        for v in verdicts
    ]  # fmt: skip
