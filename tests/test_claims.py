"""The claims experiments: distances, verdict rules, the rows they write, and their input checks."""

import dataclasses
import functools
import json
import math

import pytest
import torch

import mtl_tutorial.experiments.claims as claims_package
from mtl_tutorial.cli import main
from mtl_tutorial.evaluation import MeanCI, adaptation_cost, count_flops
from mtl_tutorial.experiments.claims import (
    SIZES,
    Change,
    ClaimResults,
    advantage,
    cached_claims,
    change_in_advantage,
    claim_ends,
    class_distance,
    cost_table,
    crossings,
    geometric_checkpoints,
    glyph_claims,
    judge,
    judge_all,
    margin,
    result_rows,
    side,
    sinusoid_claims,
    sinusoid_distance,
)
from mtl_tutorial.experiments.claims import cached as cached_module
from mtl_tutorial.experiments.trends import TrainingCurve
from mtl_tutorial.meta import MAML, ProtoNet
from mtl_tutorial.models import MLP, Conv4
from mtl_tutorial.tasks import FewShotTasks, GlyphConfig, ImageClasses, SinusoidTasks
from mtl_tutorial.transfer import FullFineTuning, LinearProbe, RidgeProbe, SupervisedPretraining

TINY = SIZES["tiny"]


# -- distances ------------------------------------------------------------------------------------


def test_a_training_sinusoid_is_at_distance_zero_and_a_larger_amplitude_is_not():
    d = sinusoid_distance(torch.tensor([2.0, 6.0, 5.0]), torch.tensor([1.0, 1.0, 1.0 + math.pi]))
    assert d[0] < 0.05  # inside the training ranges: zero up to the grid's spacing
    # amplitude 6, phase inside: the nearest training function has amplitude 5, so the
    # distance is the RMS of 1·sin on [-5, 5], about 1/√2
    assert d[1] == pytest.approx(0.70, abs=0.05)
    assert d[2] > d[1]  # a phase outside [0, π] with the largest amplitude is farther still


def test_sinusoid_distance_refuses_mismatched_inputs():
    with pytest.raises(ValueError, match="one entry per task"):
        sinusoid_distance(torch.ones(3), torch.ones(2))


def test_a_class_seen_in_training_is_at_distance_zero():
    images = torch.rand(4, 3, 1, 8, 8)
    train = ImageClasses(images, list("abcd"))
    test = ImageClasses(torch.cat([images[:1], 1 - images[1:2]]), ["a", "new"])
    d = class_distance(test, train)
    assert d[0] == pytest.approx(0.0, abs=1e-6) and d[1] > 0.01
    flat = class_distance(test, train, features=lambda x: x.flatten(1))  # mean of pixels = pixel means
    assert torch.allclose(flat, d, atol=1e-6)
    blind = class_distance(test, train, features=lambda x: torch.ones(len(x), 3))  # sees no difference
    assert torch.allclose(blind, torch.zeros(2), atol=1e-6)


# -- verdict rules ----------------------------------------------------------------------------------


def test_advantage_is_a_paired_accuracy_difference_or_a_win_rate():
    meta, transfer = torch.tensor([1.0, 0.8, 0.6, 0.9]), torch.tensor([0.5, 0.8, 0.7, 0.4])
    assert advantage(meta, transfer, "accuracy").mean == pytest.approx(0.225)
    # MSE: lower wins; a diverged (infinite) error never wins
    assert (
        advantage(torch.tensor([1.0, math.inf, 0.1, 3.0]), torch.tensor([2.0, 1.0, 0.2, 1.0]), "mse").mean
        == 0.5
    )
    with pytest.raises(ValueError, match="metric"):
        advantage(meta, transfer, "loss")


