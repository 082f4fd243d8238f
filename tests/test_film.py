import pytest
import torch

from mtl_tutorial import (
    MLP,
    Episode,
    FiLMNetwork,
    FineTuning,
    GaussianClusterTasks,
    SinusoidTasks,
    TaskConditioned,
    query_accuracy,
    query_mse,
    seed_everything,
)


def trained_regressor():
    seed_everything(0)
    learner = TaskConditioned(FiLMNetwork())
    learner.fit(SinusoidTasks(), iterations=300, progress=False)
    return learner


def test_an_untrained_network_is_the_plain_base_network():
    seed_everything(0)
    learner = TaskConditioned(FiLMNetwork())
    a, b = SinusoidTasks().sample(2, seed=0)[0], SinusoidTasks().sample(2, seed=0)[1]
    x = torch.linspace(-5, 5, 7).view(1, 7, 1)
    torch.testing.assert_close(learner.predict(learner.adapt(a), x), learner.predict(learner.adapt(b), x))


def test_output_depends_on_the_support_set_and_not_on_its_order():
    learner = trained_regressor()
    episode = SinusoidTasks().sample(2, seed=1)
    x = torch.linspace(-5, 5, 7).view(1, 7, 1)
    first, second = episode[0], episode[1]
    with torch.no_grad():
        out_first = learner.predict(learner.adapt(first), x)
        out_second = learner.predict(learner.adapt(second), x)
        assert (out_first - out_second).abs().max() > 0.1
        order = torch.randperm(first.support_x.shape[1], generator=torch.Generator().manual_seed(0))
        shuffled = Episode(first.support_x[:, order], first.support_y[:, order], first.query_x, first.query_y)
        torch.testing.assert_close(learner.predict(learner.adapt(shuffled), x), out_first)


def test_task_conditioning_beats_a_shared_network_after_short_training():
    learner = trained_regressor()
    seed_everything(0)
    shared = FineTuning(MLP())
    shared.fit(SinusoidTasks(), iterations=300, progress=False)
    test = SinusoidTasks(support_size=10, query_size=50).sample(200, seed=2)
    assert query_mse(learner, test, steps=(0,)).mean() < query_mse(shared, test, steps=(0,)).mean()


def test_classification_and_a_wrong_number_of_ways():
    seed_everything(0)
    tasks = GaussianClusterTasks(num_ways=5, shots=2, dim=8)
    learner = TaskConditioned(FiLMNetwork(8, 5, (32,), encoder_hidden=(32,), num_classes=5), lr=3e-3)
    test = tasks.sample(50, seed=4)
    before = query_accuracy(learner, test).mean()
    learner.fit(tasks, iterations=600, meta_batch_size=8, progress=False)
    after = query_accuracy(learner, test).mean()
    assert after > 0.3 and after > before + 0.1  # chance is 0.2
    with pytest.raises(ValueError, match="built for 5-way tasks, got a 3-way episode"):
        learner.adapt(GaussianClusterTasks(num_ways=3, dim=8).sample(1, seed=0))
