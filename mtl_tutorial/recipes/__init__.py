"""Named training recipes and the trained-model cache they share.

>>> from mtl_tutorial.recipes import trained
>>> maml = trained("sinusoid_maml")   # trained on first use (with a progress bar), then cached

Every chapter that shows "the sinusoid MAML" or "the glyph backbone" loads it through here, so
the numbers agree across chapters and each model is trained once per machine. The cache lives
next to the glyph data (``$MTL_TUTORIAL_CACHE``, else ``~/.cache/mtl_tutorial``), in ``models/``;
``mtl-tutorial cache clear`` empties it and ``mtl-tutorial cache list`` shows it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import torch

from ..training.checkpoint import HAS_FILE_LOCKS
from .catalogue import RECIPES, Recipe
from .store import (
    Lookup,
    cache_entries,
    cache_key,
    cached,
    clear_cache,
    entry_path,
    models_dir,
    package_files,
)

T = TypeVar("T")

#: Set to ``0`` to hide the progress bar of a recipe being trained (the book's build does).
PROGRESS_VARIABLE = "MTL_TUTORIAL_PROGRESS"
#: Set to ``0`` to train every recipe in the asking process (the book's tests do: they already
#: run two notebooks at once, one per core).
BACKGROUND_VARIABLE = "MTL_TUTORIAL_BACKGROUND"


@dataclass
class TrainedModel:
    """A recipe's trained learner, its training losses, and where it came from."""

    recipe: Recipe
    learner: Any
    losses: list[float]
    from_cache: bool
    lookup: Lookup


def recipe(name: str) -> Recipe:
    """The recipe called ``name``; ``ValueError`` listing the known names otherwise."""
    if name not in RECIPES:
        raise ValueError(f"no recipe named {name!r}; the recipes are {', '.join(sorted(RECIPES))}")
    return RECIPES[name]


def train_recipe(
    name: str,
    *,
    device: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    retrain: bool = False,
    progress: bool | None = None,
) -> TrainedModel:
    """The model of recipe ``name``, loaded from the cache or trained now (and cached).

    Args:
        name: a key of :data:`RECIPES`.
        device: ``"cpu"`` (default) or ``"cuda"``; part of the cache key, since weights trained
            on another device differ in their last bits.
        cache_dir: the cache's root (default ``$MTL_TUTORIAL_CACHE``, else ``~/.cache/mtl_tutorial``).
        retrain: train again even if a valid cached copy exists (default False).
        progress: show a progress bar while training; default: yes, unless the environment
            variable ``MTL_TUTORIAL_PROGRESS`` is ``0``.
    """
    chosen = recipe(name)
    device = "cpu" if device is None else str(device)
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if progress is None:
        progress = os.environ.get(PROGRESS_VARIABLE, "1") != "0"
    model = chosen.build(chosen.settings, device)

    def compute() -> dict[str, Any]:
        losses = chosen.fit(model, chosen.settings, progress)
        return {"state": model.state_dict(), "losses": torch.tensor(losses, dtype=torch.float64),
                "train_seconds": float(model.train_seconds)}  # fmt: skip

    settings = chosen.key_settings(device)
    lookup = cached(name, settings, compute, code=chosen.key_code(), cache_dir=cache_dir, recompute=retrain)
    if lookup.from_cache:
        model.load_state_dict(lookup.payload["state"])
    losses = lookup.payload["losses"].tolist()
    model.losses = losses  # as fit() leaves them, with the CPU-seconds the training took (display only)
    model.train_seconds = float(lookup.payload.get("train_seconds", 0.0))
    return TrainedModel(chosen, model, losses, lookup.from_cache, lookup)


def trained(name: str, **kwargs: Any) -> Any:
    """The trained learner of recipe ``name`` (see :func:`train_recipe` for the options)."""
    return train_recipe(name, **kwargs).learner


