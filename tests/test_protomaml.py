"""Proto-MAML: a ProtoNet before its first step, MAML after, and the meta-gradient it should have."""

import copy

import pytest
import torch
import torch.nn.functional as F

from mtl_tutorial import (
    MLP,
    GaussianClusterTasks,
    ProtoMAML,
    ProtoNet,
    SinusoidTasks,
    query_accuracy,
    seed_everything,
)
from mtl_tutorial.models import Conv4
from mtl_tutorial.tasks import Episode


def clusters(tasks: int = 3, seed: int = 0) -> Episode:
    episode = GaussianClusterTasks(num_ways=3, shots=2, queries=4, dim=6).sample(tasks, seed=seed)
    return Episode(episode.support_x.double(), episode.support_y, episode.query_x.double(), episode.query_y,
                   num_ways=3)  # fmt: skip


def encoder(seed: int = 0) -> MLP:
    seed_everything(seed)
    return MLP(6, (16,), 5).double()


def test_before_any_step_it_classifies_as_the_protonet_on_the_same_encoder():
    episode = clusters()
    proto_maml = ProtoMAML(encoder(), features=5)
    protonet = ProtoNet(copy.deepcopy(proto_maml.model.encoder))
    ours = proto_maml.predict(proto_maml.adapt(episode, steps=0), episode.query_x)
    theirs = protonet.predict(protonet.adapt(episode), episode.query_x)
    difference = ours - theirs  # ‖f(x)‖², the same for every class of a query
    torch.testing.assert_close(difference, difference[..., :1].expand_as(difference))
    torch.testing.assert_close(F.softmax(ours, -1), F.softmax(theirs, -1))


def test_with_no_inner_step_its_meta_gradient_is_the_protonets_gradient():
    episode = clusters()
    proto_maml = ProtoMAML(encoder(), features=5, inner_steps=0)
    protonet = ProtoNet(copy.deepcopy(proto_maml.model.encoder))
    ours = torch.autograd.grad(proto_maml.meta_loss(episode), list(proto_maml.model.encoder.parameters()))
    theirs = torch.autograd.grad(protonet.training_loss(episode), list(protonet.model.parameters()))
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b)  # the gradient reaches the encoder through the prototypes


def by_hand(proto_maml: ProtoMAML, episode: Episode, first_order: bool) -> list[torch.Tensor]:
    """The meta-gradient written out: one inner step of the encoder and of an output layer that
    starts at the prototypes, and is, in that step, a weight of its own."""
    net = proto_maml.model.encoder
    names = [n for n, _ in net.named_parameters()]
    params = tuple(net.parameters())

    def logits(encoder, weight, bias, x):
        return torch.func.functional_call(net, dict(zip(names, encoder, strict=True)), (x,)) @ weight.T + bias

    total = 0.0
    for t in range(episode.num_tasks):
        sx, sy, qx, qy = episode.support_x[t], episode.support_y[t], episode.query_x[t], episode.query_y[t]
        embedding = torch.func.functional_call(net, dict(zip(names, params, strict=True)), (sx,))
        prototypes = torch.stack([embedding[sy == k].mean(0) for k in range(3)])
        start = (params, 2 * prototypes, -(prototypes**2).sum(-1))

        def support_loss(encoder, weight, bias, sx=sx, sy=sy):
            return F.cross_entropy(logits(encoder, weight, bias, sx), sy)

        grads = torch.func.grad(support_loss, argnums=(0, 1, 2))(*start)
        if first_order:  # the step is a constant; the path through the prototypes stays
            grads = torch.utils._pytree.tree_map(torch.Tensor.detach, grads)
        step = proto_maml.inner_lr
        encoder = [p - step * g for p, g in zip(start[0], grads[0], strict=True)]
        weight, bias = start[1] - step * grads[1], start[2] - step * grads[2]
        total = total + F.cross_entropy(logits(encoder, weight, bias, qx), qy) / episode.num_tasks
    return list(torch.autograd.grad(total, params))


@pytest.mark.parametrize("first_order", [True, False])
def test_meta_gradient_equals_the_one_written_out(first_order):
    episode = clusters()
    proto_maml = ProtoMAML(encoder(), features=5, inner_lr=0.3, first_order=first_order)
    ours = torch.autograd.grad(proto_maml.meta_loss(episode), list(proto_maml.model.encoder.parameters()))
    for a, b in zip(ours, by_hand(proto_maml, episode, first_order), strict=True):
        torch.testing.assert_close(a, b)


