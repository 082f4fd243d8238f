"""What every chapter of the book does first, in one call: :func:`setup_chapter`."""

from __future__ import annotations

import torch

from ._checks import check_int
from .plotting import use_book_style
from .training import seed_everything


def setup_chapter(
    *,
    threads: int = 1,
    dtype: torch.dtype | None = None,
    seed: int | None = None,
    device: str | None = None,
) -> str:
    """Prepare a notebook of the book and return the device its examples run on.

    Args:
        threads: CPU threads for PyTorch (default 1). The book's networks are small: a second
            thread costs more in synchronisation than it saves, far more on a busy machine,
            and one thread gives the same numbers on every machine.
        dtype: default floating-point type, e.g. ``torch.float64`` for the chapter that checks
            formulas to 1e-10 (default: leave torch's, float32).
        seed: seed Python's, NumPy's and PyTorch's global generators (default: leave them).
        device: ``"cpu"`` or ``"cuda"``; default ``"cuda"`` when a GPU is present, else ``"cpu"``.

    It also applies the book's figure style. Hosted notebooks (Colab) install the package in the
    notebook's first, hidden cell, before anything is imported from it.
    """
    torch.set_num_threads(check_int("threads", threads, minimum=1))
    if dtype is not None:
        if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise ValueError(f"dtype must be a floating-point torch.dtype, got {dtype!r}")
        torch.set_default_dtype(dtype)
    if seed is not None:
        seed_everything(seed)
    use_book_style()
    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for, but CUDA is not available here; use 'cpu'")
    return device
