"""Checkpoints: written atomically, loaded with ``weights_only=True``."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .._checks import check_int

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
#: Whether :func:`exclusive_lock` really locks here (POSIX ``flock``; not on Windows).
HAS_FILE_LOCKS = fcntl is not None


@dataclass(frozen=True)
class Checkpointing:
    """Where and how often :func:`~mtl_tutorial.training.run_training` saves its state.

    Args:
        path: the checkpoint file.
        every: save after every ``every`` iterations (default 500) and after the last one.
        resume: continue from ``path`` if it exists (default True); the run then ends with
            exactly the parameters an uninterrupted run would have.
    """

    path: str | os.PathLike
    every: int = 500
    resume: bool = True

    def __post_init__(self) -> None:
        check_int("every", self.every, minimum=1)


def save_atomically(payload: dict[str, Any], path: str | os.PathLike) -> None:
    """``torch.save`` to a temporary file beside ``path``, then rename it into place.

    A run killed while saving leaves the previous checkpoint intact, never a truncated file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(payload, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def exclusive_lock(path: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` + ``.lock`` while the block runs (POSIX ``flock``;
    elsewhere no lock), so that processes that would write the same file take turns."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not HAS_FILE_LOCKS:  # processes may compute the same file twice, harmlessly
        yield
        return
    with open(path.with_name(path.name + ".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True`` (tensors and plain containers only)."""
    return torch.load(path, map_location="cpu", weights_only=True)


class GeneratorState:
    """Adapts a :class:`torch.Generator` to the ``state_dict`` protocol, so checkpoints keep the
    position of the task stream and a resumed run sees the same tasks."""

    def __init__(self, generator: torch.Generator) -> None:
        self.generator = generator

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"state": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.generator.set_state(state["state"])