def is_cached(name: str, *, device: str = "cpu", cache_dir: str | os.PathLike | None = None) -> bool:
    """Whether recipe ``name`` has a cache file under its current key (not read or verified:
    :func:`train_recipe` still checks it, and retrains a damaged one)."""
    chosen = recipe(name)
    key = cache_key(name, chosen.key_settings(device), chosen.key_code())
    return entry_path(name, key, cache_dir).is_file()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def train_in_background(
    names: Sequence[str], *, device: str = "cpu", cache_dir: str | os.PathLike | None = None
) -> subprocess.Popen | None:
    """Train the recipes among ``names`` that are not cached yet in a second process, so that a
    chapter that needs several uses two cores on a cold cache.

    ``names`` are in the order the caller will use them. The caller trains the first missing one
    itself, as soon as it asks; the second process trains the others from the last one back, so
    the two meet in the middle. Each recipe is still trained once: the cache's lock makes
    whichever process comes second wait for the first and load its weights (the same weights
    either way: recipes are trained on one thread). Nothing is started when fewer than two
    recipes are missing, on a single core, without POSIX file locks (Windows), or when
    ``MTL_TUTORIAL_BACKGROUND`` is ``0``.

    Returns:
        The process, or ``None`` when none was started. It needs no attention: it exits when its
        recipes are cached, and if it fails the caller trains what is still missing.
    """
    for name in names:
        recipe(name)  # an unknown name is an error here, not in the other process
    # without file locks (Windows) both processes could train the same recipe
    if os.environ.get(BACKGROUND_VARIABLE, "1") == "0" or _cores() < 2 or not HAS_FILE_LOCKS:
        return None
    missing = [n for n in names if not is_cached(n, device=device, cache_dir=cache_dir)]
    if len(missing) < 2:
        return None
    environment = {**os.environ, PROGRESS_VARIABLE: "0"}
    if cache_dir is not None:
        environment["MTL_TUTORIAL_CACHE"] = str(cache_dir)
    command = [sys.executable, "-m", "mtl_tutorial", "cache", "train", *reversed(missing[1:])]
    command += ["--device", device]
    return subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def untrained(name: str, *, device: str = "cpu") -> Any:
    """Recipe ``name``'s learner before training: the same network, settings and initial weights
    (for before-and-after comparisons)."""
    chosen = recipe(name)
    return chosen.build(chosen.settings, device)


def cached_call(
    name: str,
    function: Callable[..., T],
    /,
    *,
    safe_types: Sequence[type] = (),
    cache_dir: str | os.PathLike | None = None,
    **kwargs: Any,
) -> T:
    """``function(**kwargs)``, computed once and then read from the cache.

    For experiments a chapter runs whole (training several learners and scoring them): the
    result is cached under ``name`` and the keyword arguments, keyed also by the source of the
    whole package (any change to the package computes it again), like the trained models.

    Args:
        name: the entry's name in the cache.
        function: the experiment; it must be deterministic for its arguments (seeded).
        safe_types: the classes its result is made of, beyond tensors and plain containers
            (e.g. the dataclass it returns); they are allowed when loading with ``weights_only``.
        cache_dir: the cache's root (default as for :func:`train_recipe`).
        **kwargs: the experiment's arguments, JSON-serialisable.
    """
    settings = {"function": f"{function.__module__}.{function.__qualname__}", "kwargs": kwargs}
    # one entry per name and arguments: the same experiment at other arguments is another file,
    # and only a change of code replaces an entry
    arguments = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:8]
    lookup = cached(f"{name}-{arguments}", settings, lambda: {"result": function(**kwargs)},
                    code=package_files(), cache_dir=cache_dir, safe_types=safe_types)  # fmt: skip
    return lookup.payload["result"]


__all__ = [
    "BACKGROUND_VARIABLE",
    "PROGRESS_VARIABLE",
    "RECIPES",
    "Lookup",
    "Recipe",
    "TrainedModel",
    "cache_entries",
    "cache_key",
    "cached",
    "cached_call",
    "clear_cache",
    "is_cached",
    "models_dir",
    "recipe",
    "train_in_background",
    "train_recipe",
    "trained",
    "untrained",
]