def test_side_change_and_crossings_follow_the_intervals():
    ahead, behind, unsure = MeanCI(0.9, 0.05, 100), MeanCI(0.2, 0.05, 100), MeanCI(0.5, 0.2, 100)
    assert [side(v, "mse") for v in (ahead, behind, unsure)] == ["meta", "transfer", "tie"]
    assert change_in_advantage(ahead, behind).verdict == "larger"
    assert change_in_advantage(behind, ahead).verdict == "smaller"
    assert change_in_advantage(ahead, MeanCI(0.88, 0.05, 100)).verdict == "no detectable change"
    assert crossings({1: ahead, 2: unsure, 5: behind, 10: behind}, "mse") == [(1, 5)]
    assert crossings({1: ahead, 2: ahead}, "mse") == []


def test_the_margin_is_the_distance_to_the_rules_edge_in_half_widths():
    assert margin(Change(0.3, 0.1, "larger")) == pytest.approx(2.0)  # decided, two half-widths clear
    assert margin(Change(-0.11, 0.1, "smaller")) == pytest.approx(0.1)  # decided, at the edge
    assert margin(Change(0.02, 0.1, "no detectable change")) == pytest.approx(0.8)
    assert margin(MeanCI(0.55, 0.1, 100), "mse") == pytest.approx(0.5)  # a tie, 0.05 from "meta"
    assert margin(MeanCI(-0.3, 0.1, 100), "accuracy") == pytest.approx(2.0)
    with pytest.raises(ValueError, match="metric"):
        margin(MeanCI(0.5, 0.1, 100))


def synthetic_results(gap_at_small: float, gap_at_large: float) -> ClaimResults:
    """Accuracy results where meta beats transfer by the given gaps at x = 1 and x = 50."""
    results = ClaimResults("test", "accuracy", ("meta",), ("transfer",))
    generator = torch.Generator().manual_seed(0)
    base = torch.rand(200, generator=generator) * 0.5 + 0.25
    noise = torch.randn(200, generator=generator) * 0.2  # the same at every x: only the gap changes
    for x, gap in [(1, gap_at_small), (5, (gap_at_small + gap_at_large) / 2), (50, gap_at_large)]:
        results.add_scores("data_scarcity", x, {"meta": base + gap + noise, "transfer": base})
    return results


def test_the_scarcity_claim_holds_only_when_the_advantage_shrinks_with_more_data():
    verdict = judge(synthetic_results(0.2, 0.0), "data_scarcity", "meta", "transfer")
    scarce, rich, change = claim_ends(synthetic_results(0.2, 0.0), "data_scarcity", "meta", "transfer")
    assert verdict.holds is True and verdict.margin == pytest.approx(margin(change)) and verdict.margin > 1
    assert scarce.mean == pytest.approx(rich.mean + 0.2)
    assert judge(synthetic_results(0.0, 0.2), "data_scarcity", "meta", "transfer").holds is False
    assert judge(synthetic_results(0.1, 0.1), "data_scarcity", "meta", "transfer").holds is None


def test_rows_carry_each_method_and_the_advantage_of_each_pair():
    results = synthetic_results(0.2, 0.0)
    rows = [r for r in result_rows(results) if r["x"] == 1]
    assert [r["method"] for r in rows] == ["meta", "transfer", "meta vs transfer"]
    paired = results.advantages("data_scarcity", "meta", "transfer")[1]
    assert rows[2]["metric"] == "accuracy_difference" and rows[2]["value"] == round(paired.mean, 4)
    assert rows[2]["value"] == pytest.approx(0.2, abs=3 * paired.ci95 / 1.96)
    assert all(r["ci95"] > 0 for r in rows)


def _cost_results(transfer_cpu, transfer_accuracy, flops=(100, 100)) -> ClaimResults:
    results = ClaimResults("test", "accuracy", ("meta",), ("transfer",))

    def curve(cpu, accuracy):
        return TrainingCurve([1, 2, 3], cpu, torch.tensor(accuracy).unsqueeze(1).repeat(1, 4), [], cpu)

    results.curves["meta"] = curve([1.0, 2.0, 3.0], [0.5, 0.7, 0.9])
    results.curves["transfer"] = curve(transfer_cpu, transfer_accuracy)
    results.flops_per_iteration.update(meta=flops[0], transfer=flops[1])
    return results


