"""The image path: convolutional learners loop over tasks (channels-last Conv-4), the MLPs vmap;
both paths, and per-task accumulation, compute the same meta-gradient."""

from unittest import mock

import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from mtl_tutorial import ANIL, MAML, MLP
from mtl_tutorial.adaptation import batched_predict, loops_over_tasks, map_tasks
from mtl_tutorial.evaluation import peak_tensor_memory
from mtl_tutorial.models import Conv4
from mtl_tutorial.tasks import Episode


def small_conv4(channels_last: bool = True) -> Conv4:
    torch.manual_seed(0)
    model = Conv4(channels=8, num_classes=3).double()
    return model if channels_last else model.to(memory_format=torch.contiguous_format)


def image_episode(tasks: int, shots: int = 2, seed: int = 0) -> Episode:
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(3).repeat_interleave(shots).repeat(tasks, 1)
    return Episode(
        torch.randn(tasks, 3 * shots, 1, 28, 28, generator=generator, dtype=torch.float64),
        labels,
        torch.randn(tasks, 3 * shots, 1, 28, 28, generator=generator, dtype=torch.float64),
        labels.clone(),
    )


def meta_gradient(maml: MAML, episode: Episode) -> torch.Tensor:
    maml.model.zero_grad()
    maml.meta_loss(episode).backward()
    return torch.cat([p.grad.flatten() for p in maml.model.parameters()])


def test_convolutional_networks_loop_over_tasks_and_mlps_vmap():
    assert loops_over_tasks(Conv4())
    assert not loops_over_tasks(MLP())
    assert all(
        p.is_contiguous(memory_format=torch.channels_last) for p in Conv4().parameters() if p.dim() == 4
    )


def test_the_loop_and_vmap_give_the_same_results_for_tensors_and_dictionaries():
    torch.manual_seed(0)
    params = {"w": torch.randn(4, 3, 2), "b": torch.randn(4, 2)}
    x = torch.randn(4, 5, 3)

    def affine(p, x_t):
        return {"out": x_t @ p["w"] + p["b"], "norm": p["w"].norm()}

    looped, vmapped = (map_tasks(affine, params, x, loop=loop) for loop in (True, False))
    for key in ("out", "norm"):
        torch.testing.assert_close(looped[key], vmapped[key])
    assert map_tasks(lambda x_t: x_t.sum(), x, loop=True).shape == (4,)


def test_the_per_task_loop_gives_the_second_order_meta_gradient_of_plain_autograd():
    maml, episode = MAML(small_conv4(), inner_lr=0.4, inner_steps=2), image_episode(tasks=3)
    ours = meta_gradient(maml, episode)
    params = dict(maml.model.named_parameters())

    def loss(p, x, y):
        return F.cross_entropy(functional_call(maml.model, p, (x,)), y)

    total = 0.0
    for t in range(3):  # the textbook loop: torch.autograd.grad with create_graph
        fast = params
        for _ in range(2):
            grads = torch.autograd.grad(
                loss(fast, episode.support_x[t], episode.support_y[t]), list(fast.values()), create_graph=True
            )
            fast = {k: v - 0.4 * g for (k, v), g in zip(fast.items(), grads, strict=True)}
        total = total + loss(fast, episode.query_x[t], episode.query_y[t])
    reference = torch.autograd.grad(total / 3, list(params.values()))
    assert ours.abs().max() > 1e-3
    torch.testing.assert_close(ours, torch.cat([g.flatten() for g in reference]), rtol=1e-9, atol=1e-12)


def test_the_loop_and_the_vmap_path_compute_the_same_meta_gradient_and_predictions():
    episode = image_episode(tasks=3)
    looped = MAML(small_conv4(channels_last=False), inner_lr=0.4)
    vmapped = MAML(small_conv4(channels_last=False), inner_lr=0.4)
    assert looped.loop_over_tasks
    vmapped.loop_over_tasks = False
    vmap_gradient = meta_gradient(vmapped, episode)
    torch.testing.assert_close(meta_gradient(looped, episode), vmap_gradient, rtol=1e-9, atol=1e-12)
    adapted = looped.adapt(episode, steps=1)
    with mock.patch("mtl_tutorial.adaptation.loops_over_tasks", lambda _: False):
        vmap_predictions = batched_predict(looped.model, adapted, episode.query_x)
    torch.testing.assert_close(looped.predict(adapted, episode.query_x), vmap_predictions)


@pytest.mark.parametrize("first_order", [False, True])
def test_per_task_accumulation_takes_the_same_step(first_order):
    episode = image_episode(tasks=4)
    plain = MAML(small_conv4(), inner_lr=0.4, first_order=first_order, accumulate_per_task=False)
    accumulated = MAML(small_conv4(), inner_lr=0.4, first_order=first_order, accumulate_per_task=True)
    losses = [learner.training_step(episode) for learner in (plain, accumulated)]
    assert losses[0] == pytest.approx(losses[1], rel=1e-12)
    for p, q in zip(plain.model.parameters(), accumulated.model.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-9, atol=1e-12)


def test_convolutional_learners_accumulate_per_task_by_default_and_mlps_do_not():
    assert MAML(small_conv4()).accumulate_per_task and ANIL(small_conv4()).accumulate_per_task
    assert not MAML(MLP()).accumulate_per_task  # vmap batches the tasks' backward passes
    assert not MAML(small_conv4(), accumulate_per_task=False).accumulate_per_task


def test_per_task_accumulation_keeps_memory_flat_in_the_meta_batch():
    def peak(tasks: int, accumulate: bool) -> int:
        maml = MAML(small_conv4(), inner_lr=0.4, inner_steps=2, accumulate_per_task=accumulate)
        episode = image_episode(tasks=tasks)
        maml.training_step(episode)  # Adam's state exists before measuring
        return peak_tensor_memory(lambda: maml.training_step(episode))

    plain_small, plain_large = peak(2, False), peak(8, False)
    accumulated_small, accumulated_large = peak(2, True), peak(8, True)
    assert plain_large > 2.5 * plain_small  # the whole meta-batch's graph is alive at once
    assert accumulated_large < 1.3 * accumulated_small  # one task's graph at a time
    assert accumulated_large < 0.5 * plain_large


def test_compiling_maml_on_a_convolutional_network_is_refused_with_the_reason():
    """torch 2.13 compiles the per-task loop into a wrong meta-gradient (off by 97% on a one-layer
    convolutional network); the package refuses rather than train on it."""
    with pytest.raises(ValueError, match="compile=True is for networks without convolutions"):
        MAML(small_conv4(), compile=True)
