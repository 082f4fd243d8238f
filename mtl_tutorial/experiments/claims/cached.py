"""The claims runs through the result cache, shared by the book's notebooks and ``mtl-tutorial claims``.

>>> from mtl_tutorial.experiments.claims import cached_claims
>>> results = cached_claims("sinusoid", "book")   # computed on first use, then read from the cache

A run is keyed by its benchmark, its size's name, the seed and the device, and (as every
:func:`~mtl_tutorial.recipes.cached_call`) by the source of the whole package, sizes included:
changing a size or any code computes it again.
"""

from __future__ import annotations

import os

import torch

from ...recipes import cached_call
from ..trends import TrainingCurve
from .glyphs import glyph_claims
from .results import ClaimResults
from .sinusoid import sinusoid_claims
from .sizes import SIZES

BENCHMARKS = ("sinusoid", "glyphs")
#: The classes a cached :class:`ClaimResults` is made of, beyond tensors and plain containers.
SAFE_TYPES = (ClaimResults, TrainingCurve)


def run_claims(benchmark: str, size: str, seed: int = 0, device: str = "cpu") -> ClaimResults:
    """:func:`.sinusoid.sinusoid_claims` or :func:`.glyphs.glyph_claims` at ``SIZES[size]``, uncached.

    It runs on one CPU thread (the thread count is restored afterwards), as the book's notebooks
    do: the number of threads changes the last bits of the results, and a cached run must be the
    same whether a notebook or ``mtl-tutorial claims`` computed it."""
    _check(benchmark, size)
    run = sinusoid_claims if benchmark == "sinusoid" else glyph_claims
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return run(**getattr(SIZES[size], benchmark), seed=seed, device=device)
    finally:
        torch.set_num_threads(threads)


def _check(benchmark: str, size: str) -> None:
    if benchmark not in BENCHMARKS:
        raise ValueError(f"benchmark must be one of {BENCHMARKS}, got {benchmark!r}")
    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}, got {size!r}")


def cached_claims(
    benchmark: str,
    size: str,
    *,
    seed: int = 0,
    device: str = "cpu",
    cache_dir: str | os.PathLike | None = None,
) -> ClaimResults:
    """:func:`run_claims`'s results, computed once and then read from the cache.

    Args:
        benchmark: ``"sinusoid"`` or ``"glyphs"``.
        size: a key of :data:`.sizes.SIZES` (``"full"``, ``"book"``, ``"tiny"``).
        seed, device: as for the runs; both part of the cache key (weights trained on another
            device differ in their last bits).
        cache_dir: the cache's root (default ``$MTL_TUTORIAL_CACHE``, else ``~/.cache/mtl_tutorial``).
    """
    _check(benchmark, size)
    device = str(device)
    return cached_call(f"claims_{benchmark}_{size}", run_claims, safe_types=SAFE_TYPES,
                       cache_dir=cache_dir, benchmark=benchmark, size=size, seed=seed,
                       device=device)  # fmt: skip
