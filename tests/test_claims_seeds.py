"""Verdicts over training seeds: a verdict stands only when every seed's run reaches it."""

import math

import pytest
import torch

from mtl_tutorial.experiments.claims import ClaimResults, judge, judge_seeds, seed_verdict_table
from mtl_tutorial.experiments.claims.plots import plot_seed_advantages
from mtl_tutorial.experiments.trends import TrainingCurve


def seeded_run(gap_at_small: float, gap_at_large: float, transfer_curve=(0.6, 0.8, 0.8)) -> ClaimResults:
    """A run of every claim: meta beats transfer by the gaps at the two ends of both axes, and
    reaches 0.9 on its curve while transfer reaches ``max(transfer_curve)``."""
    results = ClaimResults("test", "accuracy", ("meta",), ("transfer",))
    generator = torch.Generator().manual_seed(0)
    base = torch.rand(200, generator=generator) * 0.5 + 0.25
    noise = torch.randn(200, generator=generator) * 0.2
    middle = (gap_at_small + gap_at_large) / 2
    for claim, xs in (("data_scarcity", (1, 5, 50)), ("task_dissimilarity", (0.1, 0.2, 0.3))):
        # scarcity favours the first end of its axis, dissimilarity the last
        gaps = (gap_at_small, middle, gap_at_large) if claim == "data_scarcity" else (gap_at_large, middle,
                                                                                       gap_at_small)
        for x, gap in zip(xs, gaps, strict=True):
            results.add_scores(claim, x, {"meta": base + gap + noise, "transfer": base})
    for method, accuracy in (("meta", (0.5, 0.7, 0.9)), ("transfer", transfer_curve)):
        scores = torch.tensor(accuracy).unsqueeze(1).repeat(1, 4)
        results.curves[method] = TrainingCurve([1, 2, 3], [1.0, 2.0, 3.0], scores, [], [1.0, 2.0, 3.0])
        results.add_cost(method, {"train_flops_per_iteration": 100})
    return results


def test_a_verdict_stands_only_when_every_seed_reaches_it():
    runs = {0: seeded_run(0.2, 0.0), 1: seeded_run(0.25, 0.0), 2: seeded_run(0.1, 0.1)}
    verdicts = {v.claim: v for v in judge_seeds(runs)}
    scarcity = verdicts["data_scarcity"]
    assert [v.holds for v in scarcity.verdicts] == [True, True, None]  # seed 2: no change
    assert scarcity.verdicts == tuple(judge(runs[s], "data_scarcity", "meta", "transfer") for s in runs)
    assert not scarcity.agree and scarcity.holds is None and scarcity.words() == "undecided"
    assert scarcity.by_seed() == "holds on seeds 0 and 1, undecided on seed 2"
    assert scarcity.standing() == "not refuted (holds on 2 seeds of 3)"
    # the effect is the change in advantage, favoured end minus other: the gaps' difference
    assert scarcity.effects == pytest.approx((0.2, 0.25, 0.0), abs=1e-6)
    assert scarcity.effect_mean == pytest.approx(0.15, abs=1e-6)
    assert scarcity.effect_sd == pytest.approx(math.sqrt(((0.05**2) + (0.1**2) + (0.15**2)) / 2), abs=1e-6)
    dissimilarity = verdicts["task_dissimilarity"]  # the same gaps, along the other axis
    assert [v.holds for v in dissimilarity.verdicts] == [True, True, None]
    # cost: meta reaches the matched 0.8 at iteration 3 (300 FLOPs), transfer at 2 (200) on every seed
    cost = verdicts["cost"]
    assert cost.agree and cost.holds is False and cost.effects == pytest.approx((2 / 3,) * 3)
    assert cost.standing() == "fails" and cost.by_seed() == "fails on seeds 0, 1 and 2"


def test_seeds_that_fail_or_are_undecided_leave_a_claim_not_supported():
    runs = {0: seeded_run(0.0, 0.2), 1: seeded_run(0.1, 0.1), 2: seeded_run(0.0, 0.25)}
    scarcity = next(v for v in judge_seeds(runs) if v.claim == "data_scarcity")
    assert [v.holds for v in scarcity.verdicts] == [False, None, False]
    assert scarcity.standing() == "not supported (fails on 2 seeds of 3)"
    assert scarcity.by_seed() == "fails on seeds 0 and 2, undecided on seed 1"
    runs[1] = seeded_run(0.3, 0.0)  # one seed holds: nothing stands
    assert next(v for v in judge_seeds(runs) if v.claim == "data_scarcity").standing() == "undecided"


def test_agreeing_seeds_give_their_common_verdict_and_the_table_says_so():
    runs = {0: seeded_run(0.2, 0.0), 5: seeded_run(0.3, 0.0)}
    verdicts = judge_seeds(runs)
    assert verdicts[0].seeds == (0, 5) and verdicts[0].agree and verdicts[0].holds is True
    table = seed_verdict_table(verdicts)
    assert "| claim | meta vs transfer | seed 0 | seed 5 | effect over seeds | verdict |" in table
    scarcity = "| data scarcity | meta vs transfer | holds (+20.0) | holds (+30.0) | +25.0 (sd 7.1) |"
    assert scarcity in table
    assert "| cost | meta vs transfer | fails (0.67×) | fails (0.67×) | 0.67× (sd 0) | **fails** |" in table


def test_a_learner_that_never_reaches_the_level_has_no_cost_effect():
    never = seeded_run(0.2, 0.0)
    never.curves["meta"] = TrainingCurve([1, 2, 3], [1.0, 2.0, 3.0], torch.full((3, 4), float("nan")), [],
                                         [1.0, 2.0, 3.0])  # fmt: skip
    cost = next(v for v in judge_seeds({0: never, 1: seeded_run(0.2, 0.0)}) if v.claim == "cost")
    assert math.isnan(cost.effects[0]) and cost.holds is None
    assert "never reached" in seed_verdict_table([cost])


def test_judge_seeds_refuses_runs_that_cannot_be_compared():
    with pytest.raises(ValueError, match="at least one training seed"):
        judge_seeds({})
    other = seeded_run(0.2, 0.0)
    other.benchmark = "sinusoid"
    with pytest.raises(ValueError, match="one benchmark with the same learners"):
        judge_seeds({0: seeded_run(0.2, 0.0), 1: other})


def test_the_seed_figure_draws_one_line_per_seed_in_each_pairs_panel():
    runs = {0: seeded_run(0.2, 0.0), 1: seeded_run(0.1, 0.1)}
    figure = plot_seed_advantages(runs, "data_scarcity")
    (ax,) = figure.axes
    assert len(ax.containers) == 2 and ax.get_title() == "meta vs transfer"
    with pytest.raises(ValueError, match="claim must be one of"):
        plot_seed_advantages(runs, "cost")
    with pytest.raises(ValueError, match="at least one"):
        plot_seed_advantages({}, "data_scarcity")
