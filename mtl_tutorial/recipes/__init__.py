"""Named training recipes and the trained-model cache they share.

>>> from mtl_tutorial.recipes import trained
>>> maml = trained("sinusoid_maml")   # trained on first use (with a progress bar), then cached

Every chapter that shows "the sinusoid MAML" or "the glyph backbone" loads it through here, so
the numbers agree across chapters and each model is trained once per machine. The cache lives
next to the glyph data (``$MTL_TUTORIAL_CACHE``, else ``~/.cache/mtl_tutorial``), in ``models/``;
``mtl-tutorial cache clear`` empties it and ``mtl-tutorial cache list`` shows it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch

from .catalogue import RECIPES, Recipe
from .store import Lookup, cache_entries, cache_key, cached, clear_cache, models_dir

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


__all__ = [
    "PROGRESS_VARIABLE",
    "RECIPES",
    "Lookup",
    "Recipe",
    "TrainedModel",
    "cache_entries",
    "cache_key",
    "cached",
    "clear_cache",
    "models_dir",
    "recipe",
    "train_recipe",
    "trained",
]
