import pytest
import torch
from torch import nn

from mtl_tutorial import MLP, Episode, FineTuning, SinusoidTasks, seed_everything
from mtl_tutorial.transfer import RidgeProbe


@pytest.mark.slow
def test_pretraining_lowers_the_pooled_loss():
    seed_everything(0)
    learner = FineTuning(MLP())
    losses = learner.fit(SinusoidTasks(), iterations=600, seed=0)
    assert sum(losses[-100:]) / 100 < 0.8 * sum(losses[:20]) / 20


def test_fine_tuning_starts_from_the_pretrained_weights():
    """The source's §4.2.2 never loads the source weights; here adaptation must start from them."""
    seed_everything(0)
    learner = FineTuning(MLP())
    before = {k: v.detach().clone() for k, v in learner.model.named_parameters()}
    learner.fit(SinusoidTasks(), iterations=50, seed=0)
    episode = SinusoidTasks(support_size=5).sample(3, seed=1)
    start = learner.adapt(episode, steps=0)
    for name, p in learner.model.named_parameters():
        assert not torch.equal(p, before[name])  # pretraining changed the weights ...
        assert torch.equal(start[name][0], p)  # ... and adaptation starts from the changed ones


@pytest.mark.slow
def test_fine_tuning_lowers_the_support_loss_and_leaves_the_pretrained_model_untouched():
    seed_everything(0)
    learner = FineTuning(MLP(), adapt_lr=0.01)
    learner.fit(SinusoidTasks(), iterations=200, seed=0)
    frozen = [p.detach().clone() for p in learner.model.parameters()]
    episode = SinusoidTasks(support_size=5).sample(20, seed=2)

    def support_mse(steps: int) -> torch.Tensor:
        adapted = learner.adapt(episode, steps=steps)
        with torch.no_grad():
            return ((learner.predict(adapted, episode.support_x) - episode.support_y) ** 2).mean()

    assert support_mse(10) < 0.9 * support_mse(0)
    for p, q in zip(learner.model.parameters(), frozen, strict=True):
        assert torch.equal(p, q)


def test_adapting_a_batch_equals_adapting_each_task_alone():
    seed_everything(0)
    learner = FineTuning(MLP())
    episode = SinusoidTasks(support_size=5).sample(4, seed=3)
    batched = learner.predict(learner.adapt(episode, steps=3), episode.query_x)
    for i in range(4):
        alone = learner.predict(learner.adapt(episode[i], steps=3), episode[i].query_x)
        torch.testing.assert_close(batched[i : i + 1], alone)


def test_ridge_probe_recovers_a_target_that_is_linear_in_its_features():
    torch.manual_seed(0)
    probe = RidgeProbe(MLP(), ridge=1e-6)
    tasks = SinusoidTasks(support_size=100, query_size=50).sample(3, seed=0)
    # targets made by a random last layer on the probe's own features: the probe must find them
    weights = torch.randn(3, 41, 1)
    support_y = probe.features(tasks.support_x) @ weights
    query_y = probe.features(tasks.query_x) @ weights
    episode = Episode(tasks.support_x, support_y, tasks.query_x, query_y)
    adapted = probe.adapt(episode)
    assert torch.allclose(probe.predict(adapted, episode.support_x), support_y, atol=1e-3)
    # on new inputs too: the error is a thousandth of the targets' variance (nearly collinear
    # ReLU features leave a little shrinkage along their smallest directions)
    query_error = ((probe.predict(adapted, episode.query_x) - query_y) ** 2).mean()
    assert query_error < 1e-3 * query_y.var()
    assert list(probe.model.parameters())[0].grad is None  # the network itself is untouched


def test_ridge_probe_refuses_a_model_without_a_last_linear_layer_and_a_bad_ridge():
    with pytest.raises(ValueError, match="nn.Linear"):
        RidgeProbe(nn.Sequential(nn.Linear(1, 4), nn.ReLU()))
    with pytest.raises(ValueError, match="ridge"):
        RidgeProbe(MLP(), ridge=0.0)
