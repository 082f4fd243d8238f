"""compare_glyphs with fixed iteration counts: deterministic, and strict about its input."""

import dataclasses

import pytest
import torch

from mtl_tutorial.evaluation import sampled_training_step_cost
from mtl_tutorial.experiments.glyphs import GlyphBudget, compare_glyphs, glyph_comparison
from mtl_tutorial.models import Conv4
from mtl_tutorial.recipes import cache_entries, cached_call
from mtl_tutorial.tasks import FewShotTasks, GlyphConfig, load_glyphs
from mtl_tutorial.transfer import SupervisedPretraining

SMALL = GlyphBudget(test_episodes=6, queries=3, meta_batch_size=1, eval_batch=3)


def quiet(_: str) -> None:
    pass


def test_fixed_iterations_give_identical_results_twice():
    runs = [
        compare_glyphs(
            ["protonet", "centroid"],
            shots=(1,),
            budget=SMALL,
            log=quiet,
            iterations={"protonet": 2, "pretraining": 2},
        )  # fmt: skip
        for _ in range(2)
    ]
    (rows_a, per_a), (rows_b, per_b) = runs
    for key in per_a:
        assert torch.equal(per_a[key], per_b[key])
    assert [r["value"] for r in rows_a] == [r["value"] for r in rows_b]
    assert [r["train_flops"] for r in rows_a] == [r["train_flops"] for r in rows_b]
    assert all(r["train_flops"] > 0 and r["test_flops_per_episode"] > 0 for r in rows_a)
    # measured seconds are reported beside the FLOPs, never compared (a fast machine rounds two
    # iterations to 0.0 s)
    assert all(isinstance(r["train_seconds"], float) and r["train_seconds"] >= 0 for r in rows_a)


def test_more_iterations_change_the_result_and_cost_proportionally_more_flops():
    """The counts are really used: 1 and 30 protonet iterations do not give the same model, and
    the training FLOPs are one iteration's times the iterations run."""
    runs = [
        compare_glyphs(["protonet"], shots=(1,), budget=SMALL, log=quiet, iterations={"protonet": n})
        for n in (1, 30)
    ]
    (rows_1, per_1), (rows_30, per_30) = runs
    assert not torch.equal(per_1[("protonet", 1)], per_30[("protonet", 1)])
    assert rows_30[0]["train_flops"] == 30 * rows_1[0]["train_flops"] > 0
    # testing costs the same whatever the training: the same computation on the same episodes
    assert rows_30[0]["test_flops_per_episode"] == rows_1[0]["test_flops_per_episode"]


def test_transfer_methods_share_the_pretrainings_flops_and_differ_at_test_time():
    """A transfer method's training FLOPs are its pretraining's, shared by every transfer method;
    at test time, class means of the features cost less than fitting a head on them."""
    rows, _ = compare_glyphs(["centroid", "linear_probe"], shots=(1,), budget=SMALL, log=quiet,
                             iterations={"pretraining": 3})  # fmt: skip
    centroid, probe = rows
    assert centroid["train_flops"] == probe["train_flops"] > 0
    assert centroid["test_flops_per_episode"] < probe["test_flops_per_episode"]


def test_missing_or_bad_iteration_counts_are_refused():
    with pytest.raises(ValueError, match=r"no entry for \['pretraining'\]"):
        compare_glyphs(["protonet", "centroid"], shots=(1,), budget=SMALL, log=quiet,
                       iterations={"protonet": 2})  # fmt: skip
    with pytest.raises(ValueError, match="iterations\\['maml'\\]"):
        compare_glyphs(["maml"], shots=(1,), budget=SMALL, log=quiet, iterations={"maml": 0})


def test_glyph_comparison_is_compare_glyphs_with_json_arguments_and_survives_the_cache(tmp_path):
    """What a chapter caches: the rows, the per-episode accuracies (keyed by (method, shots))
    and the log lines of compare_glyphs, read back from the cache unchanged."""
    arguments = {"methods": ["protonet", "centroid"], "shots": [1], "budget": dataclasses.asdict(SMALL),
                 "iterations": {"protonet": 2, "pretraining": 2}}  # fmt: skip
    rows, per_episode = compare_glyphs(arguments["methods"], shots=(1,), budget=SMALL, log=quiet,
                                       iterations=arguments["iterations"])  # fmt: skip
    computed, read = (
        cached_call("comparison", glyph_comparison, cache_dir=tmp_path, **arguments) for _ in range(2)
    )
    assert len(cache_entries(tmp_path)) == 1
    for result in (computed, read):
        assert [r["value"] for r in result["rows"]] == [r["value"] for r in rows]
        assert set(result["per_episode"]) == set(per_episode) == {("protonet", 1), ("centroid", 1)}
        assert all(torch.equal(result["per_episode"][key], per_episode[key]) for key in per_episode)
        assert len(result["log"]) == 2 and result["log"][0].startswith("1-shot")


def test_the_default_budget_is_flops_and_buys_the_same_iterations_anywhere():
    """With no iteration counts, each method runs the iterations its FLOP budget buys: a count
    fixed by the FLOP counter, not by the machine's speed, so two runs give the same results."""
    budget = dataclasses.replace(SMALL, train_gflops=10.0)  # a few iterations of a small run
    runs = [compare_glyphs(["protonet", "centroid"], shots=(1,), budget=budget, log=quiet) for _ in range(2)]
    (rows_a, per_a), (rows_b, per_b) = runs
    for key in per_a:
        assert torch.equal(per_a[key], per_b[key])
    for row in rows_a:
        per_iteration = row["train_flops"] // row["iterations"]
        assert row["iterations"] == max(1, int(10e9 // per_iteration)) > 1
        assert row["train_flops"] <= 10e9 < row["train_flops"] + per_iteration  # the budget, used up
    assert budget.scaled(2).train_gflops == 20.0 and budget.scaled(2).train_cpu_seconds is None


def test_budgets_refuse_impossible_values():
    with pytest.raises(ValueError, match="train_gflops must be > 0"):
        GlyphBudget(train_gflops=0)
    with pytest.raises(ValueError, match="train_cpu_seconds must be > 0 or None"):
        GlyphBudget(train_cpu_seconds=-1)



def test_counting_the_flops_before_training_leaves_the_random_stream_alone():
    """The FLOP budget counts one iteration of each method before it trains (pretraining: on a
    copy given a stand-in head). That must not draw from the global random stream, or the
    trained models would differ from those of the same iteration counts given directly."""
    classes = load_glyphs(GlyphConfig()).split("train")
    pretrained = SupervisedPretraining(Conv4(channels=4))
    state = torch.get_rng_state()
    cost = sampled_training_step_cost(pretrained, FewShotTasks(classes, ways=5, shots=1))
    assert cost.flops > 0 and cost.peak_bytes > 0
    assert torch.equal(torch.get_rng_state(), state) and pretrained.head is None