def test_cost_is_read_at_the_level_both_learners_reach():
    results = _cost_results([0.5, 1.0, 8.0], [0.6, 0.8, 0.8])
    assert results.matched_target() == pytest.approx(0.8)
    assert results.reach_interval("meta", 0.8) == (200.0, 300.0)  # iterations 2..3, 100 FLOPs each
    assert results.reach_interval("transfer", 0.8, "cpu_seconds") == (0.5, 1.0)
    assert results.reach_interval("transfer", 0.85) is None
    verdict = judge(results, "cost", "meta", "transfer")
    assert verdict.holds is False and "meta 3e-07 GFLOPs (3.00 CPU-s)" in verdict.text
    # when the checkpoints cannot separate the two, the verdict is left open
    results = _cost_results([0.5, 2.5, 8.0], [0.6, 0.6, 0.8], flops=(100, 120))
    assert results.reach_interval("transfer", 0.8) == (240.0, 360.0)
    assert judge(results, "cost", "meta", "transfer").holds is None


def test_the_matched_level_is_the_worst_of_each_learners_best():
    # the transfer learner peaks at 0.95 and falls back to 0.7: the level both reach is the
    # meta-learner's best, 0.9, not the transfer's final 0.7, which its first checkpoint beat
    results = _cost_results([1.0, 2.0, 3.0], [0.75, 0.95, 0.7])
    assert results.matched_target() == pytest.approx(0.9)
    assert results.reach_interval("transfer", 0.9) == (100.0, 200.0)


def test_the_cost_verdict_rests_on_flops_not_on_cpu_seconds():
    # the transfer learner reaches the level after more CPU-seconds but fewer FLOPs: a machine
    # where its steps ran slowly must not turn the verdict
    results = _cost_results([5.0, 6.0, 9.0], [0.6, 0.8, 0.8], flops=(100, 10))
    # the fixture's made-up CPU-seconds, read back: transfer reaches the level at 6.0, meta at 3.0
    assert results.reach_interval("transfer", 0.8, "cpu_seconds") == (5.0, 6.0)
    assert results.reach_interval("meta", 0.8, "cpu_seconds") == (2.0, 3.0)
    assert judge(results, "cost", "meta", "transfer").holds is False
    results.flops_per_iteration["transfer"] = 1000  # now a transfer step is 10× a meta step
    assert judge(results, "cost", "meta", "transfer").holds is True


def test_cost_needs_flops_per_iteration():
    results = _cost_results([0.5, 1.0, 8.0], [0.6, 0.8, 0.8])
    results.flops_per_iteration.clear()
    with pytest.raises(ValueError, match="FLOPs per iteration"):
        judge(results, "cost", "meta", "transfer")
    with pytest.raises(ValueError, match="unit must be"):
        results.reach_interval("meta", 0.8, "seconds")
    with pytest.raises(ValueError, match="train_flops_per_iteration"):
        results.add_cost("meta", {"train_peak_mib": 1.0})


def test_the_cost_table_the_rows_and_the_verdict_read_each_pair_at_its_own_level():
    # a second transfer learner that never gets past 0.6: the level all three reach is 0.6,
    # while meta and "transfer" both reach 0.8; every report must use the pair's 0.8
    results = _cost_results([0.5, 1.0, 8.0], [0.6, 0.8, 0.8])
    results.transfer = ("transfer", "weak")
    results.curves["weak"] = TrainingCurve([1, 2, 3], [1.0, 2.0, 3.0], torch.full((3, 4), 0.6), [],
                                           [1.0, 2.0, 3.0])  # fmt: skip
    for method in results.curves:
        results.add_cost(method, {"train_flops_per_iteration": 100})
    assert results.matched_target() == pytest.approx(0.6)
    assert results.pair_cost("meta", "transfer").level == pytest.approx(0.8)
    verdict = judge(results, "cost", "meta", "transfer")
    assert "to reach 0.800 accuracy: meta 3e-07 GFLOPs" in verdict.text
    rows = [r for r in result_rows(results) if r.get("pair") == "meta vs transfer" and r["method"] == "meta"]
    assert {(r["x"], r["metric"], r["value"]) for r in rows} == {
        (0.8, "train_gflops_to_target", 0.0), (0.8, "train_cpu_seconds_to_target", 3.0)}  # fmt: skip
    table = cost_table(results)
    assert "| meta vs transfer | 0.800 | meta | 3e-07 | 3.00 |" in table
    assert "| meta vs weak | 0.600 | meta | 2e-07 | 2.00 |" in table  # meta: 0.7 at iteration 2
    assert results.cost("meta") == {"train_flops_per_iteration": 100}
    with pytest.raises(ValueError, match="no cost recorded"):
        results.cost("nobody")


