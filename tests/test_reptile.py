import pytest
import torch
from torch import nn

from mtl_tutorial import MLP, Episode, Reptile, SinusoidTasks, query_mse, seed_everything

from helpers import FixedTasks, flat_params


def test_reptile_update_matches_a_hand_computed_case():
    """One task, loss (w·1 - 2)², w = 0: inner SGD with lr 0.1 gives φ = 0.4 after one step;
    with ε = 0.5 the update is θ + ε(φ - θ) = 0 + 0.5 · 0.4 = 0.2."""
    model = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(model.weight)
    one = torch.ones(1, 1, 1)
    episode = Episode(one, 2 * one, one, 2 * one)
    reptile = Reptile(model, inner_lr=0.1, inner_steps=1, outer_lr=0.5, anneal=False)
    reptile.fit(FixedTasks(episode), iterations=1, meta_batch_size=1, progress=False)
    assert model.weight.item() == torch.tensor(0.2).item()
    # a second step from w = 0.2: φ = 0.2 - 0.1 · 2 · (0.2 - 2) = 0.56, w = 0.2 + 0.5 · 0.36 = 0.38
    reptile.fit(FixedTasks(episode), iterations=1, meta_batch_size=1, progress=False)
    assert abs(model.weight.item() - 0.38) < 1e-6


def test_reptile_averages_the_tasks_of_a_meta_batch():
    model = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(model.weight)
    x = torch.ones(2, 1, 1)
    y = torch.tensor([2.0, -4.0]).view(2, 1, 1)  # targets 2 and -4: φ = 0.4 and -0.8
    reptile = Reptile(model, inner_lr=0.1, inner_steps=1, outer_lr=1.0, anneal=False)
    reptile.fit(FixedTasks(Episode(x, y, x, y)), iterations=1, meta_batch_size=2, progress=False)
    assert abs(model.weight.item() - (-0.2)) < 1e-6


def test_annealing_goes_linearly_to_zero():
    reptile = Reptile(MLP(), outer_lr=0.1, anneal=True)
    assert reptile.outer_step_size(0, 100) == 0.1
    assert abs(reptile.outer_step_size(50, 100) - 0.05) < 1e-12
    assert abs(reptile.outer_step_size(99, 100) - 0.001) < 1e-12


@pytest.mark.slow
def test_reptile_learns_an_initialisation_that_adapts():
    seed_everything(0)
    reptile = Reptile(MLP(), inner_lr=0.02, inner_steps=10)
    test = SinusoidTasks(support_size=10, query_size=50).sample(100, seed=1)
    before = query_mse(reptile, test, steps=(10,)).mean()
    initial = flat_params(reptile.model)
    reptile.fit(SinusoidTasks(), iterations=600, meta_batch_size=10, progress=False)
    assert not torch.equal(initial, flat_params(reptile.model))
    assert query_mse(reptile, test, steps=(10,)).mean() < 0.6 * before
