"""The in-context learner: what a prediction may depend on, and that meta-training teaches it."""

import pytest
import torch

from mtl_tutorial import Episode, InContext, InContextTransformer, SinusoidTasks, query_mse, seed_everything
from mtl_tutorial.tasks import GaussianClusterTasks


def small() -> InContext:
    seed_everything(0)
    return InContext(InContextTransformer(width=16, depth=2, heads=2))


def test_a_query_sees_the_support_set_and_itself_only():
    learner = small()
    tasks = SinusoidTasks(support_size=5, query_size=6).sample(3, seed=0)
    context = learner.adapt(tasks)
    together = learner.predict(context, tasks.query_x)
    one_by_one = torch.cat([learner.predict(context, tasks.query_x[:, i : i + 1]) for i in range(6)], dim=1)
    torch.testing.assert_close(together, one_by_one)  # the other queries change nothing
    shuffled = context[:, torch.randperm(5, generator=torch.Generator().manual_seed(1))]
    torch.testing.assert_close(learner.predict(shuffled, tasks.query_x), together)  # nor their order
    other = learner.adapt(SinusoidTasks(support_size=5, query_size=6).sample(3, seed=1))
    assert not torch.allclose(learner.predict(other, tasks.query_x), together)  # the support set: yes


def test_adapting_changes_no_weight_and_ignores_steps():
    learner = small()
    tasks = SinusoidTasks(support_size=5).sample(2, seed=0)
    before = [p.clone() for p in learner.model.parameters()]
    assert torch.equal(learner.adapt(tasks, steps=3), learner.adapt(tasks))
    assert all(torch.equal(a, b) for a, b in zip(before, learner.model.parameters(), strict=True))
    assert learner.adapted_parameters() == 0


def test_meta_training_teaches_it_to_read_the_support_set():
    learner = small()
    test = SinusoidTasks(support_size=10, query_size=20).sample(100, seed=2017)
    before = query_mse(learner, test, steps=(0,))[0].mean()
    learner.fit(SinusoidTasks(), iterations=300, meta_batch_size=10, seed=0, progress=False)
    after = query_mse(learner, test, steps=(0,))[0].mean()
    assert after < 0.6 * before
    # and what it learned is read from the support set: another task's support set is worse
    swapped = learner.predict(learner.adapt(test).roll(1, dims=0), test.query_x)
    assert ((swapped - test.query_y) ** 2).mean() > 1.5 * after


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: InContextTransformer(width=10, heads=4), "heads must divide width"),
        (lambda: InContextTransformer(depth=0), "depth"),
        (lambda: InContext(torch.nn.Linear(1, 1)), "InContextTransformer"),
    ],
)
def test_bad_settings_are_refused(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_episodes_it_cannot_read_are_refused():
    learner = small()
    with pytest.raises(ValueError, match="regression"):
        learner.adapt(GaussianClusterTasks(num_ways=3, dim=1).sample(2, seed=0))
    wide = SinusoidTasks().sample(2, seed=0)
    wide = Episode(wide.support_x.repeat(1, 1, 2), wide.support_y, wide.query_x.repeat(1, 1, 2), wide.query_y)
    with pytest.raises(ValueError, match=r"widths \(1, 1\), got \(2, 1\)"):
        learner.adapt(wide)


def test_min_support_trains_on_support_sets_of_every_size_in_its_range():
    seed_everything(0)
    learner = InContext(InContextTransformer(width=16, depth=1, heads=2), min_support=3)
    seen = []
    learner.model.register_forward_pre_hook(lambda module, args: seen.append(args[0].shape[1]))
    episode = SinusoidTasks(support_size=6).sample(2, seed=0)
    for _ in range(60):
        learner.training_loss(episode)
    assert set(seen) == {3, 4, 5, 6}  # every size from min_support to K, and no other
    learner.adapt(episode)  # adapting and scoring read the whole support set
    assert small().min_support is None and learner.config()["min_support"] == 3
    with pytest.raises(ValueError, match="min_support"):
        InContext(InContextTransformer(width=16, depth=1, heads=2), min_support=0)
