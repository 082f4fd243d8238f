"""Section 4.4's experiments: data-parallel meta-training checked against one process.

- :func:`sharded_meta_gradient`: in one process, the meta-gradient of a whole meta-batch against
  the mean of the meta-gradients of its halves (what two processes compute and average).
- :func:`two_process_training`: the same MAML trained for a few outer steps by one process and by
  two ``torchrun`` processes (gloo, on the CPU); the largest parameter difference and the bytes
  each process handed to ``all_reduce`` per step.

Run as ``python -m torch.distributed.run --standalone --nproc-per-node 2 -m
mtl_tutorial.experiments.scaling OUT`` this module is the worker of :func:`two_process_training`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

from .. import distributed
from .._checks import check_int
from ..learner import trainable_parameters
from ..meta import MAML
from ..models import MLP
from ..tasks import SinusoidTasks
from ..training import seed_everything


def _maml(seed: int = 0) -> MAML:
    seed_everything(seed)
    return MAML(MLP(hidden=(40, 40)))


def sharded_meta_gradient(meta_batch_size: int = 8, processes: int = 2, seed: int = 0) -> dict[str, Any]:
    """The meta-gradient of ``meta_batch_size`` sinusoid tasks for the book's MAML, computed whole
    and as the mean of ``processes`` equal shares' meta-gradients.

    Returns:
        ``{"whole": flat gradient, "sharded": flat gradient, "relative_difference": float}``.
    """
    check_int("processes", processes, minimum=1)
    distributed.check_divisible("meta_batch_size", meta_batch_size, processes)
    maml = _maml(seed)
    episode = SinusoidTasks(support_size=10, query_size=10).sample(meta_batch_size, seed=seed)
    params = list(maml.model.parameters())

    def gradient(part) -> torch.Tensor:
        return torch.cat([g.flatten() for g in torch.autograd.grad(maml.meta_loss(part), params)])

    whole = gradient(episode)
    shares = [distributed.shard(episode, r, processes) for r in range(processes)]
    sharded = torch.stack([gradient(share) for share in shares]).mean(0)
    difference = ((sharded - whole).norm() / whole.norm()).item()
    return {"whole": whole, "sharded": sharded, "relative_difference": difference}


def _train(iterations: int, meta_batch_size: int) -> tuple[torch.Tensor, dict[str, int]]:
    maml = _maml()
    before = distributed.communicated()
    maml.fit(SinusoidTasks(support_size=10, query_size=10), iterations=iterations,
             meta_batch_size=meta_batch_size, seed=1, progress=False)  # fmt: skip
    sent = {k: v - before[k] for k, v in distributed.communicated().items()}
    sent["bytes_per_step"] = distributed.bytes_per_step(trainable_parameters(maml.trainable_modules()))
    return torch.cat([p.detach().flatten() for p in maml.model.parameters()]), sent


def two_process_training(iterations: int = 5, meta_batch_size: int = 8) -> dict[str, Any]:
    """The book's sinusoid MAML (second order) trained for ``iterations`` outer steps by this
    process and by two ``torchrun`` processes, from the same start on the same meta-batches.

    Returns:
        ``largest_difference`` (of any parameter), ``largest_parameter`` (its scale), and what one
        of the two processes handed to ``all_reduce``: ``calls``, ``bytes``, ``bytes_per_step``
        (the count :func:`~mtl_tutorial.distributed.bytes_per_step` predicts).
    """
    check_int("iterations", iterations, minimum=1)
    single, _ = _train(iterations, meta_batch_size)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "two.json"
        arguments = [str(out), str(iterations), str(meta_batch_size)]
        command = distributed.torchrun_command(2, "-m", __name__, *arguments)
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"torchrun failed:\n{done.stderr[-2000:]}")
        two = json.loads(out.read_text())
    parameters = torch.tensor(two.pop("parameters"))
    return {
        "largest_difference": (parameters - single).abs().max().item(),
        "largest_parameter": single.abs().max().item(),
        **two,
    }


def _worker(out: Path, iterations: int, meta_batch_size: int) -> None:
    distributed.init_from_environment("cpu")
    torch.set_num_threads(1)
    parameters, sent = _train(iterations, meta_batch_size)
    if distributed.is_main_process():
        out.write_text(json.dumps({"parameters": parameters.tolist(), **sent}))
    torch.distributed.destroy_process_group()


__all__ = ["sharded_meta_gradient", "two_process_training"]

if __name__ == "__main__":
    _worker(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
