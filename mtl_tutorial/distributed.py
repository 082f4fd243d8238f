"""Data-parallel meta-training on ``torch.distributed``: a meta-batch split across processes.

Launched with ``torchrun --nproc-per-node N -m mtl_tutorial ...`` (or any script that calls
:func:`init_from_environment`), every :meth:`~mtl_tutorial.learner.Trainable.fit` splits its
batches between the N processes:

1. every process draws the *whole* batch with the same seeded generator (so the data are those
   of the single-process run) and keeps its share: tasks ``rank * B/N`` to ``(rank + 1) * B/N``
   of a meta-batch of B (or images, for supervised pretraining);
2. each computes the gradient of the mean loss over its share (the meta-gradient, second order
   included, for MAML);
3. one ``all_reduce`` averages the gradients (and the loss) over the processes, which, with
   equal shares, is the gradient of the mean over the whole batch;
4. every process takes the same optimiser step, so the parameters stay identical everywhere.

N processes with meta-batch B therefore compute what one process computes with meta-batch B,
up to floating-point rounding. Reptile averages its adapted weights instead of gradients.
What travels per outer step is one buffer of all trainable parameters plus the loss (4 bytes
each in float32), summed by ``all_reduce``; :func:`bytes_per_step` counts it.

Without ``torchrun`` (no ``WORLD_SIZE`` above 1 in the environment) nothing here does anything:
a single process behaves exactly as before. Backends: ``gloo`` on the CPU, ``nccl`` on GPUs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor


def world() -> tuple[int, int]:
    """``(rank, world size)`` of this process: ``(0, 1)`` unless a process group is running."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main_process() -> bool:
    """Whether this process is rank 0 (always, without a process group): the one that writes
    checkpoints, files and progress bars."""
    return world()[0] == 0


def backend_for(device: str | torch.device) -> str:
    """``"nccl"`` for CUDA devices, ``"gloo"`` otherwise."""
    return "nccl" if torch.device(device).type == "cuda" else "gloo"


def torchrun_command(processes: int, *program: str) -> list[str]:
    """The command that runs ``program`` (a script and its arguments, or ``"-m", module, ...``)
    on ``processes`` processes of this machine under ``torchrun``, with this Python."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
            str(processes), *program]  # fmt: skip


def init_from_environment(device: str | torch.device = "cpu") -> bool:
    """Start the process group that ``torchrun`` describes in the environment.

    Returns ``True`` if this process is one of several (``WORLD_SIZE`` > 1) and the group is now
    running, ``False`` for a single process (nothing is started). On CUDA each process takes the
    GPU of its ``LOCAL_RANK``.
    """
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return False
    if not dist.is_initialized():
        device = torch.device(device)
        if device.type == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend_for(device))
    return True


def local_device(device: str | torch.device) -> torch.device:
    """The device this process computes on: ``cuda:LOCAL_RANK`` for ``"cuda"`` under
    ``torchrun``, ``device`` itself otherwise."""
    device = torch.device(device)
    if device.type == "cuda" and device.index is None and world()[1] > 1:
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def check_divisible(what: str, size: int, world_size: int) -> None:
    """``ValueError`` unless ``size`` (a meta-batch or batch size) splits evenly into
    ``world_size`` equal shares."""
    if size % world_size:
        raise ValueError(
            f"{what} must be divisible by the number of processes ({world_size}) so that each "
            f"gets an equal share; got {size}"
        )


def shard(batch: Any, rank: int, world_size: int) -> Any:
    """Process ``rank``'s share of ``batch``: an :class:`~mtl_tutorial.tasks.Episode`'s tasks,
    or every tensor of a tuple along its first dimension (images and labels)."""
    if world_size == 1:
        return batch
    if hasattr(batch, "num_tasks"):  # an Episode (duck-typed: this module sits below tasks/)
        check_divisible("the meta-batch size", batch.num_tasks, world_size)
        share = batch.num_tasks // world_size
        return batch[rank * share : (rank + 1) * share]
    if isinstance(batch, Sequence) and all(isinstance(t, Tensor) for t in batch):
        check_divisible("the batch size", len(batch[0]), world_size)
        share = len(batch[0]) // world_size
        return type(batch)(t[rank * share : (rank + 1) * share] for t in batch)
    raise TypeError(f"cannot split a training batch of type {type(batch).__name__} between processes")


#: What this process has handed to ``all_reduce`` in :func:`all_mean_` so far (see
#: :func:`communicated`).
_COMMUNICATED = {"calls": 0, "bytes": 0}


def communicated() -> dict[str, int]:
    """How many ``all_reduce`` calls :func:`all_mean_` has made in this process, and how many
    bytes it contributed to them: the measured counterpart of :func:`bytes_per_step`."""
    return dict(_COMMUNICATED)


def all_mean_(tensors: Sequence[Tensor]) -> None:
    """Replace each tensor by its mean over the processes, in place, with one ``all_reduce`` of
    one flat buffer (no-op for a single process)."""
    _, size = world()
    if size == 1 or not tensors:
        return
    flat = torch.cat([t.reshape(-1) for t in tensors])
    _COMMUNICATED["calls"] += 1
    _COMMUNICATED["bytes"] += flat.numel() * flat.element_size()
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat /= size
    offset = 0
    for t in tensors:
        t.copy_(flat[offset : offset + t.numel()].view_as(t))
        offset += t.numel()


def average_gradients(parameters: Iterable[Tensor], loss: float) -> float:
    """Average the ``.grad`` of ``parameters`` and the scalar ``loss`` over the processes (one
    ``all_reduce``); returns the mean loss. Parameters without a gradient are skipped (the same
    ones on every process, which run the same code)."""
    _, size = world()
    if size == 1:
        return loss
    grads = [p.grad for p in parameters if p.grad is not None]
    device = grads[0].device if grads else torch.device("cpu")
    loss_tensor = torch.tensor([loss], dtype=grads[0].dtype if grads else torch.float32, device=device)
    all_mean_([*grads, loss_tensor])
    return loss_tensor.item()


def broadcast_parameters(tensors: Iterable[Tensor]) -> None:
    """Copy rank 0's values of ``tensors`` to every process (the start of a data-parallel run)."""
    if world()[1] == 1:
        return
    for t in tensors:
        dist.broadcast(t.data, src=0)


def agree(flag: bool) -> bool:
    """Whether ``flag`` is true on any process (so that all stop at the same step)."""
    if world()[1] == 1:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=_communication_device())
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def _communication_device() -> torch.device:
    """Where tensors for the backend must live: the current GPU for NCCL, else the CPU."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def barrier() -> None:
    """Wait for every process (no-op for a single process)."""
    if world()[1] > 1:
        dist.barrier()


def bytes_per_step(parameters: Iterable[Tensor]) -> int:
    """Bytes each process contributes to the ``all_reduce`` of one outer step: every trainable
    parameter's gradient and the loss, in the parameters' dtype."""
    params = list(parameters)
    element = params[0].element_size() if params else 4
    return (sum(p.numel() for p in params) + 1) * element


__all__ = [
    "agree",
    "all_mean_",
    "average_gradients",
    "backend_for",
    "barrier",
    "broadcast_parameters",
    "bytes_per_step",
    "check_divisible",
    "communicated",
    "init_from_environment",
    "is_main_process",
    "local_device",
    "shard",
    "torchrun_command",
    "world",
]
