import math

import pytest
import torch

from mtl_tutorial import (
    ANIL,
    MAML,
    MLP,
    FineTuning,
    MetaSGD,
    ProtoNet,
    Reptile,
    SinusoidTasks,
    count_diverged,
    fraction_better,
    mean_ci,
    paired_difference,
    query_mse,
    results_table,
    summarise,
)
from mtl_tutorial.evaluation import (
    difference_verdict,
    diverged_tasks,
    episode_accuracy,
    fastest_seconds,
    query_accuracy,
)
from mtl_tutorial.tasks import FewShotTasks, ImageClasses


def test_mean_ci_is_the_fields_formula():
    values = torch.tensor([1.0, 2.0, 3.0, 4.0, 10.0])
    result = mean_ci(values)
    std = values.std(unbiased=True).item()
    assert result.mean == pytest.approx(4.0)
    assert result.ci95 == pytest.approx(1.96 * std / math.sqrt(5))
    assert result.n == 5
    assert result.low == pytest.approx(4.0 - result.ci95) and result.high == pytest.approx(4.0 + result.ci95)
    assert str(result) == f"4.000 ± {result.ci95:.3f}"


def test_confidence_intervals_cover_the_true_mean_about_95_percent_of_the_time():
    generator = torch.Generator().manual_seed(0)
    draws = [mean_ci(torch.randn(200, generator=generator) + 3.0) for _ in range(2000)]
    coverage = sum(d.low <= 3.0 <= d.high for d in draws) / len(draws)
    assert 0.93 < coverage < 0.97


def test_pairing_resolves_a_difference_that_unpaired_intervals_hide():
    generator = torch.Generator().manual_seed(1)
    task_difficulty = 5 * torch.rand(300, generator=generator)
    a = task_difficulty + 0.05 * torch.randn(300, generator=generator)
    b = task_difficulty + 0.1 + 0.05 * torch.randn(300, generator=generator)
    assert mean_ci(a).high > mean_ci(b).low  # unpaired intervals overlap
    assert paired_difference(a, b).high < 0  # paired: a is better, with 95% confidence
    with pytest.raises(ValueError, match="same shape"):
        paired_difference(a, b[:10])


def test_difference_verdict_reads_the_side_of_zero_the_interval_lies_on():
    from mtl_tutorial.evaluation import MeanCI

    assert difference_verdict(MeanCI(0.05, 0.02, 100)) == "measurably higher"
    assert difference_verdict(MeanCI(-0.05, 0.02, 100), below="worse") == "worse"
    assert difference_verdict(MeanCI(0.01, 0.02, 100)) == "not measurably different"
    assert difference_verdict(MeanCI(0.02, 0.02, 100)) == "not measurably different"  # touches zero
    with pytest.raises(ValueError, match="MeanCI"):
        difference_verdict(0.05)


def test_query_mse_scores_every_task_at_every_step_count():
    torch.manual_seed(0)
    learner = FineTuning(MLP())
    episodes = SinusoidTasks(support_size=5, query_size=20).sample(7, seed=0)
    scores = query_mse(learner, episodes, steps=(0, 2))
    assert scores.shape == (2, 7)
    with torch.no_grad():
        expected = ((learner.model(episodes.query_x) - episodes.query_y) ** 2).mean(dim=(1, 2))
    torch.testing.assert_close(scores[0], expected)
    assert not torch.equal(scores[0], scores[1])


def test_results_table_has_one_row_per_method():
    scores = {"a": torch.tensor([[1.0, 2.0, 3.0]]), "b": torch.tensor([[4.0, 5.0, 6.0]])}
    table = results_table(scores, steps=(1,))
    lines = table.splitlines()
    assert lines[0] == "| method | 1 step |"
    assert lines[2].startswith("| a | 2.000 ± ") and lines[3].startswith("| b | 5.000 ± ")
    with pytest.raises(ValueError, match="rows"):
        results_table(scores, steps=(1, 5))


def test_learners_score_identically_on_identical_episodes():
    torch.manual_seed(0)
    maml = MAML(MLP())
    episodes = SinusoidTasks(support_size=5, query_size=20).sample(5, seed=3)
    torch.testing.assert_close(query_mse(maml, episodes, (1, 3)), query_mse(maml, episodes, (1, 3)))


def test_fraction_better_counts_a_diverged_task_as_worse():
    a = torch.tensor([1.0, 1.0, float("inf"), float("nan")])
    b = torch.tensor([2.0, 0.5, 3.0, 3.0])
    assert fraction_better(a, b).mean == pytest.approx(0.25)
    assert fraction_better(b, a).mean == pytest.approx(0.5)  # NaN is never better, nor worse
    assert count_diverged(a) == 2


def test_results_table_names_divergence_instead_of_a_meaningless_mean():
    scores = {"a": torch.tensor([[1.0, 2.0, float("inf"), 4.0]])}
    assert "1 of 4 diverged (median 2.000)" in results_table(scores, steps=(10,))


def test_results_table_uses_a_string_as_the_column_heading():
    table = results_table({"a": torch.tensor([[0.5, 1.0], [1.0, 1.0]])}, steps=("query accuracy", 0))
    assert table.splitlines()[0] == "| method | query accuracy | 0 steps |"
    assert table.splitlines()[2].startswith("| a | 0.750 ± ")


