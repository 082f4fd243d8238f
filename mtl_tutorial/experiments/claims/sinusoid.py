"""The three claims on sinusoid regression: MAML against pretraining + fine-tuning or a linear probe.

All learners are 1-40-40-1 MLPs trained on the MAML paper's task distribution (amplitudes
0.1–5, phases 0–π, K = 10, meta-batches of 25) for the same number of iterations. MAML and
fine-tuning adapt with 10 gradient steps of size 0.01 on the support set; the linear probe
(:class:`~mtl_tutorial.transfer.RidgeProbe`) refits the pretrained network's last layer in closed
form. Fine-tuning and the probe share one pretrained network.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import torch

from ..._checks import check_int
from ...evaluation import adaptation_cost, cpu_ms_per_task, diverged_tasks, query_mse, training_step_cost
from ...learner import Learner
from ...meta import MAML
from ...models import MLP
from ...tasks import Episode, SinusoidTasks
from ...training import seed_everything
from ...transfer import FineTuning, RidgeProbe
from ..trends import TrainingCurve, train_with_checkpoints
from .distance import sinusoid_distance
from .results import ClaimResults, geometric_checkpoints
from .sizes import SHOTS, check_shots

META = ("maml",)
TRANSFER = ("pretrained", "ridge_probe")  # the registry's names
STEPS = 10  # fine-tuning steps at test time, as in the MAML paper's figure
#: Edges of the distance bins (RMS distance to the nearest training sinusoid).
DISTANCE_BINS = (0.0, 0.1, 1.0, 2.0, 3.0, 4.0, math.inf)
#: The wider distribution that test tasks for dissimilarity come from.
WIDE = {"amplitude_range": (0.1, 10.0), "phase_range": (0.0, 2 * math.pi)}


def sinusoid_scores(
    learners: Mapping[str, Learner], episodes: Episode, *, steps: int | Mapping[str, int] = STEPS
) -> dict[str, torch.Tensor]:
    """Each learner's per-task query MSE after ``steps`` adaptation steps (default ``STEPS``; one
    count for all, or one per method), with the tasks it blew up on (the package's one rule,
    :func:`~mtl_tutorial.evaluation.diverged_tasks`) set to infinity: fine-tuning with few
    support points can reach a finite 1e24, which would swamp any mean."""
    scores = {}
    for method, learner in learners.items():
        count = steps if isinstance(steps, int) else steps[method]
        before, after = query_mse(learner, episodes, steps=(0, check_int("steps", count, minimum=0)))
        scores[method] = torch.where(diverged_tasks(after, before), torch.inf, after)
    return scores


def _split_curve(curve: TrainingCurve, index: int) -> TrainingCurve:
    return TrainingCurve(
        curve.iterations, curve.seconds, curve.scores[:, index], curve.losses, curve.cpu_seconds
    )


def _cost(learner: Learner, batch: Episode, many: Episode) -> dict[str, float]:
    """FLOPs and peak MiB of one training step on ``batch``, of one adaptation (``STEPS`` steps;
    FLOPs per task over the first 10 of ``many``, peak of the first alone), CPU-milliseconds per
    task (over ``many``, this run), and parameters trained and adapted per task."""
    _, adapt_ms = cpu_ms_per_task(lambda: query_mse(learner, many, steps=(STEPS,)), len(many))
    adapt = adaptation_cost(learner, many[:10], steps=STEPS)
    step = training_step_cost(learner, batch.to(learner.device))
    return {
        "train_flops_per_iteration": step.flops,
        "adapt_flops_per_task": round(adapt.flops_per_task),
        "adapt_cpu_ms_per_task": round(adapt_ms, 3),
        "train_peak_mib": round(step.peak_mib, 3),
        "adapt_peak_mib": round(adapt.peak_mib, 3),
        "trained_parameters": sum(p.numel() for p in learner.model.parameters()),
        "adapted_parameters_per_task": adapt.adapted_parameters,
    }


def sinusoid_claims(
    *,
    iterations: int = 12_000,
    shots: Sequence[int] = SHOTS,
    test_tasks: int = 600,
    dissimilarity_tasks: int = 3000,
    validation_tasks: int = 200,
    checkpoints: int = 20,
    seed: int = 0,
    device: str = "cpu",
    log: Callable[[str], None] = print,
) -> ClaimResults:
    """Train MAML and the pretrained network once, then run the three experiments.

    - *Data scarcity*: ``test_tasks`` fixed tasks (seed 2017) with K support points for each K in
      ``shots`` and 100 query points; query MSE after adaptation.
    - *Task dissimilarity*: ``dissimilarity_tasks`` tasks (seed 2018, K = 10) from a wider
      distribution (amplitudes 0.1–10, phases 0–2π), binned by their distance to the nearest
      training sinusoid (:func:`.distance.sinusoid_distance`, bins :data:`DISTANCE_BINS`).
    - *Cost*: validation MSE (``validation_tasks`` tasks, K = 10, seed 1) at about
      ``checkpoints`` log-spaced points of training, training FLOPs and CPU-seconds to reach
      the MSE every method reaches, adaptation FLOPs and CPU-milliseconds per task, peak tensor
      memory of one training step and of adapting to one task, and parameters trained and adapted.

    Defaults are the full-size run of ``mtl-tutorial claims``; the book runs a smaller one.
    """
    check_int("iterations", iterations, minimum=1)
    check_shots(shots)
    check_int("test_tasks", test_tasks, minimum=2)
    check_int("dissimilarity_tasks", dissimilarity_tasks, minimum=2)
    check_int("validation_tasks", validation_tasks, minimum=2)
    check_int("checkpoints", checkpoints, minimum=1)

    results = ClaimResults("sinusoid", "mse", META, TRANSFER)
    train = SinusoidTasks()
    validation = SinusoidTasks(query_size=100).sample(validation_tasks, seed=1)
    marks = geometric_checkpoints(iterations, checkpoints)

    seed_everything(seed)
    maml = MAML(MLP(), device=device)
    results.curves["maml"] = train_with_checkpoints(
        maml, train, checkpoints=marks, meta_batch_size=25, seed=seed,
        evaluate=lambda learner: query_mse(learner, validation, steps=(STEPS,))[0],
    )  # fmt: skip
    seed_everything(seed)
    probe = RidgeProbe(MLP(), device=device)
    finetune = FineTuning(probe.model, device=device)  # the same pretrained network, fine-tuned
    pretraining = train_with_checkpoints(
        probe, train, checkpoints=marks, meta_batch_size=25, seed=seed,
        evaluate=lambda _: torch.stack([
            query_mse(finetune, validation, steps=(STEPS,))[0], query_mse(probe, validation, steps=(0,))[0]
        ]),
    )  # fmt: skip
    results.curves["pretrained"] = _split_curve(pretraining, 0)
    results.curves["ridge_probe"] = _split_curve(pretraining, 1)
    learners: dict[str, Learner] = {"maml": maml, "pretrained": finetune, "ridge_probe": probe}
    log(f"sinusoid: trained MAML and the pretrained network for {iterations} iterations each")

    for k in shots:
        episodes = SinusoidTasks(support_size=k, query_size=100).sample(test_tasks, seed=2017)
        results.add_scores("data_scarcity", k, sinusoid_scores(learners, episodes))

    wide = SinusoidTasks(**WIDE, query_size=100).sample(dissimilarity_tasks, seed=2018)
    distance = sinusoid_distance(wide.info["amplitude"], wide.info["phase"], train)
    by_method = sinusoid_scores(learners, wide)
    for low, high in zip(DISTANCE_BINS[:-1], DISTANCE_BINS[1:], strict=True):
        inside = (distance >= low) & (distance < high)
        if inside.sum() < 2:
            continue
        x = round(distance[inside].mean().item(), 3)
        results.add_scores("task_dissimilarity", x, {m: v[inside] for m, v in by_method.items()},
                           bin=[low, high if math.isfinite(high) else None])  # fmt: skip

    batch = train.sample(25, seed=seed)
    for method, learner in learners.items():
        results.add_cost(method, _cost(learner, batch, wide))
    levels = ", ".join(f"{m} vs {t} {results.pair_cost(m, t).level:.3f}" for m, t in results.pairs())
    log(f"sinusoid: scarcity, dissimilarity and cost measured; matched validation MSE {levels}")
    return results


def ridge_penalty_sweep(
    ridges: Sequence[float] = (0.01, 0.1, 1.0, 10.0),
    *,
    iterations: int = 1000,
    tasks: int = 300,
    support: int = 1,
    seed: int = 0,
) -> dict[str, object]:
    """The linear probe's query MSE for each ridge penalty, with ``support`` points (the chapter's
    exercise on where the probe breaks).

    A :class:`~mtl_tutorial.transfer.RidgeProbe` on the 1-40-40-1 MLP is pretrained for
    ``iterations`` on the training sinusoids (seed ``seed``), then scored, once per penalty
    (``probe.ridge``), on ``tasks`` fixed tasks (seed 2017) with ``support`` support and 100 query
    points.

    Returns:
        ``{"mse": {ridge: per-task query MSE}, "zero_mse": per-task MSE of predicting 0}``.
    """
    check_int("iterations", iterations, minimum=1)
    check_int("tasks", tasks, minimum=2)
    check_int("support", support, minimum=1)
    seed_everything(seed)
    probe = RidgeProbe(MLP())
    probe.fit(SinusoidTasks(), iterations=iterations, progress=False)
    episodes = SinusoidTasks(support_size=support, query_size=100).sample(tasks, seed=2017)
    mse = {}
    for ridge in ridges:
        probe.ridge = float(ridge)
        mse[float(ridge)] = query_mse(probe, episodes, steps=(0,))[0]
    return {"mse": mse, "zero_mse": (episodes.query_y**2).mean(dim=(1, 2))}
