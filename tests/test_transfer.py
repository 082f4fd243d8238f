import torch

from mtl_tutorial import MLP, FineTuning, SinusoidTasks, seed_everything


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