def test_geometric_checkpoints_start_at_zero_and_end_at_the_total():
    assert geometric_checkpoints(1000, 3) == [0, 10, 100, 1000]
    assert geometric_checkpoints(5, 8)[-1] == 5


# -- the experiments ---------------------------------------------------------------------------------


def assert_rows_give_each_pair_its_verdicts_level(results):
    """The rows' GFLOPs to the matched level are read at each pair's level, as the verdict is."""
    for meta in results.meta:
        for transfer in results.transfer:
            level = results.matched_target((meta, transfer))
            for method in (meta, transfer):
                reached = results.reach_interval(method, level)
                gflops = None if reached is None else round(reached[1] / 1e9, 2)
                expected = {"x": round(level, 4), "value": gflops}
                recorded = [{"x": r["x"], "value": r["value"]} for r in result_rows(results)
                            if r["method"] == method and r["metric"] == "train_gflops_to_target"]  # fmt: skip
                assert expected in recorded, (meta, transfer, method)


def test_sinusoid_claims_cover_every_claim_and_method_and_repeat_exactly():
    first = sinusoid_claims(**TINY.sinusoid, log=lambda _: None)
    assert_rows_give_each_pair_its_verdicts_level(first)
    claims = {r["claim"] for r in result_rows(first)}
    assert claims == {"data_scarcity", "task_dissimilarity", "cost"}
    assert {r["method"] for r in result_rows(first) if r["claim"] == "data_scarcity"} == {
        "maml", "pretrained", "ridge_probe", "maml vs pretrained", "maml vs ridge_probe"
    }  # fmt: skip
    cost = first.cost("ridge_probe")
    assert cost["adapted_parameters_per_task"] == 41 < first.cost("maml")["adapted_parameters_per_task"]
    adapt = {m: first.cost(m)["adapt_flops_per_task"] for m in ("maml", "pretrained", "ridge_probe")}
    assert 0 < adapt["ridge_probe"] < adapt["maml"] == adapt["pretrained"]  # the same 10 steps, network
    second = sinusoid_claims(**TINY.sinusoid, log=lambda _: None)
    assert first.scores.keys() == second.scores.keys()
    assert all(torch.equal(first.scores[k], second.scores[k]) for k in first.scores)


def test_more_support_points_lower_the_error():
    results = sinusoid_claims(**{**TINY.sinusoid, "iterations": 200}, log=lambda _: None)
    mse = results.summary("data_scarcity", "ridge_probe")
    assert mse[10].mean < mse[1].mean


def test_glyph_claims_cover_every_script_and_method():
    results = glyph_claims(**TINY.glyphs, log=lambda _: None)
    assert_rows_give_each_pair_its_verdicts_level(results)
    scripts = {r["script"] for r in result_rows(results) if r["claim"] == "task_dissimilarity"}
    assert len(scripts) == 9  # the validation and test scripts
    assert {m for _, m, _ in results.scores} == {"protonet", "maml", "linear_probe", "finetune"}
    assert results.cost("protonet")["adapted_parameters_per_task"] == 0
    assert results.cost("linear_probe")["adapted_parameters_per_task"] == 5 * (4 * 1 + 1)  # 4-channel Conv4
    adapt = {m: results.cost(m)["adapt_flops_per_task"] for m in ("protonet", "linear_probe", "finetune")}
    assert 0 < adapt["protonet"] < adapt["linear_probe"] < adapt["finetune"]


