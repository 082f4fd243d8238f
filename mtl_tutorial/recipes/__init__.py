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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import torch

from .catalogue import RECIPES, Recipe
from .store import Lookup, cache_entries, cache_key, cached, clear_cache, models_dir, package_files

T = TypeVar("T")

#: Set to ``0`` to hide the progress bar of a recipe being trained (the book's build does).
PROGRESS_VARIABLE = "MTL_TUTORIAL_PROGRESS"


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
        return {"state": model.state_dict(), "losses": torch.tensor(losses, dtype=torch.float64)}

    settings = chosen.key_settings(device)
    lookup = cached(name, settings, compute, code=chosen.key_code(), cache_dir=cache_dir, recompute=retrain)
    if lookup.from_cache:
        model.load_state_dict(lookup.payload["state"])
    losses = lookup.payload["losses"].tolist()
    if hasattr(model, "losses"):  # SupervisedPretraining keeps its losses
        model.losses = losses
    return TrainedModel(chosen, model, losses, lookup.from_cache, lookup)


def trained(name: str, **kwargs: Any) -> Any:
    """The trained learner of recipe ``name`` (see :func:`train_recipe` for the options)."""
    return train_recipe(name, **kwargs).learner


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
    "models_dir",
    "recipe",
    "train_recipe",
    "trained",
    "untrained",
]