def test_episode_accuracy_equals_one_batch_of_every_episode():
    torch.manual_seed(0)
    images = torch.randn(8, 6, 1, 2, 2) + torch.arange(8.0).view(8, 1, 1, 1, 1)
    tasks = FewShotTasks(ImageClasses(images, [str(i) for i in range(8)]), ways=3, shots=1, queries=2)
    indices = tasks.fixed_episodes(7, seed=3)
    learner = ProtoNet(torch.nn.Sequential(torch.nn.Flatten(), MLP(in_features=4, out_features=4)))
    batched = episode_accuracy(learner, tasks, indices, batch_size=3)
    whole = query_accuracy(learner, tasks.episode(indices, slice(0, 7)))
    assert batched.shape == (1, 7)
    torch.testing.assert_close(batched, whole)
    with pytest.raises(ValueError, match="batch_size"):
        episode_accuracy(learner, tasks, indices, batch_size=0)


def test_count_flops_counts_a_grouped_convolution_as_its_groups():
    # per-task weights under vmap become one grouped convolution: its backward pass must cost
    # what the separate convolutions cost (torch 2.13's formula counts the weight gradient x groups)
    from torch import nn

    from mtl_tutorial.evaluation import count_flops

    x = torch.randn(2, 8, 10, 10)
    grouped = nn.Conv2d(8, 16, 3, groups=4)
    separate = [nn.Conv2d(2, 4, 3) for _ in range(4)]

    def backward_grouped():
        grouped(x).sum().backward()

    def backward_separate():
        for i, conv in enumerate(separate):
            conv(x[:, 2 * i : 2 * i + 2]).sum().backward()

    assert count_flops(backward_grouped) == count_flops(backward_separate) > 0


@pytest.mark.parametrize("make", [
    lambda: MAML(MLP(hidden=(16,))),
    lambda: MetaSGD(MLP(hidden=(16,))),
    lambda: ANIL(MLP(hidden=(16,))),
    lambda: Reptile(MLP(hidden=(16,))),
    lambda: FineTuning(MLP(hidden=(16,))),
], ids=["maml", "metasgd", "anil", "reptile", "finetuning"])  # fmt: skip
def test_scoring_without_a_graph_gives_the_same_numbers(make, monkeypatch):
    """Scoring adapts under no_grad (no graph for a meta-gradient): bit for bit the same MSE as
    adapting with the graph."""
    torch.manual_seed(0)
    learner = make()
    episodes = SinusoidTasks(support_size=5, query_size=20).sample(8, seed=3)
    adapt, recorded = learner.adapt, []

    def recording_adapt(*args, **kwargs):
        recorded.append(torch.is_grad_enabled())
        return adapt(*args, **kwargs)

    monkeypatch.setattr(learner, "adapt", recording_adapt)
    fast = query_mse(learner, episodes, steps=(1, 5))
    monkeypatch.setattr(type(learner), "adapts_without_autograd", False)
    assert torch.equal(query_mse(learner, episodes, steps=(1, 5)), fast)
    assert recorded == [False, False, True, True]


def test_diverged_tasks_counts_blow_ups_that_stay_finite():
    before = torch.tensor([1.0, 2.0, 3.0, 4.0])
    after = torch.tensor([0.5, 25.0, float("inf"), float("nan")])  # fine, 12.5x worse, inf, NaN
    assert diverged_tasks(after, before).tolist() == [False, True, True, True]
    assert diverged_tasks(after, before, factor=20).tolist() == [False, False, True, True]
    assert diverged_tasks(torch.stack([after, before]), before).shape == (2, 4)
    # a task that starts near zero is not diverged for an error still below the typical one
    small = torch.tensor([0.001, 3.0, 4.0, 5.0])
    assert diverged_tasks(torch.tensor([0.5, 3.0, 4.0, 5.0]), small).tolist() == [False] * 4
    assert diverged_tasks(torch.tensor([50.0, 3.0, 4.0, 5.0]), small).tolist() == [True, False, False, False]
    with pytest.raises(ValueError, match="must end with the tasks"):
        diverged_tasks(after[:3], before)


def test_summarise_gives_no_mean_where_a_task_diverged_by_the_package_rule():
    before = torch.tensor([1.0, 1.0, 1.0, 1.0])
    blown = torch.tensor([0.5, 0.4, 50.0, 0.3])  # finite, but 50x its error before adapting
    assert summarise(blown).mean is not None  # no `before`: only infinities and NaN count
    summary = summarise(blown, before)
    assert summary.mean is None and summary.diverged == 1 and summary.tasks == 4
    assert summary.text() == "1 of 4 diverged (median 0.400)"
    assert summary.fields() == {"value": None, "ci95": None, "median": 0.4, "diverged": 1, "tasks": 4}


def test_summarise_counts_nan_as_the_worst_task_and_keeps_json_free_of_infinity():
    summary = summarise(torch.tensor([float("nan"), float("inf"), 1.0]))
    assert summary.diverged == 2 and summary.median == float("inf")
    assert summary.fields()["median"] is None
    calm = summarise(torch.tensor([0.5, 1.0]))
    assert calm.text(".1%") == f"75.0% ± {calm.mean.ci95:.1%}" and calm.fields()["diverged"] == 0
    with pytest.raises(ValueError, match="1-D with at least 2 tasks"):
        summarise(torch.tensor([1.0]))


def test_fastest_seconds_times_runs_in_turn_after_an_untimed_warm_up():
    calls = []
    runs = {name: (lambda r, name=name: calls.append((name, r))) for name in ("a", "b")}
    seconds = fastest_seconds(runs, 2)
    # round 0 warms up (not timed); then the runs alternate, so load hits both alike
    assert calls == [("a", 0), ("b", 0), ("a", 1), ("b", 1), ("a", 2), ("b", 2)]
    assert set(seconds) == {"a", "b"} and all(0 <= s < float("inf") for s in seconds.values())
    with pytest.raises(ValueError, match="repeats must be an integer >= 1, got 0"):
        fastest_seconds({"a": lambda r: None}, 0)
