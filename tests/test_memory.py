"""Memory behaviour of the inner loop, measured on tensor storage (learn2learn-style checks)."""

import torch

from mtl_tutorial import MAML, MLP, SinusoidTasks
from mtl_tutorial.evaluation import peak_tensor_memory


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
