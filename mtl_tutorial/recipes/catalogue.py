"""The book's named training recipes: each model that more than one chapter uses, trained once.

A recipe fixes everything about a trained model: the network, the learner and its settings, the
training tasks, the number of iterations and the seeds. Chapters ask for a model by name
(:func:`~mtl_tutorial.recipes.trained`), so "the sinusoid MAML" or "the glyph backbone" is the
same network, with the same numbers, on every page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import adaptation, learner, registry
from ..meta import MAML, InContext, MetaSGD, ProtoNet, TaskConditioned
from ..models import MLP, Conv4, FiLMNetwork, InContextTransformer
from ..registry import glyph_learner, sinusoid_learner
from ..tasks import FewShotTasks, GlyphConfig, SinusoidTasks, load_glyphs
from ..tasks import episode as episodes
from ..tasks import glyphs as glyph_data
from ..training import loop, seed_everything
from ..transfer import FineTuning, SupervisedPretraining


@dataclass(frozen=True)
class Recipe:
    """How one named model is built and trained.

    Attributes:
        name: what chapters call it, e.g. ``"sinusoid_maml"``.
        description: one line for listings.
        settings: every number the recipe uses; part of the cache key.
        build: makes the untrained learner from ``settings`` on a device (seeded).
        fit: trains it, ``fit(learner, settings, progress)``, and returns the training losses.
        code: classes and functions whose source is part of the cache key, besides the
            package's training loop, adaptation code, learner registry and this module, which
            always are.
    """

    name: str
    description: str
    settings: Mapping[str, Any]
    build: Callable[[Mapping[str, Any], str], Any]
    fit: Callable[[Any, Mapping[str, Any], bool | None], list[float]]
    code: tuple[object, ...] = field(default=())

    def key_code(self) -> tuple[object, ...]:
        """Everything whose source code the cached weights depend on."""
        return (*self.code, loop, adaptation, learner, registry, episodes, _module_marker)

    def key_settings(self, device: str) -> dict[str, Any]:
        """The settings the cache key is made of: the recipe's, the device type and, for
        recipes trained on glyphs, the glyph data's own cache key."""
        out = {"recipe": dict(self.settings), "device": device}
        if self.settings.get("data") == "glyphs":
            out["glyph_data"] = glyph_data.cache_key(GlyphConfig())
        return out


