"""The measurements of the trends chapter: checkpointed training, cost per iteration, meta-gradient cost.

No test here depends on the speed of the machine: costs are checked in FLOPs and bytes, and the
seconds the module records are checked against a fake clock that only the tests advance.
"""

import types

import pytest
import torch

from mtl_tutorial import MAML, MLP, Reptile, SinusoidTasks, query_mse, seed_everything
from mtl_tutorial.evaluation import cost as evaluation_cost
from mtl_tutorial.evaluation import count_flops
from mtl_tutorial.experiments import trends
from mtl_tutorial.experiments.trends import (
    MetaGradientCost,
    TrainingCurve,
    flops_per_iteration,
    meta_gradient_cost,
    meta_gradient_sweep,
    seconds_per_iteration,
    sinusoid_iteration_costs,
    sinusoid_training_curves,
    train_with_checkpoints,
)
from mtl_tutorial.recipes import cached_call
from mtl_tutorial.registry import sinusoid_learner

from helpers import flat_params

TASKS = SinusoidTasks()
TEST = SinusoidTasks(support_size=5, query_size=20).sample(20, seed=1)


def small_maml() -> MAML:
    seed_everything(0)
    return MAML(MLP(hidden=(16,)), inner_lr=0.05)


def small_reptile() -> Reptile:
    seed_everything(0)
    return Reptile(MLP(hidden=(16,)), inner_lr=0.02, inner_steps=3, outer_lr=0.5, anneal=True)


def score(learner):
    return query_mse(learner, TEST, steps=(0, 2))


class FakeClock:
    """Stands in for the ``time`` module of :mod:`mtl_tutorial.evaluation.cost`, whose clocks
    (the training clock and the display timer) read ``now``, which moves only when a test calls
    :meth:`advance`."""

    def __init__(self):
        self.now = 0.0

    def advance(self, seconds):
        self.now += seconds

    def __deepcopy__(self, memo):  # copies of a learner (seconds_per_iteration's) share the clock
        return self

    def module(self):
        return types.SimpleNamespace(perf_counter=lambda: self.now, process_time=lambda: self.now)


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(evaluation_cost, "time", fake.module())
    return fake


