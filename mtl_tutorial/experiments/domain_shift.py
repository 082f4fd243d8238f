"""Domain shift and negative transfer on the glyphs: the same pretraining, from different sources.

The source's §5 (item 3) says transfer "still needs work when source and target tasks differ a
lot". :func:`domain_shift_scores` measures it: one Conv-4 backbone is pretrained, with the same
steps, batch and seed, on each of several sources, and a linear probe of its frozen features is
scored on the same fixed 5-way test episodes of the test scripts. The sources are the training
scripts nearest to the test scripts and those farthest from them (by the mean-image distance of
:func:`~mtl_tutorial.experiments.claims.script_distance`, greedily until ``classes`` classes), a
*different domain* (the training glyphs with their pixels shuffled by one fixed permutation:
the same images, every stroke destroyed), and no pretraining at all (the random backbone's
features). Transfer is *negative* where a source does worse than no pretraining.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .._checks import check_int
from ..evaluation import episode_accuracy
from ..registry import build_learner, glyph_learner
from ..tasks import FewShotTasks, GlyphConfig, ImageClasses, load_glyphs
from ..training import seed_everything
from .claims.distance import script_distance

#: The sources :func:`domain_shift_scores` can pretrain on.
SOURCES = ("near", "far", "shuffled pixels", "none")


def take_scripts(classes: ImageClasses, scripts: Sequence[str], at_least: int) -> ImageClasses:
    """The classes of ``scripts``, taken in that order until at least ``at_least`` classes."""
    check_int("at_least", at_least, minimum=1)
    if classes.groups is None:
        raise ValueError("classes has no groups (scripts)")
    chosen: list[str] = []
    for script in scripts:
        if sum(g in chosen for g in classes.groups) >= at_least:
            break
        chosen.append(script)
    keep = [i for i, g in enumerate(classes.groups) if g in chosen]
    if len(keep) < at_least:
        raise ValueError(f"the scripts hold {len(keep)} classes, fewer than the {at_least} asked for")
    names, groups = [classes.names[i] for i in keep], [classes.groups[i] for i in keep]
    return ImageClasses(classes.images[keep], names, groups)


def shuffle_pixels(classes: ImageClasses, seed: int = 0) -> ImageClasses:
    """The same images with their pixels moved by one fixed random permutation (``seed``): the
    pixel statistics stay, every spatial structure goes."""
    *lead, height, width = classes.images.shape
    permutation = torch.randperm(height * width, generator=torch.Generator().manual_seed(seed))
    images = classes.images.reshape(*lead, height * width)[..., permutation].reshape(*lead, height, width)
    return ImageClasses(images, classes.names, classes.groups)


def domain_shift_scores(
    *,
    sources: Sequence[str] = SOURCES,
    classes: int = 300,
    iterations: int = 300,
    channels: int = 32,
    ways: int = 5,
    shots: int = 5,
    queries: int = 10,
    episodes: int = 200,
    episode_seed: int = 2019,
    seed: int = 0,
    device: str = "cpu",
) -> dict[str, Any]:
    """Pretrain one backbone per source and score a linear probe of it on fixed test episodes,
    for :func:`~mtl_tutorial.recipes.cached_call`.

    Every pretraining is :class:`~mtl_tutorial.transfer.SupervisedPretraining` of a
    ``channels``-channel Conv-4 (Adam 3e-3, batches of 64, the book's glyph backbone's settings)
    for ``iterations`` steps from the same seeded initial weights; "none" keeps those initial
    weights. The probe is the book's :class:`~mtl_tutorial.transfer.LinearProbe`.

    Returns:
        A dict with ``"accuracy"`` (by source, the list of per-episode accuracies), ``"scripts"``
        (by source, the scripts it pretrained on; empty for the sources that are not scripts),
        ``"classes"`` (by source, its number of classes) and ``"distances"`` (by training script,
        its distance to the test scripts, nearest first).
    """
    unknown = sorted(set(sources) - set(SOURCES))
    if unknown or not sources:
        raise ValueError(f"sources must be among {list(SOURCES)}, got {list(sources)}")
    for name, value in (("classes", classes), ("iterations", iterations), ("episodes", episodes)):
        check_int(name, value, minimum=1)
    glyphs = load_glyphs(GlyphConfig())
    train, test = glyphs.split("train"), glyphs.split("test")
    # each training script's distance to the test classes (mean image), nearest first
    distances = script_distance(train, test)
    nearest_first = list(distances)
    pools = {
        "near": take_scripts(train, nearest_first, classes),
        "far": take_scripts(train, nearest_first[::-1], classes),
    }
    pools["shuffled pixels"] = shuffle_pixels(train)
    pools["none"] = train  # gives the head its width; no step is taken
    target = FewShotTasks(test, ways, shots, queries)
    fixed = target.fixed_episodes(episodes, seed=episode_seed)
    out: dict[str, Any] = {"accuracy": {}, "scripts": {}, "classes": {}, "distances": distances}
    for source in sources:
        seed_everything(seed)  # the same initial weights for every source
        pretrained = glyph_learner("pretraining", channels=channels, lr=3e-3, batch_size=64, device=device)
        if source == "none":
            pretrained.prepare_training(FewShotTasks(pools[source]))  # a head, and no training
        else:
            pretrained.fit(FewShotTasks(pools[source]), iterations=iterations, seed=seed, progress=False)
        probe = build_learner("linear_probe", pretrained)
        out["accuracy"][source] = episode_accuracy(probe, target, fixed)[0].tolist()
        out["scripts"][source] = sorted(set(pools[source].groups or [])) if source in ("near", "far") else []
        out["classes"][source] = pools[source].num_classes
    return out
