"""Meta-SGD and ANIL: the MAML variants, checked against MAML itself."""

import pytest
import torch

from mtl_tutorial import (
    ANIL,
    MAML,
    MLP,
    GaussianClusterTasks,
    MetaSGD,
    SinusoidTasks,
    query_accuracy,
    seed_everything,
)

from helpers import as_double, flat_params


def twin_models():
    torch.manual_seed(0)
    a = MLP(hidden=(8, 8)).double()
    b = MLP(hidden=(8, 8)).double()
    b.load_state_dict(a.state_dict())
    return a, b


def test_metasgd_with_frozen_rates_is_maml_with_that_rate():
    a, b = twin_models()
    maml = MAML(a, inner_lr=0.05, inner_steps=2)
    metasgd = MetaSGD(b, inner_lr=0.05, inner_steps=2, learn_rates=False)
    episode = as_double(SinusoidTasks().sample(4, seed=0))
    maml_loss, metasgd_loss = maml.meta_loss(episode), metasgd.meta_loss(episode)
    torch.testing.assert_close(metasgd_loss, maml_loss)
    maml_loss.backward()
    metasgd_loss.backward()
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad)
    # and training follows the same trajectory
    a, b = a.float(), b.float()
    maml, metasgd = (
        MAML(a, inner_lr=0.05, inner_steps=2),
        MetaSGD(b, inner_lr=0.05, inner_steps=2, learn_rates=False),
    )
    maml.fit(SinusoidTasks(), iterations=5, meta_batch_size=3, seed=1, progress=False)
    metasgd.fit(SinusoidTasks(), iterations=5, meta_batch_size=3, seed=1, progress=False)
    torch.testing.assert_close(flat_params(a), flat_params(b))
    assert all(not p.requires_grad for p in metasgd.learning_rates.parameters())


def test_metasgd_learns_one_rate_per_weight():
    seed_everything(0)
    metasgd = MetaSGD(MLP(), inner_lr=0.01)
    for name, p in metasgd.model.named_parameters():
        assert metasgd.learning_rates.as_dict()[name].shape == p.shape
    before = flat_params(metasgd.learning_rates)
    metasgd.fit(SinusoidTasks(), iterations=30, progress=False)
    after = flat_params(metasgd.learning_rates)
    assert torch.equal(before, torch.full_like(before, 0.01))
    assert not torch.equal(before, after)
    assert after.std() > 0  # the rates are no longer all alike


def test_metasgd_meta_gradient_reaches_the_learning_rates():
    seed_everything(0)
    metasgd = MetaSGD(MLP(hidden=(8,)))
    metasgd.meta_loss(SinusoidTasks().sample(3, seed=0)).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in metasgd.learning_rates.parameters())


def test_anil_adapts_only_the_head_and_meta_trains_everything():
    seed_everything(0)
    anil = ANIL(MLP(hidden=(8, 8)), inner_lr=0.1)
    assert anil.head == ["net.4.weight", "net.4.bias"]
    episode = SinusoidTasks().sample(3, seed=0)
    adapted = anil.adapt(episode, steps=3)
    for name, p in anil.model.named_parameters():
        changed = not torch.equal(adapted[name][0], p)
        assert changed == (name in anil.head), name
    anil.meta_loss(episode).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in anil.model.parameters())


def test_anil_rejects_an_unknown_head():
    with pytest.raises(ValueError, match="head must name parameters"):
        ANIL(MLP(), head=["no.such.weight"])


@pytest.mark.parametrize("learner_class", [MAML, ANIL, MetaSGD])
def test_gradient_meta_learners_classify(learner_class):
    """A short run on noisy 5-way Gaussian clusters improves one-step accuracy (chance: 20%)."""
    seed_everything(0)
    tasks = GaussianClusterTasks(num_ways=5, shots=1, dim=8, noise_std=0.8)
    learner = learner_class(MLP(8, (32,), 5), inner_lr=0.5, inner_steps=1, adapt_steps=1, outer_lr=3e-3)
    test = tasks.sample(100, seed=99)
    before = query_accuracy(learner, test, steps=(1,)).mean()
    learner.fit(tasks, iterations=150, meta_batch_size=8, progress=False)
    after = query_accuracy(learner, test, steps=(1,)).mean()
    assert after > 0.55 and after > before + 0.08


def test_metasgd_rates_lr_moves_the_step_sizes_at_their_own_adam_rate():
    torch.manual_seed(0)
    learner = MetaSGD(MLP(), rates_lr=1e-6)

    def flat(module):
        return torch.cat([p.detach().flatten() for p in module.parameters()])

    rates_before, weights_before = flat(learner.learning_rates), flat(learner.model)
    learner.training_step(SinusoidTasks().sample(4, seed=0))
    # Adam's first step moves every entry by about its learning rate
    rate_moves = (flat(learner.learning_rates) - rates_before).abs().max().item()
    weight_moves = (flat(learner.model) - weights_before).abs().max().item()
    assert 0 < rate_moves <= 1.01e-6
    assert weight_moves > 5e-4  # the network still at outer_lr 1e-3
    assert learner.config()["rates_lr"] == 1e-6
    with pytest.raises(ValueError, match="rates_lr"):
        MetaSGD(MLP(), rates_lr=0.0)


def test_metasgd_max_rate_keeps_the_step_sizes_in_range_after_every_outer_step():
    torch.manual_seed(0)
    # outer_lr 0.01 moves each entry by about 0.01 per step: 0.005 +- 0.01 leaves [0, 0.008]
    free, bounded = (MetaSGD(MLP(), inner_lr=0.005, outer_lr=0.01, max_rate=m) for m in (None, 0.008))
    bounded.load_state_dict(free.state_dict())
    for seed in range(3):
        for learner in (free, bounded):
            learner.training_step(SinusoidTasks().sample(4, seed=seed))
    free_rates = torch.cat([r.flatten() for r in free.learning_rates.parameters()])
    rates = torch.cat([r.detach().flatten() for r in bounded.learning_rates.parameters()])
    assert free_rates.min() < 0 and free_rates.max() > 0.008  # unbounded, they leave the range
    assert rates.min() >= 0 and rates.max() <= 0.008
    assert (rates == 0).any() and (rates == 0.008).any()  # and the projection was active
    assert bounded.config()["max_rate"] == 0.008
    with pytest.raises(ValueError, match="max_rate"):
        MetaSGD(MLP(), max_rate=-1.0)
    with pytest.raises(ValueError, match="at most max_rate"):
        MetaSGD(MLP(), inner_lr=0.01, max_rate=0.005)
