"""The training loop every learner uses: progress bar, divergence guard, loss history."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import numpy as np
import torch
from tqdm import tqdm

from .._checks import check_int


class TrainingDiverged(RuntimeError):
    """Raised when the training loss becomes NaN or infinite."""


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
) -> list[float]:
    """Call ``step(i)`` for ``i = 0 … iterations - 1`` and return the losses it reports.

    Args:
        step: performs one optimisation step and returns its loss as a float.
        iterations: number of steps (>= 1).
        description: label of the progress bar.
        progress: show a tqdm progress bar; ``None`` (default) shows it only when the output
            is a terminal, so logs and notebooks stay clean.

    Raises:
        TrainingDiverged: when a loss is NaN or infinite, naming the step and the last finite
            loss, so a bad learning rate fails loudly instead of training on garbage.
    """
    check_int("iterations", iterations, minimum=1)
    losses: list[float] = []
    bar = tqdm(range(iterations), desc=description, disable=None if progress is None else not progress)
    for i in bar:
        loss = float(step(i))
        if not math.isfinite(loss):
            last = f"{losses[-1]:.6g}" if losses else "none (the first step diverged)"
            raise TrainingDiverged(
                f"{description}: loss became {loss} at step {i}; last finite loss: {last}. "
                "Try a smaller learning rate."
            )
        losses.append(loss)
        if i % 100 == 0:
            bar.set_postfix(loss=f"{loss:.4f}")
    return losses
