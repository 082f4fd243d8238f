import math

import pytest
import torch

from mtl_tutorial import Episode, SinusoidTasks


def test_shapes_follow_the_requested_sizes():
    episode = SinusoidTasks(support_size=5, query_size=7).sample(3, seed=0)
    assert episode.support_x.shape == (3, 5, 1)
    assert episode.support_y.shape == (3, 5, 1)
    assert episode.query_x.shape == (3, 7, 1)
    assert episode.query_y.shape == (3, 7, 1)
    assert episode.info["amplitude"].shape == (3,)
    assert len(episode) == 3


def test_default_ranges_are_the_maml_papers():
    tasks = SinusoidTasks()
    assert tasks.amplitude_range == (0.1, 5.0)
    assert tasks.phase_range == (0.0, math.pi)
    assert tasks.x_range == (-5.0, 5.0)
    episode = tasks.sample(5000, seed=1)
    amplitude, phase = episode.info["amplitude"], episode.info["phase"]
    assert amplitude.min() >= 0.1 and amplitude.max() <= 5.0
    assert phase.min() >= 0 and phase.max() <= math.pi
    x = torch.cat([episode.support_x, episode.query_x], dim=1)
    assert x.min() >= -5 and x.max() <= 5
    # uniform draws fill their range: both ends are approached, the mean is the midpoint
    assert amplitude.min() < 0.2 and amplitude.max() > 4.9
    assert abs(amplitude.mean().item() - 2.55) < 0.1
    assert abs(x.mean().item()) < 0.1


def test_targets_are_the_sinusoid_of_the_inputs():
    episode = SinusoidTasks().sample(4, seed=2)
    a = episode.info["amplitude"].view(-1, 1, 1)
    p = episode.info["phase"].view(-1, 1, 1)
    torch.testing.assert_close(episode.support_y, a * torch.sin(episode.support_x - p))
    torch.testing.assert_close(episode.query_y, a * torch.sin(episode.query_x - p))


def test_custom_ranges_are_respected():
    tasks = SinusoidTasks(amplitude_range=(2.0, 3.0), phase_range=(1.0, 1.5), x_range=(0.0, 1.0))
    episode = tasks.sample(500, seed=3)
    assert episode.info["amplitude"].min() >= 2 and episode.info["amplitude"].max() <= 3
    assert episode.info["phase"].min() >= 1 and episode.info["phase"].max() <= 1.5
    assert episode.support_x.min() >= 0 and episode.support_x.max() <= 1


def test_same_seed_same_tasks_and_different_seed_different_tasks():
    tasks = SinusoidTasks()
    a, b, c = tasks.sample(10, seed=7), tasks.sample(10, seed=7), tasks.sample(10, seed=8)
    assert torch.equal(a.support_x, b.support_x) and torch.equal(a.query_y, b.query_y)
    assert not torch.equal(a.support_x, c.support_x)


def test_a_generator_draws_fresh_tasks_each_call_and_replays_from_its_seed():
    tasks = SinusoidTasks()
    gen = torch.Generator().manual_seed(0)
    first, second = tasks.sample(5, generator=gen), tasks.sample(5, generator=gen)
    assert not torch.equal(first.support_x, second.support_x)
    replay = torch.Generator().manual_seed(0)
    assert torch.equal(tasks.sample(5, generator=replay).support_x, first.support_x)


def test_noise_is_added_only_when_asked():
    noisy = SinusoidTasks(noise_std=0.5).sample(200, seed=4)
    a = noisy.info["amplitude"].view(-1, 1, 1)
    p = noisy.info["phase"].view(-1, 1, 1)
    residual = noisy.query_y - a * torch.sin(noisy.query_x - p)
    assert 0.4 < residual.std().item() < 0.6


def test_episode_indexing_keeps_the_task_dimension():
    episode = SinusoidTasks().sample(6, seed=5)
    one = episode[2]
    assert one.support_x.shape == (1, 10, 1)
    assert torch.equal(one.support_x[0], episode.support_x[2])
    assert one.info["phase"].item() == episode.info["phase"][2].item()
    assert episode[-1].num_tasks == 1
    assert episode[1:4].num_tasks == 3


def test_curve_matches_the_task_functions():
    tasks = SinusoidTasks()
    episode = tasks.sample(2, seed=6)
    x, y = tasks.curve(episode, num_points=50)
    assert x.shape == (50,) and y.shape == (2, 50)
    expected = episode.info["amplitude"][1] * torch.sin(x - episode.info["phase"][1])
    torch.testing.assert_close(y[1], expected)


def test_episode_rejects_inconsistent_shapes():
    x = torch.zeros(2, 5, 1)
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        Episode(torch.zeros(5, 1), x, x, x)
    with pytest.raises(ValueError, match="same number of tasks"):
        Episode(x, x, torch.zeros(3, 5, 1), torch.zeros(3, 5, 1))
    with pytest.raises(ValueError, match="same number of points"):
        Episode(x, torch.zeros(2, 4, 1), x, x)
