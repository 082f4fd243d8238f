"""The training loop every learner uses: progress bar, divergence guard, checkpoints, resuming."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from tqdm import tqdm

from .. import distributed
from .._checks import check_int
from .checkpoint import Checkpointing, load_checkpoint, save_atomically


class TrainingDiverged(RuntimeError):
    """Raised when the training loss becomes NaN or infinite."""


class Stateful(Protocol):
    def state_dict(self) -> Mapping[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> Any: ...


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's global random number generators."""
    check_int("seed", seed, minimum=0)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def run_training(
    step: Callable[[int], float],
    iterations: int,
    *,
    description: str = "training",
    progress: bool | None = None,
    state: Mapping[str, Stateful] | None = None,
    checkpointing: Checkpointing | None = None,
    config: Mapping[str, Any] | None = None,
    max_seconds: float | None = None,
    callback: Callable[[int], None] | None = None,
) -> list[float]:
    """Call ``step(i)`` for ``i = 0 … iterations - 1`` and return the losses it reports.

    Args:
        step: performs one optimisation step and returns its loss as a float.
        iterations: number of steps (>= 1).
        description: label of the progress bar and of error messages.
        progress: show a tqdm progress bar; ``None`` (default) shows it only when the output
            is a terminal, so logs and notebooks stay clean.
        state: everything a resumed run must restore (model, optimiser, task generator), by
            name; needed with ``checkpointing``.
        checkpointing: save ``state`` atomically every ``checkpointing.every`` iterations and at
            the end; resume from an existing checkpoint. Off by default.
        config: the learner's settings, stored in checkpoints; resuming a checkpoint made with
            other settings raises ``ValueError`` rather than mixing two runs.
        max_seconds: stop early once the process has used this much CPU time
            (``time.process_time``, all threads) in this call; for comparing methods at equal
            compute. ``None`` (default): run all ``iterations``.
        callback: called as ``callback(done)`` after each step, with the number of steps done
            so far; for scoring a learner during one uninterrupted run. ``None`` by default.

    Raises:
        TrainingDiverged: when a loss is NaN or infinite, naming the step and the last finite
            loss, so a bad learning rate fails loudly instead of training on garbage.
    """
    check_int("iterations", iterations, minimum=1)
    if checkpointing is not None and not state:
        raise ValueError("checkpointing needs the training state to save; got state=None")
    losses: list[float] = []
    start = 0
    config = dict(config or {})
    if checkpointing is not None and checkpointing.resume and Path(checkpointing.path).exists():
        saved = load_checkpoint(checkpointing.path)
        if saved.get("config") != config:
            raise ValueError(
                f"checkpoint {checkpointing.path} was made with settings {saved.get('config')}, "
                f"not {config}; delete it or pass resume=False"
            )
        for name, obj in state.items():
            obj.load_state_dict(saved["state"][name])
        losses = saved["losses"].tolist()
        start = int(saved["step"])

    def save(done: int) -> None:
        payload = {
            "step": done,
            "losses": torch.tensor(losses, dtype=torch.float64),
            "state": {name: obj.state_dict() for name, obj in state.items()},
            "config": config,
        }
        save_atomically(payload, checkpointing.path)

    cpu_started = time.process_time()
    main_process = distributed.is_main_process()  # under torchrun, only rank 0 shows and saves
    disable = True if not main_process else None if progress is None else not progress
    bar = tqdm(range(start, iterations), desc=description, initial=start, total=iterations, disable=disable)
    for i in bar:
        loss = float(step(i))
        if not math.isfinite(loss):
            last = f"{losses[-1]:.6g}" if losses else "none (the first step diverged)"
            raise TrainingDiverged(
                f"{description}: loss became {loss} at step {i}; last finite loss: {last}. "
                "Try a smaller learning rate."
            )
        losses.append(loss)
        if callback is not None:
            callback(i + 1)
        if i % 100 == 0:
            bar.set_postfix(loss=f"{loss:.4f}")
        out_of_time = max_seconds is not None and time.process_time() - cpu_started >= max_seconds
        if max_seconds is not None:  # every process stops at the same step
            out_of_time = distributed.agree(out_of_time)
        last = i + 1 == iterations or out_of_time
        if checkpointing is not None and ((i + 1) % checkpointing.every == 0 or last):
            if main_process:
                save(i + 1)
            distributed.barrier()  # no process runs ahead of a checkpoint being written
        if out_of_time:
            break
    bar.close()
    return losses
