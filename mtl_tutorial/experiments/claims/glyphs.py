"""The three claims on the glyph images: meta-learners against transfer from one pretrained network.

Meta-learners are Prototypical Networks and MAML (one inner step of 0.4, the Omniglot setting),
meta-trained on 5-way 5-shot episodes of the training scripts. The transfer learners share one
Conv-4 pretrained by ordinary classification of every training character: a linear probe on its
frozen features, and full fine-tuning (``finetune_steps`` steps, default 2, from the probe's
initialisation). Every backbone is the same Conv-4 (LayerNorm, 64 channels by default).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch

from ..._checks import check_int
from ...evaluation import (
    adaptation_cost,
    cpu_ms_per_task,
    episode_accuracy,
    sampled_training_step_cost,
    training_step_cost,
)
from ...learner import Learner
from ...registry import glyph_learner
from ...tasks import FewShotTasks, GlyphConfig, ImageClasses, load_glyphs
from ...training import seed_everything
from ...transfer import SupervisedPretraining
from ..trends import TrainingCurve, train_with_checkpoints
from .distance import script_distance
from .results import ClaimResults, geometric_checkpoints
from .sizes import SHOTS, check_shots

META = ("protonet", "maml")
TRANSFER = ("linear_probe", "finetune")
WAYS, TRAIN_SHOTS = 5, 5


def script_classes(classes: ImageClasses, script: str) -> ImageClasses:
    """The classes of ``classes`` that belong to ``script``."""
    keep = [i for i, g in enumerate(classes.groups or []) if g == script]
    if not keep:
        raise ValueError(f"no class of script {script!r}; scripts here: {sorted(set(classes.groups or []))}")
    return ImageClasses(classes.images[keep], [classes.names[i] for i in keep], [script] * len(keep))


def merge_classes(*parts: ImageClasses) -> ImageClasses:
    """One collection holding the classes of every part (same image size and count per class)."""
    return ImageClasses(
        torch.cat([p.images for p in parts]),
        [n for p in parts for n in p.names],
        [g for p in parts for g in (p.groups or [""] * p.num_classes)],
    )


def _transfer(pretrained: SupervisedPretraining, finetune_steps: int) -> dict[str, Learner]:
    return {
        "linear_probe": glyph_learner("linear_probe", pretrained=pretrained),
        "finetune": glyph_learner("finetune", pretrained=pretrained, adapt_steps=finetune_steps),
    }


def glyph_claims(
    methods: Sequence[str] = META + TRANSFER,
    *,
    iterations: Mapping[str, int] | None = None,
    shots: Sequence[int] = SHOTS,
    queries: int = 15,
    test_episodes: int = 600,
    script_episodes: int = 300,
    validation_episodes: int = 200,
    checkpoints: int = 6,
    finetune_steps: int = 2,
    channels: int = 64,
    glyphs: GlyphConfig | None = None,
    seed: int = 0,
    device: str = "cpu",
    log: Callable[[str], None] = print,
) -> ClaimResults:
    """Train the meta-learners and the pretrained network once, then run the three experiments.

    - *Data scarcity*: ``test_episodes`` fixed 5-way episodes of the test scripts (seed 2017 + K)
      with K support and ``queries`` query images per class, for each K in ``shots``. The
      benchmark needs ``max(shots) + queries`` images per class: pass ``glyphs`` with enough
      (the default config has 20; ``mtl-tutorial claims`` generates 65).
    - *Task dissimilarity*: for each validation and test script, ``script_episodes`` 5-way
      5-shot episodes of that script alone, against the script's distance from the training
      scripts (:func:`.distance.script_distance`).
    - *Cost*: accuracy on ``validation_episodes`` 5-way 5-shot episodes of the validation
      scripts at about ``checkpoints`` log-spaced points of training; training FLOPs and
      CPU-seconds to reach the accuracy every method reaches; adaptation FLOPs and CPU-milliseconds
      per episode; peak tensor memory of one training step and of one test episode; parameters
      trained and adapted per task.

    Args:
        methods: which of ``protonet``, ``maml``, ``linear_probe``, ``finetune`` to run (default
            all); at least one meta and one transfer method.
        iterations: training iterations for ``"protonet"``, ``"maml"`` (meta-batches of 2
            episodes) and ``"pretraining"`` (batches of 64 images), for the methods run;
            default 2000, 1000, 3000.
    """
    unknown = [m for m in methods if m not in META + TRANSFER]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; choose from {list(META + TRANSFER)}")
    meta = tuple(m for m in META if m in methods)
    transfer = tuple(m for m in TRANSFER if m in methods)
    if not meta or not transfer:
        raise ValueError(
            f"methods must include a meta method {META} and a transfer method {TRANSFER}, got {methods}"
        )
    iterations = dict(iterations or {"protonet": 2000, "maml": 1000, "pretraining": 3000})
    missing = sorted({*meta, "pretraining"} - set(iterations))
    if missing:
        raise ValueError(f"iterations has no entry for {missing}; got keys {sorted(iterations)}")
    for key, value in iterations.items():
        check_int(f"iterations[{key!r}]", value, minimum=1)
    check_shots(shots)
    check_int("queries", queries, minimum=1)
    for name, value in [("test_episodes", test_episodes), ("script_episodes", script_episodes),
                        ("validation_episodes", validation_episodes)]:  # fmt: skip
        check_int(name, value, minimum=2)
    check_int("checkpoints", checkpoints, minimum=1)
    config = glyphs or GlyphConfig()
    if max(shots) + queries > config.images_per_class:
        raise ValueError(
            f"{max(shots)} shots + {queries} queries need {max(shots) + queries} images per class; the "
            f"glyph config has {config.images_per_class}: pass GlyphConfig(images_per_class="
            f"{max(shots) + queries}) or fewer shots"
        )

    benchmark = load_glyphs(config)
    train_classes, val_classes, test_classes = (benchmark.split(s) for s in ("train", "val", "test"))
    train = FewShotTasks(train_classes, WAYS, TRAIN_SHOTS, queries)
    validation = FewShotTasks(val_classes, WAYS, TRAIN_SHOTS, queries)
    val_episodes = validation.fixed_episodes(validation_episodes, seed=1)

    def accuracy(learner: Learner, tasks: FewShotTasks = validation, episodes=val_episodes) -> torch.Tensor:
        return episode_accuracy(learner, tasks, episodes, batch_size=2)[0]

    results = ClaimResults("glyphs", "accuracy", meta, transfer)
    learners: dict[str, Learner] = {}
    for method in meta:
        seed_everything(seed)
        learners[method] = glyph_learner(method, ways=WAYS, channels=channels, device=device)
        marks = geometric_checkpoints(iterations[method], checkpoints)[1:]
        results.curves[method] = train_with_checkpoints(
            learners[method], train, checkpoints=marks, evaluate=accuracy, meta_batch_size=2, seed=seed
        )
        log(f"glyphs: {method} trained for {iterations[method]} iterations")
    seed_everything(seed)
    pretrained = glyph_learner("pretraining", channels=channels, device=device)
    marks = geometric_checkpoints(iterations["pretraining"], checkpoints)[1:]
    both = train_with_checkpoints(
        pretrained, train, checkpoints=marks, seed=seed,
        evaluate=lambda p: torch.stack([accuracy(_transfer(p, finetune_steps)[m]) for m in transfer]),
    )  # fmt: skip
    for i, method in enumerate(transfer):
        results.curves[method] = TrainingCurve(both.iterations, both.seconds, both.scores[:, i], both.losses,
                                               both.cpu_seconds)  # fmt: skip
    learners.update({m: _transfer(pretrained, finetune_steps)[m] for m in transfer})
    log(f"glyphs: pretrained for {iterations['pretraining']} steps")

    for k in shots:
        tasks = FewShotTasks(test_classes, WAYS, k, queries)
        episodes = tasks.fixed_episodes(test_episodes, seed=2017 + k)
        scores = {method: accuracy(learner, tasks, episodes) for method, learner in learners.items()}
        results.add_scores("data_scarcity", k, scores)
        log(f"glyphs: data scarcity, {k}-shot scored")

    held_out = merge_classes(val_classes, test_classes)
    for script, distance in script_distance(held_out, train_classes).items():
        tasks = FewShotTasks(script_classes(held_out, script), WAYS, TRAIN_SHOTS, queries)
        episodes = tasks.fixed_episodes(script_episodes, seed=2018)
        x = round(distance, 4)
        results.labels[("task_dissimilarity", x)] = script
        scores = {method: accuracy(learner, tasks, episodes) for method, learner in learners.items()}
        results.add_scores("task_dissimilarity", x, scores, script=script)
    log("glyphs: task dissimilarity scored")

    batch = train.sample(2, seed=seed)
    for method, learner in learners.items():
        results.add_cost(method, _cost(learner, pretrained, train, batch, validation, val_episodes))
    levels = ", ".join(f"{m} vs {t} {results.pair_cost(m, t).level:.3f}" for m, t in results.pairs())
    log(f"glyphs: cost measured; matched validation accuracy {levels}")
    return results


def _cost(learner, pretrained, train, batch, validation, episodes) -> dict[str, float]:
    """FLOPs and peak MiB of one training step (for a transfer learner, of the pretraining it
    shares), of one adaptation (FLOPs per episode over a batch of 2, peak of one episode), CPU-ms
    per episode (this run), and parameters trained and adapted per task."""
    _, adapt_ms = cpu_ms_per_task(
        lambda: episode_accuracy(learner, validation, episodes, batch_size=2), len(episodes)
    )
    adapt = adaptation_cost(learner, validation.episode(episodes, slice(0, 2)), ways=WAYS)
    if learner.name in META:
        step = training_step_cost(learner, batch)
        trained = sum(p.numel() for p in learner.model.parameters())
    else:
        step = sampled_training_step_cost(pretrained, train)
        trained = sum(p.numel() for m in (pretrained.backbone, pretrained.head) for p in m.parameters())
    return {
        "train_flops_per_iteration": step.flops,
        "adapt_flops_per_task": round(adapt.flops_per_task),
        "adapt_cpu_ms_per_task": round(adapt_ms, 2),
        "train_peak_mib": round(step.peak_mib, 2),
        "adapt_peak_mib": round(adapt.peak_mib, 2),
        "trained_parameters": trained,
        "adapted_parameters_per_task": adapt.adapted_parameters,
    }
