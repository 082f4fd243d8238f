"""Data-parallel training under torchrun (2 gloo processes on the CPU) computes what one process
computes with the whole meta-batch; only rank 0 saves and shows progress; resume works; a
meta-batch that does not split evenly is refused."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import torch
from distributed_cases import CASES, ITERATIONS, train_case

from mtl_tutorial import Episode, distributed
from mtl_tutorial.tasks import SinusoidTasks

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory) -> dict:
    """Every case trained by two torchrun processes (one launch for the whole module)."""
    out = tmp_path_factory.mktemp("torchrun")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(HERE.parent)}
    command = distributed.torchrun_command(2, str(HERE / "distributed_worker.py"), str(out))
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = torch.load(out / "results.pt", weights_only=True)
    results["logs"] = [(out / f"rank{r}.txt").read_text() for r in (0, 1)]
    return results


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_two_processes_train_what_one_process_trains(two_processes, name):
    assert two_processes["world"] == 2
    weights, losses = two_processes["trained"][name]
    reference, reference_losses, _ = train_case(name)
    assert reference.dtype == torch.float64
    difference = (weights - reference).abs().max()
    print(f"{name}: largest parameter difference, 1 against 2 processes: {difference:.1e}")
    assert difference <= 1e-10 * reference.abs().max(), name
    assert torch.allclose(losses, reference_losses, rtol=1e-10, atol=1e-12)
    assert not torch.equal(reference, train_case(name, iterations=1)[0])  # the steps moved it


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_each_outer_step_sends_the_gradients_once(two_processes, name):
    sent = two_processes["communicated"][name]
    assert sent["calls"] == ITERATIONS  # one all_reduce per step
    assert sent["bytes"] == sent["expected_bytes"]  # every trainable weight and the loss, once


@pytest.mark.slow
def test_a_run_killed_under_torchrun_resumes_to_the_uninterrupted_result(two_processes):
    assert two_processes["checkpoint_step"] == 4  # saved by rank 0 at step 4, killed after step 5
    weights, losses = two_processes["resumed"]
    reference, reference_losses, _ = train_case("MAML, second order", iterations=6)
    assert (weights - reference).abs().max() <= 1e-10 * reference.abs().max()
    assert torch.allclose(losses, reference_losses, rtol=1e-10, atol=1e-12)


@pytest.mark.slow
def test_a_meta_batch_that_does_not_split_evenly_is_refused(two_processes):
    message = two_processes["indivisible"]
    assert "divisible by the number of processes (2)" in message and "got 3" in message


@pytest.mark.slow
def test_only_rank_0_shows_a_progress_bar(two_processes):
    rank0, rank1 = two_processes["logs"]
    assert "2/2" in rank0
    assert "2/2" not in rank1 and "it/s" not in rank1


def test_a_single_process_is_world_0_of_1_and_shards_nothing():
    assert distributed.world() == (0, 1)
    assert distributed.is_main_process()
    episode = SinusoidTasks().sample(4, seed=0)
    assert distributed.shard(episode, 0, 1) is episode
    assert not distributed.init_from_environment("cpu")  # no WORLD_SIZE: nothing started


def test_shards_are_equal_consecutive_slices_of_the_batch():
    episode = SinusoidTasks().sample(4, seed=0)
    halves = [distributed.shard(episode, r, 2) for r in (0, 1)]
    assert all(isinstance(h, Episode) and h.num_tasks == 2 for h in halves)
    assert torch.equal(torch.cat([h.support_x for h in halves]), episode.support_x)
    images, labels = torch.rand(8, 1, 4, 4), torch.arange(8)
    second = distributed.shard((images, labels), 1, 2)
    assert torch.equal(second[0], images[4:]) and torch.equal(second[1], labels[4:])
    with pytest.raises(ValueError, match="divisible by the number of processes"):
        distributed.shard(episode, 0, 3)
    with pytest.raises(TypeError, match="cannot split"):
        distributed.shard("tasks", 0, 2)


def test_the_backend_follows_the_device_and_bytes_count_every_weight():
    assert distributed.backend_for("cpu") == "gloo"
    assert distributed.backend_for("cuda") == "nccl"
    weights = [torch.zeros(3, 4), torch.zeros(5)]
    assert distributed.bytes_per_step(weights) == (12 + 5 + 1) * 4