def test_first_order_drops_terms_that_second_order_keeps():
    episode = clusters()
    grads = {}
    for first_order in (True, False):
        proto_maml = ProtoMAML(encoder(), features=5, inner_lr=0.3, first_order=first_order)
        weights = list(proto_maml.model.parameters())
        grads[first_order] = torch.autograd.grad(proto_maml.meta_loss(episode), weights)
    assert not all(torch.allclose(a, b) for a, b in zip(grads[True], grads[False], strict=True))
    default = ProtoMAML(encoder(), features=5)
    assert default.name == "protomaml" and default.first_order


def test_a_step_lowers_the_support_loss_and_changes_the_encoder_per_task():
    episode = clusters()
    proto_maml = ProtoMAML(encoder(), features=5, inner_lr=0.1)
    losses = []
    for steps in (0, 1):
        adapted = proto_maml.adapt(episode, steps=steps)
        logits = proto_maml.predict(adapted, episode.support_x)
        losses.append(F.cross_entropy(logits.reshape(-1, 3), episode.support_y.reshape(-1)).item())
    assert losses[1] < losses[0]
    first = next(n for n in adapted if n.startswith("encoder."))
    assert adapted[first].shape[0] == episode.num_tasks
    assert not torch.allclose(adapted[first][0], adapted[first][1])
    encoder_size = sum(p.numel() for p in proto_maml.model.parameters())
    assert proto_maml.adapted_parameters(ways=3) == encoder_size + 3 * 6


def test_meta_training_improves_accuracy():
    seed_everything(0)
    tasks = GaussianClusterTasks(num_ways=5, shots=1, dim=16, noise_std=1.0)
    proto_maml = ProtoMAML(MLP(16, (32,), 16), features=16, inner_lr=0.1, adapt_steps=1)
    test = tasks.sample(100, seed=2017)
    before = query_accuracy(proto_maml, test).mean()
    proto_maml.fit(tasks, iterations=150, meta_batch_size=8, seed=0, progress=False)
    assert query_accuracy(proto_maml, test).mean() > before + 0.05


def test_tasks_run_under_vmap_or_one_by_one_with_the_same_result():
    episode = clusters()
    proto_maml = ProtoMAML(encoder(), features=5, inner_lr=0.3)
    assert not proto_maml.loop_over_tasks  # an MLP: vmap
    mapped = proto_maml.meta_loss(episode)
    proto_maml.loop_over_tasks = True
    torch.testing.assert_close(proto_maml.meta_loss(episode), mapped)


def test_a_convolutional_encoder_gives_its_width_and_runs_task_by_task():
    seed_everything(0)
    proto_maml = ProtoMAML(Conv4(channels=4), inner_lr=0.1)  # the width comes from feature_dim
    assert proto_maml.features == proto_maml.model.encoder.feature_dim and proto_maml.loop_over_tasks
    images = torch.randn(2, 6, 1, 28, 28)
    labels = torch.tensor([[0, 1, 2, 0, 1, 2]] * 2)
    episode = Episode(images[:, :3], labels[:, :3], images[:, 3:], labels[:, 3:], num_ways=3)
    proto_maml.meta_loss(episode).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in proto_maml.model.parameters())


def test_bad_input_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="features"):
        ProtoMAML(MLP(6, (16,), 5))  # an MLP has no feature_dim to read the width from
    proto_maml = ProtoMAML(encoder(), features=5)
    with pytest.raises(ValueError, match="num_ways"):
        proto_maml.adapt(SinusoidTasks().sample(2, seed=0))
    episode = clusters()
    labels = torch.zeros_like(episode.support_y)
    missing = Episode(episode.support_x, labels, episode.query_x, episode.query_y, num_ways=3)
    with pytest.raises(ValueError, match="at least one support example"):
        proto_maml.adapt(missing)
    with pytest.raises(ValueError, match="steps"):
        proto_maml.adapt(episode, steps=-1)
    with pytest.raises(ValueError, match="7 features, got shape \\(5,\\)"):
        ProtoMAML(encoder(), features=7).adapt(episode)
    with pytest.raises(ValueError, match="multi_step_loss"):
        ProtoMAML(encoder(), features=5, multi_step_loss=True)
