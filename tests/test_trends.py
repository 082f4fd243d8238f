"""The measurements of the trends chapter: checkpointed training, cost per iteration, meta-gradient cost."""

import time

import pytest
import torch

from mtl_tutorial import MAML, MLP, Reptile, SinusoidTasks, query_mse, seed_everything
from mtl_tutorial.experiments.trends import (
    TrainingCurve,
    meta_gradient_cost,
    seconds_per_iteration,
    train_with_checkpoints,
)

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


def test_recorded_seconds_exclude_the_scoring():
    def slow_score(learner):
        time.sleep(0.2)
        return score(learner)

    curve = train_with_checkpoints(
        small_maml(), TASKS, checkpoints=[0, 1, 2, 3], evaluate=slow_score, meta_batch_size=2
    )
    assert curve.seconds[0] == 0.0
    assert all(a <= b for a, b in zip(curve.seconds[:-1], curve.seconds[1:], strict=True))
    assert curve.seconds[-1] < 0.2  # three tiny iterations; 0.8 s of scoring left out


def test_a_run_without_checkpoint_zero_starts_scoring_later():
    curve = train_with_checkpoints(small_maml(), TASKS, checkpoints=[2, 5], evaluate=score)
    assert curve.iterations == [2, 5] and curve.scores.shape[0] == 2
    assert 0 < curve.seconds[0] <= curve.seconds[1]


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


class SleepyMAML(MAML):
    """MAML whose every training iteration also sleeps: a learner of known extra cost."""

    def training_loss(self, episode):
        time.sleep(0.01)
        return super().training_loss(episode)


def test_seconds_per_iteration_ranks_costs_and_leaves_the_learners_untrained():
    fast, sleepy = small_maml(), SleepyMAML(MLP(hidden=(16,)))
    before = flat_params(fast.model)
    cost = seconds_per_iteration({"fast": fast, "sleepy": sleepy}, TASKS, repeats=5)
    assert cost["sleepy"] >= 0.01  # a sleep only ever lasts at least as long as asked
    assert cost["sleepy"] > cost["fast"] > 0
    assert torch.equal(before, flat_params(fast.model))  # copies were timed, not the originals
    with pytest.raises(ValueError, match="at least one learner"):
        seconds_per_iteration({}, TASKS)


def test_meta_gradient_memory_grows_with_inner_steps_only_at_second_order():
    costs = {k: meta_gradient_cost((16, 16), inner_steps=k, meta_batch_size=5, repeats=1) for k in (1, 3, 6)}
    second = [costs[k]["second-order"].peak_bytes for k in (1, 3, 6)]
    first = [costs[k]["first-order"].peak_bytes for k in (1, 3, 6)]
    assert second[0] < second[1] < second[2]
    assert first[1] == first[2]  # a finished first-order step is freed
    assert second[2] > 2 * first[2]
    assert all(c[order].seconds > 0 for c in costs.values() for order in c)
    with pytest.raises(ValueError, match="inner_steps"):
        meta_gradient_cost(inner_steps=0)
    with pytest.raises(ValueError, match="repeats"):
        meta_gradient_cost(repeats=0)


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
    assert 0 < curve.cpu_seconds[0] <= curve.cpu_seconds[1]