def test_bad_requests_are_refused_with_the_value():
    with pytest.raises(ValueError, match="shots entry"):
        sinusoid_claims(**{**TINY.sinusoid, "shots": (0, 5)})
    with pytest.raises(ValueError, match="at least one"):
        sinusoid_claims(**{**TINY.sinusoid, "shots": ()})
    with pytest.raises(ValueError, match="images per class"):
        glyph_claims(**{**TINY.glyphs, "shots": (50,)}, glyphs=GlyphConfig())
    with pytest.raises(ValueError, match="pretraining"):
        glyph_claims(**{**TINY.glyphs, "iterations": {"protonet": 1, "maml": 1}})
    with pytest.raises(ValueError, match="transfer method"):
        glyph_claims(["protonet", "maml"], **TINY.glyphs)


def _same(a, b) -> bool:
    """Equal all the way down: tensors bit for bit (NaN where NaN), dataclasses field by field."""
    if type(a) is not type(b):
        return False
    if isinstance(a, torch.Tensor):
        return a.dtype == b.dtype and a.shape == b.shape and bool(torch.isclose(a, b, 0, 0, True).all())
    if dataclasses.is_dataclass(a):
        return all(_same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


@pytest.fixture
def private_results(tmp_path, monkeypatch):
    """``mtl-tutorial claims`` reads and writes its runs under ``tmp_path``, not the shared cache."""
    monkeypatch.setattr(claims_package, "cached_claims", functools.partial(cached_claims, cache_dir=tmp_path))
    return tmp_path


def test_a_claims_run_is_computed_once_then_read_back_equal_by_the_command_too(
    private_results, monkeypatch, capsys
):
    first = cached_claims("sinusoid", "tiny", cache_dir=private_results)
    assert len(list((private_results / "models").glob("claims_sinusoid_tiny-*.pt"))) == 1

    def recompute(**kwargs):
        raise AssertionError("computed again instead of read from the cache")

    monkeypatch.setattr(cached_module, "sinusoid_claims", recompute)
    second = cached_claims("sinusoid", "tiny", cache_dir=private_results)
    assert second is not first and _same(first, second)
    assert judge_all(second) == judge_all(first)
    assert main(["claims", "--size", "tiny", "--benchmarks", "sinusoid", "--device", "cpu"]) == 0
    assert "data_scarcity, maml vs pretrained" in capsys.readouterr().out
    with pytest.raises(ValueError, match="size must be one of"):
        cached_claims("sinusoid", "huge", cache_dir=private_results)


def test_the_claims_command_writes_rows_of_both_benchmarks(private_results, tmp_path, capsys):
    path = tmp_path / "claims.json"
    assert main(["claims", "--size", "tiny", "--json", str(path)]) == 0
    rows = json.loads(path.read_text())
    assert {r["benchmark"] for r in rows} == {"sinusoid", "glyphs"}
    assert all({"claim", "benchmark", "method", "x", "metric", "value", "ci95"} <= r.keys() for r in rows)
    curve = [r for r in rows if r["metric"] == "validation_mse" and r["method"] == "maml"]
    assert [r["x"] for r in curve] == geometric_checkpoints(20, 2)  # the cost plot's points
    verdicts = [r for r in rows if r["metric"] == "verdict"]
    assert len(verdicts) == 3 * (1 * 2 + 2 * 2)  # three claims; sinusoid 1×2 pairs, glyphs 2×2
    assert {r["value"] for r in verdicts} <= {"holds", "fails", "undecided"}
    assert "data_scarcity, maml vs finetune" in capsys.readouterr().out


def test_the_claims_command_gives_each_verdict_over_seeds(private_results, tmp_path, capsys):
    path = tmp_path / "claims.json"
    assert main(["claims", "--size", "tiny", "--benchmarks", "sinusoid", "--seeds", "0", "1",
                 "--json", str(path)]) == 0  # fmt: skip
    rows = json.loads(path.read_text())
    assert {r.get("seed") for r in rows if r["metric"] == "verdict"} == {0, 1}
    over = [r for r in rows if r["metric"] == "verdict_over_seeds"]
    assert len(over) == 3 * 2 and all(r["seeds"] == [0, 1] and len(r["seed_verdicts"]) == 2 for r in over)
    by_seed = {(r["claim"], r["method"], r["seed"]): r["value"] for r in rows if r["metric"] == "verdict"}
    for r in over:  # the verdict over seeds is the seeds' common one, else undecided
        each = [by_seed[(r["claim"], r["method"], s)] for s in (0, 1)]
        assert r["seed_verdicts"] == each
        assert r["value"] == (each[0] if each[0] == each[1] else "undecided")
    assert "sinusoid, over seeds 0, 1" in capsys.readouterr().out


def test_count_flops_counts_matrix_products_forward_and_backward():
    weight = torch.randn(8, 4, requires_grad=True)
    x = torch.randn(16, 8)
    assert count_flops(lambda: x @ weight) == 2 * 16 * 8 * 4
    # backward of y = x W needs only dL/dW = xᵀ dL/dy (x needs no gradient): one more product
    assert count_flops(lambda: (x @ weight).sum().backward()) == 2 * (2 * 16 * 8 * 4)


def test_a_maml_step_costs_more_flops_than_a_pretraining_step():
    batch = SinusoidTasks().sample(25, seed=0)
    maml, pretraining = MAML(MLP()), RidgeProbe(MLP())
    maml_flops = count_flops(lambda: maml.training_loss(batch).backward())
    pretraining_flops = count_flops(lambda: pretraining.training_loss(batch).backward())
    # MAML adapts on the support set, then backpropagates through that adaptation
    assert maml_flops > 1.5 * pretraining_flops > 0


def test_adaptation_flops_follow_what_each_learner_computes_on_images():
    generator = torch.Generator().manual_seed(0)
    classes = ImageClasses(torch.rand(12, 6, 1, 28, 28, generator=generator), [f"c{i}" for i in range(12)])
    tasks = FewShotTasks(classes, ways=5, shots=2, queries=2)
    batch = tasks.episode(tasks.fixed_episodes(3, seed=0), slice(0, 3))
    torch.manual_seed(0)
    pretrained = SupervisedPretraining(Conv4(channels=4))
    pretrained.fit(tasks, iterations=1, progress=False)
    flops = {"protonet": adaptation_flops(ProtoNet(Conv4(channels=4)), batch)}
    flops["linear_probe"] = adaptation_flops(LinearProbe(pretrained), batch)
    finetune = {s: adaptation_flops(FullFineTuning(pretrained, adapt_steps=s), batch) for s in (1, 2, 4)}
    # class means cost only the embedding; fine-tuning runs the whole network forwards and
    # backwards at every step
    assert 0 < flops["protonet"] < flops["linear_probe"] < finetune[1]
    # every fine-tuning step costs the same: two more steps cost twice one more
    step = finetune[2] - finetune[1]
    assert step > 0 and finetune[4] - finetune[2] == 2 * step
    # the count is per episode: a batch of one costs the same
    assert adaptation_flops(FullFineTuning(pretrained, adapt_steps=2), batch[:1]) == finetune[2]


def adaptation_flops(learner, episodes) -> float:
    return adaptation_cost(learner, episodes, ways=5).flops_per_task


def test_flop_count_includes_linear_solves():
    a, b = torch.randn(3, 5, 5), torch.randn(3, 5, 2)
    # LU: 2n³/3 to factor each matrix, 2n² per right-hand column to substitute
    assert count_flops(lambda: torch.linalg.solve(a, b)) == 3 * (round(2 * 5**3 / 3) + 2 * 5**2 * 2)


def test_adaptation_flops_on_sinusoids_count_the_probes_solve():
    episodes = SinusoidTasks(query_size=100).sample(4, seed=0)
    maml, probe = MAML(MLP()), RidgeProbe(MLP())
    probe_adapt = adaptation_cost(probe, episodes, steps=10).flops_per_task
    n = 40 + 1  # the probe solves 41 × 41 normal equations per task
    assert probe_adapt > 2 * n**3 / 3
    # MAML's ten steps through the whole network cost more than the probe's features and solve
    assert probe_adapt < adaptation_cost(maml, episodes, steps=10).flops_per_task
