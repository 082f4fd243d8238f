"""The heavier computations of the book's first chapters, with JSON arguments, so that the book
computes each once through :func:`~mtl_tutorial.recipes.cached_call` and then reads it.

Each function does exactly what the chapter shows (the same learners, seeds, tasks and calls), so
the cached result equals the one the chapter's code would compute in place:

- :func:`sinusoid_query_mse`: :func:`~mtl_tutorial.query_mse` of several sinusoid learners (the
  book's recipes, or an untrained network) on fixed test tasks (chapters 1 and 2).
- :func:`support_and_query_mse`, :func:`sinusoid_support_and_query_mse`: the error on the
  support set and on the query set after adapting (chapter 2's memoriser).
- :func:`one_task_transfer`: MAML and pretraining on a single source task, and their test error
  (chapter 2).
- :func:`glyph_protonet_accuracy`: the glyph ProtoNet, trained and untrained, on fixed test
  episodes (chapter 2).
- :func:`glyph_transfer_accuracy`: fine-tuning the glyph backbone, or the same network barely
  trained, on fixed target episodes (chapter 4).
- :func:`glyph_finetuning_steps`: the glyph backbone's linear probe against full fine-tuning for
  a few numbers of steps, with their adaptation FLOPs (the claims chapter's first exercise).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from .._checks import check_int
from ..evaluation import adaptation_cost, episode_accuracy, query_mse
from ..learner import Learner
from ..meta import MAML
from ..models import MLP
from ..recipes import trained, untrained
from ..registry import glyph_learner
from ..tasks import Episode, FewShotTasks, GlyphConfig, SinusoidTasks, load_glyphs
from ..training import seed_everything
from ..transfer import FineTuning, FullFineTuning


def sinusoid_recipe_learner(spec: Mapping[str, Any], device: str = "cpu") -> Learner:
    """The sinusoid learner a JSON specification describes.

    - ``{"recipe": name}``: the book's trained learner of that recipe
      (:func:`~mtl_tutorial.recipes.trained`); with ``"adapt_lr"`` as well, its network
      fine-tuned with that step size instead, ``FineTuning(trained(name).model, adapt_lr=...)``.
    - ``{"scratch": seed, "adapt_lr": lr}``: an untrained network, fine-tuned from its random
      weights: ``seed_everything(seed)``, then ``FineTuning(MLP().to(device), adapt_lr=lr)``.

    Raises:
        ValueError: for a specification of neither kind.
    """
    settings = dict(spec)
    if "recipe" in settings and set(settings) <= {"recipe", "adapt_lr"}:
        learner = trained(settings["recipe"], device=device)
        if "adapt_lr" in settings:
            return FineTuning(learner.model, adapt_lr=settings["adapt_lr"])
        return learner
    if set(settings) == {"scratch", "adapt_lr"}:
        seed_everything(check_int("spec['scratch']", settings["scratch"], minimum=0))
        return FineTuning(MLP().to(device), adapt_lr=settings["adapt_lr"])
    raise ValueError(
        "spec must be {'recipe': name} (optionally with 'adapt_lr') or {'scratch': seed, 'adapt_lr': lr},"
        f" got {spec!r}"
    )


def _test_set(support_size: int, query_size: int, tasks: int, seed: int) -> Episode:
    return SinusoidTasks(support_size=support_size, query_size=query_size).sample(
        check_int("tasks", tasks, minimum=1), seed=seed
    )


def sinusoid_query_mse(
    *,
    learners: Mapping[str, Mapping[str, Any]],
    steps: Sequence[int],
    support_size: int = 5,
    query_size: int = 100,
    tasks: int = 600,
    seed: int = 2017,
    device: str = "cpu",
) -> dict[str, Tensor]:
    """``query_mse(learner, test_set, steps=steps)`` of each learner, by name.

    ``test_set`` is ``SinusoidTasks(support_size=..., query_size=...).sample(tasks, seed=seed)``
    (default: the book's 600 test tasks with K = 5); each learner is built by
    :func:`sinusoid_recipe_learner` from its specification, in the order given.

    Returns:
        ``{name: tensor of shape (len(steps), tasks)}``.
    """
    test_set = _test_set(support_size, query_size, tasks, seed)
    return {name: query_mse(sinusoid_recipe_learner(spec, device), test_set, steps=tuple(steps))
            for name, spec in learners.items()}  # fmt: skip


def support_and_query_mse(learner: Learner, episodes: Episode, steps: int) -> tuple[Tensor, Tensor]:
    """Per-task MSE on the support set and on the query set, after adapting with ``steps`` steps."""
    adapted = learner.adapt(episodes, steps=steps)
    with torch.no_grad():
        return tuple(
            ((learner.predict(adapted, x).cpu() - y) ** 2).mean(dim=(1, 2))
            for x, y in ((episodes.support_x, episodes.support_y), (episodes.query_x, episodes.query_y))
        )


def sinusoid_support_and_query_mse(
    *,
    learner: Mapping[str, Any],
    steps: int,
    first: int = 200,
    support_size: int = 5,
    query_size: int = 100,
    tasks: int = 600,
    seed: int = 2017,
    device: str = "cpu",
) -> tuple[Tensor, Tensor]:
    """:func:`support_and_query_mse` of the learner ``learner`` specifies (see
    :func:`sinusoid_recipe_learner`) on the first ``first`` tasks of the test set of
    :func:`sinusoid_query_mse`."""
    subset = _test_set(support_size, query_size, tasks, seed)[: check_int("first", first, minimum=1)]
    return support_and_query_mse(
        sinusoid_recipe_learner(learner, device), subset, check_int("steps", steps, minimum=0)
    )


def one_task_transfer(
    *,
    amplitude_range: Sequence[float],
    phase_range: Sequence[float],
    iterations: int = 1000,
    meta_batch_size: int = 25,
    steps: Sequence[int] = (10,),
    support_size: int = 5,
    query_size: int = 100,
    tasks: int = 600,
    seed: int = 2017,
    device: str = "cpu",
) -> dict[str, dict[str, Any]]:
    """MAML and pretraining trained on the sinusoids of the given (narrow) ranges, and scored.

    Exactly chapter 2's code: ``seed_everything(0)``, then
    ``MAML(MLP().to(device), inner_lr=0.01, inner_steps=1, outer_lr=1e-3)``, fitted for
    ``iterations`` iterations of ``meta_batch_size`` tasks (seed 0); then ``seed_everything(0)``
    and ``FineTuning(MLP().to(device), adapt_lr=0.01, pretrain_lr=1e-3)``, fitted the same way.
    Each is scored by ``query_mse(learner, test_set, steps=steps)`` on the test set of
    :func:`sinusoid_query_mse`.

    Returns:
        ``{"states": {"maml": ..., "pretrained": ...}, "mse": {"maml": ..., "pretrained": ...}}``:
        the trained learners' ``state_dict()`` and their scores, shape ``(len(steps), tasks)``.
    """
    check_int("iterations", iterations, minimum=1)
    source = SinusoidTasks(amplitude_range=tuple(amplitude_range), phase_range=tuple(phase_range))
    test_set = _test_set(support_size, query_size, tasks, seed)
    seed_everything(0)
    maml = MAML(MLP().to(device), inner_lr=0.01, inner_steps=1, outer_lr=1e-3)
    maml.fit(source, iterations=iterations, meta_batch_size=meta_batch_size, seed=0, progress=False)
    seed_everything(0)
    pretrained = FineTuning(MLP().to(device), adapt_lr=0.01, pretrain_lr=1e-3)
    pretrained.fit(source, iterations=iterations, meta_batch_size=meta_batch_size, seed=0, progress=False)
    learners = {"maml": maml, "pretrained": pretrained}
    return {
        "states": {name: learner.state_dict() for name, learner in learners.items()},
        "mse": {name: query_mse(learner, test_set, steps=tuple(steps)) for name, learner in learners.items()},
    }


def glyph_protonet_accuracy(
    *, episodes: int = 100, seed: int = 2018, batch_size: int = 10, device: str = "cpu"
) -> dict[str, Tensor]:
    """Chapter 2's glyph ProtoNet, trained (``"trained"``, the recipe ``glyph_protonet``) and
    before training (``"untrained"``), scored on fixed 5-way 1-shot test episodes.

    Exactly the chapter's code: ``FewShotTasks(glyphs.split("test"), ways=5, shots=1,
    queries=10).fixed_episodes(episodes, seed=seed)``, built and scored by
    :func:`~mtl_tutorial.evaluation.episode_accuracy` ``batch_size`` episodes at a time.

    Returns:
        ``{"untrained": ..., "trained": ...}``: per-episode accuracies, each of shape ``(episodes,)``.
    """
    glyph_test = FewShotTasks(load_glyphs(GlyphConfig()).split("test"), ways=5, shots=1, queries=10)
    indices = glyph_test.fixed_episodes(check_int("episodes", episodes, minimum=1), seed=seed)
    check_int("batch_size", batch_size, minimum=1)

    def accuracy(learner: Learner) -> Tensor:
        return episode_accuracy(learner, glyph_test, indices, batch_size=batch_size)[0]

    return {
        "untrained": accuracy(untrained("glyph_protonet", device=device)),
        "trained": accuracy(trained("glyph_protonet", device=device)),
    }


def glyph_recipe_accuracy(
    name: str,
    *,
    steps: Sequence[int | None] = (None,),
    episodes: int = 600,
    queries: int = 15,
    seed: int = 2017,
    batch_size: int = 5,
    device: str = "cpu",
) -> dict[str, Any]:
    """The glyph recipe ``name``'s learner (trained, from the cache), scored on the field's
    protocol: ``episodes`` fixed 5-way 1-shot episodes of the test scripts (seed ``seed``) with
    ``queries`` queries per class, after each number of adaptation steps in ``steps`` (``None``:
    the learner's own).

    Returns:
        ``{"accuracy": (len(steps), episodes) tensor, "iterations": training iterations,
        "train_seconds": CPU-seconds the training took when the recipe was trained (for display)}``.
    """
    learner = trained(name, device=device)
    test = FewShotTasks(load_glyphs(GlyphConfig()).split("test"), ways=5, shots=1, queries=queries)
    indices = test.fixed_episodes(check_int("episodes", episodes, minimum=1), seed=seed)
    accuracy = episode_accuracy(learner, test, indices, batch_size=batch_size, steps=tuple(steps))
    return {"accuracy": accuracy, "iterations": len(learner.losses), "train_seconds": learner.train_seconds}


def glyph_finetuning_steps(
    *,
    steps: Sequence[int] = (2, 20),
    shots: int = 10,
    queries: int = 15,
    episodes: int = 100,
    seed: int = 2017,
    device: str = "cpu",
) -> dict[str, dict[str, Any]]:
    """The glyph backbone (recipe ``glyph_backbone``) adapted by a linear probe and by full
    fine-tuning for each number of steps in ``steps``, on ``episodes`` fixed 5-way ``shots``-shot
    episodes of the test scripts (seed ``seed``): what the claims chapter's first exercise asks.

    Returns:
        ``{learner name: {"accuracy": (episodes,) tensor, "flops": adaptation FLOPs per episode}}``,
        the names ``"linear probe"`` and ``"fine-tuning, S steps"``.
    """
    backbone = trained("glyph_backbone", device=device)
    tasks = FewShotTasks(load_glyphs(GlyphConfig()).split("test"), ways=5, shots=shots, queries=queries)
    indices = tasks.fixed_episodes(check_int("episodes", episodes, minimum=1), seed=seed)
    learners = {"linear probe": glyph_learner("linear_probe", pretrained=backbone)}
    for s in steps:
        learners[f"fine-tuning, {s} steps"] = glyph_learner("finetune", pretrained=backbone, adapt_steps=s)
    first_two = tasks.episode(indices, slice(0, 2))
    return {
        name: {
            "accuracy": episode_accuracy(learner, tasks, indices, batch_size=2)[0],
            "flops": adaptation_cost(learner, first_two, ways=5).flops_per_task,
        }
        for name, learner in learners.items()
    }


def glyph_transfer_accuracy(
    *,
    steps: Sequence[int],
    episodes: int = 60,
    seed: int = 42,
    ways: int = 5,
    shots: int = 1,
    queries: int = 15,
    device: str = "cpu",
) -> dict[str, Tensor]:
    """Chapter 4's transfer experiment: full fine-tuning on fixed target episodes, from the glyph
    backbone (``"pretrained"``) or from the same network pretrained for one step only
    (``"random start"``).

    Exactly the chapter's code: the target episodes are
    ``FewShotTasks(glyphs.split("test"), ways=..., shots=..., queries=...).fixed_episodes(episodes,
    seed=seed)``; the random start is ``untrained("glyph_backbone")`` fitted for one iteration
    (seed 0) on the same tasks of the training scripts; and each score row is
    ``episode_accuracy(FullFineTuning(start, adapt_steps=s), target_tasks, target_episodes)[0]``.

    Returns:
        ``{"random start": ..., "pretrained": ...}``, each of shape ``(len(steps), episodes)``.
    """
    glyphs = load_glyphs()
    source_tasks = FewShotTasks(glyphs.split("train"), ways=ways, shots=shots, queries=queries)
    target_tasks = FewShotTasks(glyphs.split("test"), ways=ways, shots=shots, queries=queries)
    target_episodes = target_tasks.fixed_episodes(check_int("episodes", episodes, minimum=1), seed=seed)
    not_pretrained = untrained("glyph_backbone", device=device)
    not_pretrained.fit(source_tasks, iterations=1, seed=0, progress=False)
    starts = {"random start": not_pretrained, "pretrained": trained("glyph_backbone", device=device)}
    return {
        name: torch.stack(
            [
                episode_accuracy(FullFineTuning(start, adapt_steps=s), target_tasks, target_episodes)[0]
                for s in steps
            ]
        )
        for name, start in starts.items()
    }


__all__ = [
    "glyph_finetuning_steps",
    "glyph_protonet_accuracy",
    "glyph_transfer_accuracy",
    "one_task_transfer",
    "sinusoid_recipe_learner",
    "sinusoid_query_mse",
    "sinusoid_support_and_query_mse",
    "support_and_query_mse",
]
