"""Memory behaviour of the inner loop, measured on tensor storage (learn2learn-style checks)."""

import pytest
import torch

from mtl_tutorial import MAML, MLP, Reptile, SinusoidTasks
from mtl_tutorial.evaluation import count_flops, peak_tensor_memory, training_step_cost


def iteration_peak(inner_steps: int, first_order: bool) -> int:
    torch.manual_seed(0)
    maml = MAML(MLP(), inner_steps=inner_steps, first_order=first_order)
    episode = SinusoidTasks().sample(25, seed=0)

    def iteration():
        loss = maml.meta_loss(episode)
        maml.optimizer.zero_grad()
        loss.backward()
        maml.optimizer.step()

    iteration()  # optimiser state exists before measuring
    return peak_tensor_memory(iteration)


def test_the_tracker_counts_a_known_allocation():
    assert peak_tensor_memory(lambda: torch.zeros(1000, dtype=torch.float64)) == 8000

    def kept_together():
        tensors = [torch.ones(250), torch.ones(250)]  # noqa: F841 - alive together
        return None

    def one_after_another():
        torch.ones(250)  # freed at once
        torch.ones(250)

    assert peak_tensor_memory(kept_together) == 2000
    assert peak_tensor_memory(one_after_another) == 1000


def test_second_order_memory_grows_with_inner_steps_and_first_order_stays_flat():
    second = [iteration_peak(s, first_order=False) for s in (1, 5, 10)]
    first = [iteration_peak(s, first_order=True) for s in (1, 5, 10)]
    assert second[0] < second[1] < second[2]
    assert second[2] > 3 * second[0]  # the graph of every inner step is kept for the Hessian terms
    assert first[2] <= 1.1 * first[1]  # nothing accumulates across inner steps
    assert first[2] < second[2] / 3


def test_the_default_never_reads_cuda_counters(monkeypatch):
    """A CPU computation is measured by the tracker even where CUDA reports memory in use."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda *a, **k: 1 << 30)
    assert peak_tensor_memory(lambda: torch.zeros(250, dtype=torch.float32)) == 1000


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without CUDA")
def test_the_allocator_counter_needs_cuda():
    with pytest.raises(ValueError, match="needs a CUDA device"):
        peak_tensor_memory(lambda: torch.zeros(1), cuda_allocator=True)


def test_a_training_step_is_measured_once_for_flops_and_memory_and_changes_nothing():
    batch = SinusoidTasks().sample(4, seed=0)
    maml = MAML(MLP(hidden=(16,)))
    alone_flops = count_flops(lambda: maml.training_loss(batch).backward())
    alone_peak = peak_tensor_memory(lambda: maml.training_loss(batch).backward())
    maml.model.zero_grad(set_to_none=True)
    cost = training_step_cost(maml, batch)
    assert (cost.flops, cost.peak_bytes) == (alone_flops, alone_peak) and cost.flops > 0
    assert all(p.grad is None for p in maml.model.parameters())  # no gradients left behind
    reptile = Reptile(MLP(hidden=(16,)))
    before = [p.detach().clone() for p in reptile.model.parameters()]
    assert training_step_cost(reptile, batch).flops > 0
    assert all(torch.equal(a, b) for a, b in zip(before, reptile.model.parameters(), strict=True))
