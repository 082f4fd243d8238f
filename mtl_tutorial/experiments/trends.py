"""Measurements for the book's chapter on trends (source §5): error against training compute, and
the cost of one meta-gradient as networks and inner loops grow.

- :func:`train_with_checkpoints` trains a learner once, scoring it at chosen iterations on fixed
  tasks (through ``fit``'s ``callback``), and records how many seconds of training each score
  cost (scoring excluded), for display.
- :func:`flops_per_iteration` counts the floating-point operations of one training iteration of
  several learners: a cost that depends only on the computation, the same on every machine.
- :func:`seconds_per_iteration` times single training iterations of several learners in turn,
  keeping the fastest repeat of each: what an iteration costs on this machine, for display.
- :func:`meta_gradient_cost` counts the FLOPs and the peak tensor memory of one MAML
  meta-gradient, second and first order, and times it (fastest of repeats, for display).
- :func:`sinusoid_training_curves`, :func:`sinusoid_iteration_costs` and
  :func:`meta_gradient_sweep` are the chapter's experiments, with JSON arguments (learners as
  specifications ``{"method": name, **options}`` of
  :func:`~mtl_tutorial.registry.sinusoid_learner`), so that
  the book computes them once through :func:`~mtl_tutorial.recipes.cached_call`.

Claims about cost rest on FLOPs, bytes and parameter counts, never on seconds: seconds depend on
the machine and on what else runs on it, and include per-operation overhead (Python, dispatch,
launching many small kernels) that FLOPs do not count. Where seconds are shown, the fastest
repeat is the estimate that other processes disturb least (they can only ever slow a computation
down; the advice of Python's ``timeit`` documentation).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from .._checks import check_int
from ..evaluation import TrainingClock, count_flops, fastest_seconds, peak_tensor_memory, query_mse
from ..learner import Learner
from ..meta import MAML
from ..models import MLP
from ..registry import sinusoid_learner
from ..tasks import Episode, SinusoidTasks, TaskSource
from ..training import seed_everything


@dataclass(frozen=True)
class TrainingCurve:
    """Scores of one learner at checkpoints of a single training run.

    Attributes:
        iterations: the training iterations completed at each checkpoint, increasing.
        seconds: wall time of training (task sampling and updates, not scoring) up to each
            checkpoint, in seconds, on this machine: for display, never for asserting.
        scores: what ``evaluate`` returned at each checkpoint, stacked along a first dimension
            of length ``len(iterations)``.
        losses: the training loss of every iteration.
        cpu_seconds: like ``seconds``, in CPU time of this process (all threads), the measure of
            compute that a busy machine disturbs least.
    """

    iterations: list[int]
    seconds: list[float]
    scores: Tensor
    losses: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)

    def first_reaching(self, threshold: float, summary: Callable[[Tensor], float]) -> int | None:
        """Index of the first checkpoint whose ``summary(score)`` is at most ``threshold``, or
        ``None`` if no checkpoint reaches it."""
        for i, score in enumerate(self.scores):
            if summary(score) <= threshold:
                return i
        return None


def train_with_checkpoints(
    learner: Learner,
    tasks: TaskSource,
    *,
    checkpoints: Sequence[int],
    evaluate: Callable[[Learner], Tensor],
    meta_batch_size: int | None = None,
    seed: int = 0,
) -> TrainingCurve:
    """Train ``learner`` for ``max(checkpoints)`` iterations, scoring it at each checkpoint.

    The run is one call of ``learner.fit``, so it is exactly the run an uninterrupted ``fit``
    with the same ``seed`` would make: the same tasks in the same order, and learning-rate
    schedules (Reptile's annealing) over the whole run. ``evaluate(learner)`` is called once the
    learner has completed each checkpoint's number of iterations (``0`` scores the
    initialisation); its time is excluded from the recorded training seconds. Scoring must not
    change the learner (the book's scorers adapt copies of the parameters and leave them alone).

    Args:
        learner: the learner to train: a :class:`~mtl_tutorial.Learner`, or anything whose
            ``fit`` takes the same arguments and a ``callback`` (like
            :class:`~mtl_tutorial.transfer.SupervisedPretraining`).
        tasks: the task distribution to train on.
        checkpoints: iteration counts at which to score, each ``>= 0``, increasing; the last is
            the length of the run.
        evaluate: returns a tensor of scores (for example :func:`~mtl_tutorial.query_mse` on fixed
            test tasks); every call must return the same shape.
        meta_batch_size: tasks per iteration; default: the learner's own default.
        seed: seed of the training task stream (default 0).

    Raises:
        ValueError: if ``checkpoints`` is empty, not strictly increasing or negative.
    """
    checkpoints = list(checkpoints)
    if not checkpoints:
        raise ValueError("checkpoints must list at least one iteration count, got none")
    for c in checkpoints:
        check_int("checkpoints entry", c, minimum=0)
    if any(b <= a for a, b in zip(checkpoints[:-1], checkpoints[1:], strict=True)):
        raise ValueError(f"checkpoints must be strictly increasing, got {checkpoints}")
    check_int("seed", seed, minimum=0)

    scores: dict[int, Tensor] = {}
    seconds: dict[int, float] = {}
    cpu_seconds: dict[int, float] = {}
    wanted = set(checkpoints)
    clock = TrainingClock()

    def score(done: int) -> None:
        if done not in wanted:
            return
        seconds[done], cpu_seconds[done] = clock.elapsed()
        with clock.paused():
            scores[done] = evaluate(learner)

    total = checkpoints[-1]
    losses: list[float] = []
    if 0 in wanted:  # the initialisation: no training yet, and its scoring time is not counted
        score(0)
        seconds[0] = cpu_seconds[0] = 0.0
        clock.restart()
    if total > 0:
        kwargs = {} if meta_batch_size is None else {"meta_batch_size": meta_batch_size}
        losses = learner.fit(tasks, iterations=total, seed=seed, progress=False, callback=score, **kwargs)
    return TrainingCurve(
        iterations=checkpoints,
        seconds=[seconds[c] for c in checkpoints],
        scores=torch.stack([scores[c] for c in checkpoints]),
        losses=losses,
        cpu_seconds=[cpu_seconds[c] for c in checkpoints],
    )


def flops_per_iteration(
    learners: Mapping[str, Learner],
    tasks: TaskSource,
    *,
    meta_batch_sizes: Mapping[str, int] | None = None,
    seed: int = 0,
) -> dict[str, int]:
    """FLOPs of one training iteration of each learner, counted with
    :func:`~mtl_tutorial.evaluation.count_flops`.

    One iteration is one call ``fit(tasks, iterations=1, ...)`` on a deep copy of the learner (the
    originals, their parameters and optimiser state are untouched): for the gradient-based
    learners, the training loss on one meta-batch, its backward pass and the optimiser step; for
    Reptile, whose ``fit`` moves the parameters itself, its inner loops and its outer update. The
    count covers matrix products and convolutions, forward and backward; element-wise work and
    per-operation overhead are not counted, so the count is the same on every machine, unlike
    :func:`seconds_per_iteration`. For tasks of fixed shapes (all of the package's task sources)
    every iteration costs the same, so ``n`` iterations cost ``n`` times this.

    Args:
        learners: the learners to count, by name.
        tasks: the task distribution to train on.
        meta_batch_sizes: tasks per iteration, by name; a learner not named uses its ``fit``'s
            default (25 for the gradient-based learners, 5 for Reptile).
        seed: seed of the training tasks (default 0).

    Returns:
        FLOPs per iteration, by name.

    Raises:
        ValueError: if ``learners`` is empty.
    """
    if not learners:
        raise ValueError("learners must hold at least one learner, got none")
    check_int("seed", seed, minimum=0)
    sizes = dict(meta_batch_sizes or {})
    flops: dict[str, int] = {}
    for name, learner in learners.items():
        twin = copy.deepcopy(learner)
        kwargs = {"meta_batch_size": sizes[name]} if name in sizes else {}

        def one_iteration(twin: Learner = twin, kwargs: dict[str, int] = kwargs) -> None:
            twin.fit(tasks, iterations=1, seed=seed, progress=False, **kwargs)

        flops[name] = count_flops(one_iteration)
    return flops


def seconds_per_iteration(
    learners: Mapping[str, Learner],
    tasks: TaskSource,
    *,
    iterations: int = 1,
    repeats: int = 30,
    meta_batch_sizes: Mapping[str, int] | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """Seconds per training iteration of each learner on this machine: the fastest of ``repeats``
    timings. For showing, never for asserting: the figures depend on the machine and its load,
    and include per-operation overhead; compare costs with :func:`flops_per_iteration`.

    Each learner is copied first (the originals are not trained). Every repeat times
    ``iterations`` iterations of each learner in turn (a call of ``fit``, so its small fixed
    overhead is included), so a burst of load from other processes hits all learners alike, and
    the minimum over repeats is the cost with the least interference. A first, warm-up round is
    not timed.

    Args:
        learners: the learners to time, by name.
        tasks: the task distribution to train on.
        iterations: iterations per timing (default 1: the shorter the timing, the likelier one
            repeat runs undisturbed).
        repeats: timings per learner (default 30).
        meta_batch_sizes: tasks per iteration, by name; a learner not named uses its default.
        seed: seed of the training tasks (default 0).

    Returns:
        Seconds per iteration, by name.
    """
    check_int("iterations", iterations, minimum=1)
    check_int("repeats", repeats, minimum=1)
    if not learners:
        raise ValueError("learners must hold at least one learner, got none")
    sizes = dict(meta_batch_sizes or {})
    copies = {name: copy.deepcopy(learner) for name, learner in learners.items()}

    def training_run(name: str) -> Callable[[int], object]:
        kwargs = {"meta_batch_size": sizes[name]} if name in sizes else {}
        return lambda repeat: copies[name].fit(
            tasks, iterations=iterations, seed=seed + repeat, progress=False, **kwargs
        )

    best = fastest_seconds({name: training_run(name) for name in copies}, repeats)
    return {name: seconds / iterations for name, seconds in best.items()}


@dataclass(frozen=True)
class MetaGradientCost:
    """Cost of one meta-gradient.

    Attributes:
        seconds: wall time on this machine, the fastest of the repeats; for display only.
        peak_bytes: peak tensor memory (:func:`~mtl_tutorial.evaluation.peak_tensor_memory`).
        flops: floating-point operations (:func:`~mtl_tutorial.evaluation.count_flops`).
    """

    seconds: float
    peak_bytes: int
    flops: int


def meta_gradient_cost(
    hidden: Sequence[int] = (40, 40),
    *,
    inner_steps: int = 1,
    meta_batch_size: int = 25,
    shots: int = 10,
    repeats: int = 7,
    seed: int = 0,
) -> dict[str, MetaGradientCost]:
    """FLOPs, peak tensor memory and time of one MAML meta-gradient, second and first order.

    The network is an :class:`~mtl_tutorial.MLP` with hidden widths ``hidden`` (default the MAML
    paper's ``(40, 40)``), on the CPU; the meta-gradient is ``meta_loss(episode).backward()`` for
    ``meta_batch_size`` sinusoid tasks (default 25) with ``shots`` support and query points each
    (default 10), after ``inner_steps`` inner steps of size 0.01 (default 1). Both orders start
    from the same weights and see the same tasks.

    FLOPs are :func:`~mtl_tutorial.evaluation.count_flops` of one more meta-gradient (forward and
    backward matrix products). Memory is :func:`~mtl_tutorial.evaluation.peak_tensor_memory` of
    one more: tensor storage alive at its worst moment beyond what existed before. Neither depends
    on the machine, the device or other processes. Time, for display only, is the fastest of
    ``repeats`` timings (default 7), taken in turn for the two orders (after one untimed warm-up
    each) so that load from other processes affects both alike.

    Returns:
        ``{"second-order": cost, "first-order": cost}``.

    Raises:
        ValueError: for a hidden width below 1, or a count below its minimum.
    """
    check_int("inner_steps", inner_steps, minimum=1)
    check_int("repeats", repeats, minimum=1)
    check_int("seed", seed, minimum=0)
    episode: Episode = SinusoidTasks(
        support_size=check_int("shots", shots, minimum=1), query_size=shots
    ).sample(check_int("meta_batch_size", meta_batch_size, minimum=1), seed=seed)

    def meta_gradient_of(first_order: bool) -> Callable[[], None]:
        torch.manual_seed(seed)
        maml = MAML(MLP(hidden=hidden), inner_steps=inner_steps, first_order=first_order, device="cpu")

        def meta_gradient() -> None:
            maml.model.zero_grad(set_to_none=True)
            maml.meta_loss(episode).backward()

        return meta_gradient

    orders = {"second-order": meta_gradient_of(False), "first-order": meta_gradient_of(True)}
    seconds = fastest_seconds({name: (lambda _, run=run: run()) for name, run in orders.items()}, repeats)
    return {
        name: MetaGradientCost(
            seconds=seconds[name],
            peak_bytes=peak_tensor_memory(meta_gradient),
            flops=count_flops(meta_gradient),
        )
        for name, meta_gradient in orders.items()
    }


# -- the chapter's experiments, with JSON arguments (for the book's result cache) -------------

def sinusoid_training_curves(
    *,
    learners: Mapping[str, Mapping[str, Any]],
    checkpoints: Mapping[str, Sequence[int]],
    meta_batch_sizes: Mapping[str, int],
    steps: Sequence[int] = (1, 10),
    support_size: int = 10,
    query_size: int = 100,
    test_tasks: int = 300,
    test_seed: int = 2017,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """Meta-train several learners on sinusoids, scoring each at its checkpoints.

    Each learner is built by :func:`~mtl_tutorial.registry.sinusoid_learner` after
    ``seed_everything(seed)`` (the same initial weights for all), then trained by
    :func:`train_with_checkpoints` on the default :class:`~mtl_tutorial.SinusoidTasks` with
    training-task seed ``seed``. A score is :func:`~mtl_tutorial.query_mse` after each number of
    ``steps`` on ``test_tasks`` fixed test tasks (``support_size`` and ``query_size`` points,
    sampled with seed ``test_seed``): a tensor of shape ``(len(steps), test_tasks)``.

    Args:
        learners: the learners' specifications (see :func:`~mtl_tutorial.registry.sinusoid_learner`), by name.
        checkpoints: each learner's checkpoints (the last is its number of iterations), by name.
        meta_batch_sizes: each learner's tasks per iteration, by name.

    Returns:
        ``{"curves": {name: TrainingCurve}, "states": {name: learner.state_dict()}}``; rebuild a
        trained learner with ``sinusoid_learner(**spec)`` and ``load_state_dict(states[name])``.
    """
    check_int("seed", seed, minimum=0)
    test_set = SinusoidTasks(support_size=support_size, query_size=query_size).sample(
        check_int("test_tasks", test_tasks, minimum=1), seed=test_seed
    )
    steps = tuple(steps)

    def score(learner: Learner) -> Tensor:
        return query_mse(learner, test_set, steps=steps)

    train_tasks = SinusoidTasks()
    curves: dict[str, TrainingCurve] = {}
    states: dict[str, Any] = {}
    for name, spec in learners.items():
        seed_everything(seed)
        learner = sinusoid_learner(**spec)
        curves[name] = train_with_checkpoints(
            learner, train_tasks, checkpoints=checkpoints[name], evaluate=score,
            meta_batch_size=meta_batch_sizes[name], seed=seed,
        )  # fmt: skip
        states[name] = learner.state_dict()
    return {"curves": curves, "states": states}


def sinusoid_iteration_costs(
    *,
    learners: Mapping[str, Mapping[str, Any]],
    meta_batch_sizes: Mapping[str, int] | None = None,
    repeats: int = 30,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """The cost of one training iteration on sinusoids of each learner ``learners`` specifies
    (see :func:`~mtl_tutorial.registry.sinusoid_learner`), freshly built after ``seed_everything(seed)``.

    Returns:
        ``{"flops": flops_per_iteration(...), "seconds": seconds_per_iteration(...)}``, both by
        name: the FLOPs are the same on every machine; the seconds (the fastest of ``repeats``)
        are what an iteration took on the machine that ran this, for display only.
    """
    seed_everything(check_int("seed", seed, minimum=0))
    built = {name: sinusoid_learner(**spec) for name, spec in learners.items()}
    tasks = SinusoidTasks()
    return {
        "flops": flops_per_iteration(built, tasks, meta_batch_sizes=meta_batch_sizes, seed=seed),
        "seconds": seconds_per_iteration(
            built, tasks, repeats=repeats, meta_batch_sizes=meta_batch_sizes, seed=seed
        ),
    }


def meta_gradient_sweep(
    *,
    depths: Sequence[int],
    inner_steps: Sequence[int],
    width: int = 40,
    repeats: int = 7,
    meta_batch_size: int = 25,
) -> dict[tuple[int, int], dict[str, MetaGradientCost]]:
    """:func:`meta_gradient_cost` for MLPs of ``depth`` hidden layers of ``width`` units and each
    number of inner steps, keyed by ``(depth, steps)``."""
    check_int("width", width, minimum=1)
    return {
        (depth, k): meta_gradient_cost(
            (width,) * check_int("depth", depth, minimum=1),
            inner_steps=k,
            repeats=repeats,
            meta_batch_size=meta_batch_size,
        )
        for depth in depths
        for k in inner_steps
    }