def _pick(settings: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {name: settings[name] for name in names}


def _module_marker() -> None:
    """Stands for this module in :meth:`Recipe.key_code` (a change here retrains everything)."""


# -- sinusoid regression: the MAML paper's tasks ---------------------------------------------


def _fit_sinusoid(learner_: Any, s: Mapping[str, Any], progress: bool | None) -> list[float]:
    schedule = _pick(s, "iterations", "meta_batch_size", "seed")
    return learner_.fit(SinusoidTasks(), **schedule, progress=progress)


def _build_maml(s: Mapping[str, Any], device: str) -> MAML:
    seed_everything(s["seed"])
    return sinusoid_learner("maml", device=device, **_pick(s, "inner_lr", "inner_steps", "outer_lr"))


def _build_metasgd(s: Mapping[str, Any], device: str) -> MetaSGD:
    seed_everything(s["seed"])
    bound = {"max_rate": s["max_rate"]} if "max_rate" in s else {}  # step sizes held in [0, max_rate]
    options = _pick(s, "inner_lr", "inner_steps", "outer_lr")
    return sinusoid_learner("metasgd", device=device, **options, **bound)


def _build_pretrained(s: Mapping[str, Any], device: str) -> FineTuning:
    seed_everything(s["seed"])
    return sinusoid_learner("pretrained", device=device, **_pick(s, "adapt_lr", "pretrain_lr"))


def _build_film(s: Mapping[str, Any], device: str) -> TaskConditioned:
    seed_everything(s["seed"])
    return sinusoid_learner("film", device=device, lr=s["lr"])


def _build_in_context(s: Mapping[str, Any], device: str) -> InContext:
    seed_everything(s["seed"])
    return sinusoid_learner("in_context", device=device, lr=s["lr"])


# -- rendered glyphs: few-shot image classification ---------------------------------------------


def _glyph_split(name: str):
    return load_glyphs(GlyphConfig()).split(name)


def _build_backbone(s: Mapping[str, Any], device: str) -> SupervisedPretraining:
    seed_everything(s["seed"])
    return glyph_learner("pretraining", channels=s["channels"], device=device, **_pick(s, "lr", "batch_size"))


def _fit_backbone(pretrained: SupervisedPretraining, s: Mapping[str, Any], progress: bool | None) -> list:
    tasks = FewShotTasks(_glyph_split("train"))
    return pretrained.fit(tasks, **_pick(s, "iterations", "seed"), progress=progress)


def _build_protonet(s: Mapping[str, Any], device: str) -> ProtoNet:
    seed_everything(s["seed"])
    return glyph_learner("protonet", channels=s["channels"], device=device, lr=s["lr"])


def _build_glyph_maml(s: Mapping[str, Any], device: str) -> MAML:
    seed_everything(s["seed"])
    options = _pick(s, "inner_lr", "inner_steps", "adapt_steps", "outer_lr")
    return glyph_learner("maml", ways=s["ways"], channels=s["channels"], device=device, **options)


def _fit_episodic(meta_learner: learner.Learner, s: Mapping[str, Any], progress: bool | None) -> list[float]:
    """Meta-training on ``ways``-way ``shots``-shot episodes of the training scripts."""
    tasks = FewShotTasks(_glyph_split("train"), ways=s["ways"], shots=s["shots"], queries=s["queries"])
    return meta_learner.fit(tasks, **_pick(s, "iterations", "meta_batch_size", "seed"), progress=progress)


_MAML_SETTINGS = {"inner_lr": 0.01, "inner_steps": 1, "outer_lr": 1e-3, "meta_batch_size": 25, "seed": 0}

RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe(
            "sinusoid_maml",
            "MAML on the MAML paper's sinusoids: 1-40-40-1 MLP, one inner step of 0.01, 12,000 iterations",
            {**_MAML_SETTINGS, "iterations": 12_000},
            _build_maml, _fit_sinusoid, (MAML, MLP, SinusoidTasks),
        ),
        Recipe(
            "sinusoid_pretrained",
            "the same MLP pretrained on pooled sinusoid tasks (20,000 iterations), fine-tuned at 0.01",
            {"adapt_lr": 0.01, "pretrain_lr": 1e-3, "meta_batch_size": 25, "seed": 0, "iterations": 20_000},
            _build_pretrained, _fit_sinusoid, (FineTuning, MLP, SinusoidTasks),
        ),
        Recipe(
            "sinusoid_metasgd",
            "Meta-SGD on sinusoids: per-weight step sizes starting at 0.01, 2,000 iterations",
            {**_MAML_SETTINGS, "iterations": 2_000},
            _build_metasgd, _fit_sinusoid, (MetaSGD, MLP, SinusoidTasks),
        ),
        Recipe(
            "sinusoid_metasgd_bounded",
            "Meta-SGD on sinusoids with its step sizes held in [0, 0.05], otherwise as sinusoid_metasgd",
            {**_MAML_SETTINGS, "iterations": 2_000, "max_rate": 0.05},
            _build_metasgd, _fit_sinusoid, (MetaSGD, MLP, SinusoidTasks),
        ),
        Recipe(
            "sinusoid_film",
            "FiLM task conditioning on sinusoids: default FiLMNetwork, Adam 1e-3, 3,000 iterations",
            {"lr": 1e-3, "meta_batch_size": 25, "seed": 0, "iterations": 3_000},
            _build_film, _fit_sinusoid, (TaskConditioned, FiLMNetwork, SinusoidTasks),
        ),
        Recipe(
            "sinusoid_in_context",
            "in-context learning on sinusoids: a 2-layer transformer (width 64) reads the 10 support "
            "pairs, Adam 1e-3, 3,000 iterations",
            {"lr": 1e-3, "meta_batch_size": 25, "seed": 0, "iterations": 3_000},
            _build_in_context, _fit_sinusoid, (InContext, InContextTransformer, SinusoidTasks),
        ),
        Recipe(
            "glyph_backbone",
            "Conv-4 (32 channels) pretrained to classify the 915 training glyphs: 400 steps of 64 images",
            {"data": "glyphs", "channels": 32, "lr": 3e-3, "batch_size": 64, "iterations": 400, "seed": 0},
            _build_backbone, _fit_backbone, (SupervisedPretraining, Conv4, FewShotTasks, load_glyphs),
        ),
        Recipe(
            "glyph_protonet",
            "Prototypical Networks on glyphs: Conv-4 (32 channels), 300 5-way 5-shot episodes of 5 queries",
            {"data": "glyphs", "channels": 32, "lr": 1e-3, "ways": 5, "shots": 5, "queries": 5,
             "meta_batch_size": 1, "iterations": 300, "seed": 0},
            _build_protonet, _fit_episodic, (ProtoNet, Conv4, FewShotTasks, load_glyphs),
        ),
        Recipe(
            "glyph_maml",
            "second-order MAML on glyphs, given what it needs: Conv-4 (32 channels), 1,500 meta-batches "
            "of two 5-way 1-shot episodes (5 queries), one inner step of 0.4, Adam at 2e-3",
            # chosen with benchmarks/glyph_maml.py: per CPU-second, meta-batches of 2 at 2e-3 learned
            # faster than meta-batches of 4 at 1e-3 (which need 2,000 iterations, twice the time)
            {"data": "glyphs", "channels": 32, "inner_lr": 0.4, "inner_steps": 1, "adapt_steps": 1,
             "outer_lr": 2e-3, "ways": 5, "shots": 1, "queries": 5, "meta_batch_size": 2,
             "iterations": 1500, "seed": 0},
            _build_glyph_maml, _fit_episodic, (MAML, Conv4, FewShotTasks, load_glyphs),
        ),
    )
}