class TickingMAML(MAML):
    """MAML whose every training iteration takes ``tick`` seconds of the fake clock."""

    def __init__(self, clock, tick, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.clock, self.tick = clock, tick

    def training_loss(self, episode):
        self.clock.advance(self.tick)
        return super().training_loss(episode)


def ticking_maml(clock, tick=1.0):
    seed_everything(0)
    return TickingMAML(clock, tick, MLP(hidden=(16,)), inner_lr=0.05)


@pytest.mark.parametrize("make", [small_maml, small_reptile])
def test_checkpointed_training_is_the_uninterrupted_run(make):
    """Scoring mid-run changes nothing: same weights and losses as one plain fit, Reptile's
    annealing over the whole run included."""
    plain = make()
    plain_losses = plain.fit(TASKS, iterations=12, meta_batch_size=4, seed=3, progress=False)
    scored = make()
    curve = train_with_checkpoints(
        scored, TASKS, checkpoints=[0, 5, 9, 12], evaluate=score, meta_batch_size=4, seed=3
    )
    assert torch.equal(flat_params(plain.model), flat_params(scored.model))
    assert curve.losses == plain_losses
    assert curve.iterations == [0, 5, 9, 12]
    assert curve.scores.shape == (4, 2, 20)


def test_each_checkpoint_scores_the_learner_after_that_many_iterations():
    curve = train_with_checkpoints(small_maml(), TASKS, checkpoints=[0, 4, 8], evaluate=score, seed=2)
    for iterations, scores in zip(curve.iterations, curve.scores, strict=True):
        reference = small_maml()
        if iterations:
            reference.fit(TASKS, iterations=iterations, seed=2, progress=False)
        torch.testing.assert_close(scores, score(reference))
    # training lowered the error after adaptation
    assert curve.scores[-1, 1].mean() < curve.scores[0, 1].mean()


def test_recorded_seconds_exclude_the_scoring(clock):
    def slow_score(learner):
        clock.advance(100.0)  # scoring "takes" 100 s of the fake clock, each iteration 1 s
        return score(learner)

    curve = train_with_checkpoints(
        ticking_maml(clock), TASKS, checkpoints=[0, 1, 2, 3], evaluate=slow_score, meta_batch_size=2
    )
    assert curve.seconds == [0.0, 1.0, 2.0, 3.0]
    assert curve.cpu_seconds == [0.0, 1.0, 2.0, 3.0]


def test_a_run_without_checkpoint_zero_starts_scoring_later(clock):
    curve = train_with_checkpoints(ticking_maml(clock), TASKS, checkpoints=[2, 5], evaluate=score)
    assert curve.iterations == [2, 5] and curve.scores.shape[0] == 2
    assert curve.seconds == [2.0, 5.0]  # counted from the start of training


@pytest.mark.parametrize("checkpoints", [[], [0, 5, 5], [4, 2], [-1, 3]])
def test_bad_checkpoints_are_refused(checkpoints):
    with pytest.raises(ValueError, match="checkpoints"):
        train_with_checkpoints(small_maml(), TASKS, checkpoints=checkpoints, evaluate=score)


def test_first_reaching_finds_the_first_checkpoint_at_or_below_the_threshold():
    curve = TrainingCurve(
        iterations=[0, 10, 20, 30],
        seconds=[0.0, 1.0, 2.0, 3.0],
        scores=torch.tensor([[4.0, 4.0], [2.0, 3.0], [1.0, 1.0], [0.5, 0.7]]),
    )
    mean = lambda scores: scores.mean().item()  # noqa: E731
    assert curve.first_reaching(2.5, mean) == 1
    assert curve.first_reaching(1.0, mean) == 2
    assert curve.first_reaching(0.1, mean) is None


def test_seconds_per_iteration_reads_the_clock_per_iteration_and_leaves_the_learners_untrained(clock):
    free, ticking = small_maml(), ticking_maml(clock, tick=0.01)
    before = flat_params(free.model)
    cost = seconds_per_iteration({"free": free, "ticking": ticking}, TASKS, iterations=2, repeats=3)
    assert cost == {"free": 0.0, "ticking": pytest.approx(0.01)}
    assert torch.equal(before, flat_params(free.model))  # copies were timed, not the originals
    with pytest.raises(ValueError, match="at least one learner"):
        seconds_per_iteration({}, TASKS)


def test_flops_per_iteration_is_one_training_step_of_a_copy():
    maml, reptile = small_maml(), small_reptile()
    before = {"maml": flat_params(maml.model), "reptile": flat_params(reptile.model)}
    flops = flops_per_iteration({"maml": maml, "reptile": reptile}, TASKS, meta_batch_sizes={"maml": 4})
    # the originals are untouched: not trained, no optimiser created
    assert torch.equal(before["maml"], flat_params(maml.model)) and maml._optimizer is None
    assert torch.equal(before["reptile"], flat_params(reptile.model))
    # MAML's iteration is its training loss and backward (the Adam step has no matrix products)
    batch = TASKS.sample(4, seed=0)
    assert flops["maml"] == count_flops(lambda: small_maml().training_loss(batch).backward())
    assert flops["reptile"] > 0 and set(flops) == {"maml", "reptile"}


def test_first_order_maml_counts_fewer_flops_than_second_order():
    seed_everything(0)
    learners = {
        "second": MAML(MLP(hidden=(16,)), inner_lr=0.05),
        "first": MAML(MLP(hidden=(16,)), inner_lr=0.05, first_order=True),
    }
    flops = flops_per_iteration(learners, TASKS, meta_batch_sizes={"second": 4, "first": 4})
    assert 0 < flops["first"] < flops["second"]


@pytest.mark.parametrize("make", [small_maml, small_reptile])
def test_flops_double_when_the_meta_batch_doubles(make):
    flops = flops_per_iteration({"4": make(), "8": make()}, TASKS, meta_batch_sizes={"4": 4, "8": 8})
    assert flops["8"] == 2 * flops["4"]


def test_reptile_flops_grow_with_its_inner_steps():
    def reptile(steps):
        seed_everything(0)
        return Reptile(MLP(hidden=(16,)), inner_lr=0.02, inner_steps=steps, outer_lr=0.5)

    flops = flops_per_iteration({"3": reptile(3), "6": reptile(6)}, TASKS)
    assert flops["6"] > flops["3"]


def test_flops_per_iteration_refuses_no_learners():
    with pytest.raises(ValueError, match="at least one learner"):
        flops_per_iteration({}, TASKS)


@pytest.fixture(scope="module")
def costs():
    """Meta-gradient costs of a small network after 1, 3 and 6 inner steps, by step count."""
    return {k: meta_gradient_cost((16, 16), inner_steps=k, meta_batch_size=5, repeats=1) for k in (1, 3, 6)}


def test_meta_gradient_memory_grows_with_inner_steps_only_at_second_order(costs):
    second = [costs[k]["second-order"].peak_bytes for k in (1, 3, 6)]
    first = [costs[k]["first-order"].peak_bytes for k in (1, 3, 6)]
    assert second[0] < second[1] < second[2]
    assert first[1] == first[2]  # a finished first-order step is freed
    assert second[2] > 2 * first[2]
    with pytest.raises(ValueError, match="inner_steps"):
        meta_gradient_cost(inner_steps=0)
    with pytest.raises(ValueError, match="repeats"):
        meta_gradient_cost(repeats=0)


def test_meta_gradient_flops_grow_with_inner_steps_and_cost_more_at_second_order(costs):
    second = [costs[k]["second-order"].flops for k in (1, 3, 6)]
    first = [costs[k]["first-order"].flops for k in (1, 3, 6)]
    assert 0 < first[0] < first[1] < first[2]
    assert second[0] < second[1] < second[2]
    assert all(s > f for s, f in zip(second, first, strict=True))
    # the count is of one meta-gradient, so it is proportional to the tasks of the meta-batch
    double = meta_gradient_cost((16, 16), inner_steps=3, meta_batch_size=10, repeats=1)
    assert double["second-order"].flops == 2 * second[1]


def test_pretraining_can_be_scored_during_its_run():
    from mtl_tutorial.models import Conv4
    from mtl_tutorial.tasks import FewShotTasks, ImageClasses
    from mtl_tutorial.transfer import SupervisedPretraining

    classes = ImageClasses(torch.rand(6, 4, 1, 16, 16), list("abcdef"))
    pretrained = SupervisedPretraining(Conv4(channels=4))
    curve = train_with_checkpoints(
        pretrained, FewShotTasks(classes, ways=2, queries=1), checkpoints=[1, 3],
        evaluate=lambda p: torch.tensor([float(p.fitted)]),
    )  # fmt: skip
    assert curve.iterations == [1, 3] and len(curve.losses) == 3
    assert curve.scores.tolist() == [[1.0], [1.0]]  # scored during the run, with its head in place
    assert len(curve.cpu_seconds) == 2


# -- the chapter's experiments with JSON arguments, and their cached results -------------------

SPECS = {
    "maml": {"method": "maml", "hidden": [16], "inner_lr": 0.05},
    "reptile": {"method": "reptile", "hidden": [16], "inner_lr": 0.02, "inner_steps": 3},
}
TINY = {
    "learners": SPECS,
    "checkpoints": {"maml": [0, 2, 4], "reptile": [0, 3]},
    "meta_batch_sizes": {"maml": 4, "reptile": 2},
    "steps": [1, 2],
    "support_size": 5,
    "query_size": 20,
    "test_tasks": 6,
    "test_seed": 1,
}


def test_training_curves_are_the_checkpointed_runs_and_rebuild_the_learners():
    result = sinusoid_training_curves(**TINY)
    assert set(result["curves"]) == set(result["states"]) == {"maml", "reptile"}
    test_set = SinusoidTasks(support_size=5, query_size=20).sample(6, seed=1)
    for name, spec in SPECS.items():
        seed_everything(0)
        reference = sinusoid_learner(**spec)
        expected = train_with_checkpoints(
            reference, SinusoidTasks(), checkpoints=TINY["checkpoints"][name], seed=0,
            evaluate=lambda learner: query_mse(learner, test_set, steps=(1, 2)),
            meta_batch_size=TINY["meta_batch_sizes"][name],
        )  # fmt: skip
        curve = result["curves"][name]
        assert torch.equal(curve.scores, expected.scores) and curve.losses == expected.losses
        assert curve.iterations == TINY["checkpoints"][name] and curve.scores.shape[1:] == (2, 6)
        rebuilt = sinusoid_learner(**spec)  # other initial weights: the state replaces them
        rebuilt.load_state_dict(result["states"][name])
        assert torch.equal(flat_params(rebuilt.model), flat_params(reference.model))
        torch.testing.assert_close(query_mse(rebuilt, test_set, steps=(1, 2)), curve.scores[-1])


def test_a_cached_call_of_the_training_curves_loads_the_same_result(tmp_path, monkeypatch):
    first = cached_call("trends_test", sinusoid_training_curves, safe_types=[TrainingCurve],
                        cache_dir=tmp_path, **TINY)  # fmt: skip

    def refuse(*args, **kwargs):
        raise AssertionError("the result should have been loaded, not computed again")

    monkeypatch.setattr(trends, "train_with_checkpoints", refuse)
    second = cached_call("trends_test", sinusoid_training_curves, safe_types=[TrainingCurve],
                         cache_dir=tmp_path, **TINY)  # fmt: skip
    assert second is not first
    for name, curve in first["curves"].items():
        loaded = second["curves"][name]
        assert isinstance(loaded, TrainingCurve) and torch.equal(loaded.scores, curve.scores)
        assert (loaded.iterations, loaded.losses) == (curve.iterations, curve.losses)
        assert (loaded.seconds, loaded.cpu_seconds) == (curve.seconds, curve.cpu_seconds)
        state, loaded_state = first["states"][name], second["states"][name]
        assert set(state) == set(loaded_state)
        for module in state:
            assert all(torch.equal(state[module][k], loaded_state[module][k]) for k in state[module])


def test_iteration_costs_are_those_of_fresh_learners_of_the_specifications(clock):
    sizes = {"maml": 2, "reptile": 2}
    cost = sinusoid_iteration_costs(learners=SPECS, meta_batch_sizes=sizes, repeats=2)
    built = {name: sinusoid_learner(**spec) for name, spec in SPECS.items()}
    assert cost["flops"] == flops_per_iteration(built, TASKS, meta_batch_sizes=sizes)
    assert cost["seconds"] == {"maml": 0.0, "reptile": 0.0}  # the fake clock never moved


def test_meta_gradient_sweep_is_meta_gradient_cost_by_depth_and_steps(tmp_path):
    sweep = meta_gradient_sweep(depths=[1, 2], inner_steps=[1, 3], width=8, repeats=1, meta_batch_size=3)
    assert set(sweep) == {(1, 1), (1, 3), (2, 1), (2, 3)}
    single = meta_gradient_cost((8, 8), inner_steps=3, repeats=1, meta_batch_size=3)
    for order in ("second-order", "first-order"):
        assert sweep[2, 3][order].flops == single[order].flops
        assert sweep[2, 3][order].peak_bytes == single[order].peak_bytes
    kwargs = {"depths": [1], "inner_steps": [1], "width": 8, "repeats": 1, "meta_batch_size": 3}
    computed = cached_call("sweep_test", meta_gradient_sweep, safe_types=[MetaGradientCost],
                           cache_dir=tmp_path, **kwargs)  # fmt: skip
    loaded = cached_call("sweep_test", meta_gradient_sweep, safe_types=[MetaGradientCost],
                         cache_dir=tmp_path, **kwargs)  # fmt: skip
    assert loaded == computed and loaded is not computed
