"""What a training step and an adaptation cost: FLOPs, peak tensor memory, parameters, CPU time.

Every runner, chapter and claim that reports a cost reads it from here, so a method is measured
the same way everywhere. A training step is the learner's own
:meth:`~mtl_tutorial.learner.Trainable.training_computation` (what its ``fit`` runs, short of the
update) on one batch; an adaptation is what scoring runs, ``adapt`` then ``predict`` on the
queries, per task. FLOPs, bytes and parameters are the same on every machine; CPU time is not,
and is for display only.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
from torch.utils.flop_counter import FlopCounterMode

from .._checks import check_int
from ..tasks import Episode
from .compute import FLOP_FORMULAS, count_flops
from .memory import StorageTracker, peak_tensor_memory
from .scoring import adapt_for_scoring

T = TypeVar("T")


@dataclass(frozen=True)
class StepCost:
    """The cost of one training step: ``flops`` (matrix products and convolutions, forward and
    backward; see :func:`~mtl_tutorial.evaluation.count_flops`) and ``peak_bytes`` (tensor storage
    alive at the worst moment; see :func:`~mtl_tutorial.evaluation.peak_tensor_memory`)."""

    flops: int
    peak_bytes: int

    @property
    def peak_mib(self) -> float:
        return self.peak_bytes / 2**20


def training_step_cost(learner: Any, batch: Any) -> StepCost:
    """FLOPs and peak memory of one training step of ``learner`` on ``batch``, counted in a
    single run of its ``training_computation``; the gradients it leaves are cleared and its
    parameters are unchanged (Reptile's counted step has ε = 0).

    ``batch`` is what the learner's ``sample_training_batch`` draws: an episode of tasks, or for
    supervised pretraining a batch of images and labels (after ``prepare_training``).
    """
    tracker = StorageTracker()
    with FlopCounterMode(display=False, custom_mapping=FLOP_FORMULAS) as counter, tracker:
        learner.training_computation(batch)
    for module in learner.trainable_modules().values():
        module.zero_grad(set_to_none=True)
    return StepCost(int(counter.get_total_flops()), tracker.peak)


def sampled_training_step_cost(learner: Any, tasks: Any, meta_batch_size: int = 1, seed: int = 0) -> StepCost:
    """:func:`training_step_cost` on a batch the learner draws from ``tasks`` itself, as its
    ``fit`` would (after its ``prepare_training``: supervised pretraining's head), counted on a
    copy: neither ``learner`` nor the global random state changes, before or after its ``fit``."""
    with torch.random.fork_rng(devices=[]):
        stand_in = copy.deepcopy(learner)
        stand_in.prepare_training(tasks)
        generator = torch.Generator().manual_seed(seed)
        return training_step_cost(stand_in, stand_in.sample_training_batch(tasks, meta_batch_size, generator))


@dataclass(frozen=True)
class AdaptationCost:
    """The cost of adapting to one task and predicting its queries: ``flops_per_task`` (averaged
    over the tasks counted), ``peak_bytes`` (one task alone) and ``adapted_parameters`` (numbers
    that change per task, :meth:`~mtl_tutorial.learner.Learner.adapted_parameters`)."""

    flops_per_task: float
    peak_bytes: int
    adapted_parameters: int

    @property
    def peak_mib(self) -> float:
        return self.peak_bytes / 2**20


def adaptation_cost(learner: Any, episodes: Episode, *, steps: int | None = None, ways: int | None = None
                    ) -> AdaptationCost:  # fmt: skip
    """FLOPs of adapting ``learner`` to every task of ``episodes`` (with ``steps`` steps, default
    the learner's own) and predicting its queries, per task; peak memory of doing so for the
    first task alone; parameters adapted per task (``ways``-way, for classifiers).

    A few tasks suffice: none of the book's learners does work that depends on the data."""
    def adapt_and_predict(episode: Episode) -> None:
        adapted = adapt_for_scoring(learner, episode, steps)
        with torch.no_grad():
            learner.predict(adapted, episode.query_x)

    flops = count_flops(lambda: adapt_and_predict(episodes)) / len(episodes)
    peak = peak_tensor_memory(lambda: adapt_and_predict(episodes[:1]))
    return AdaptationCost(flops, peak, learner.adapted_parameters(ways))


def fastest_seconds(runs: Mapping[str, Callable[[int], object]], repeats: int) -> dict[str, float]:
    """The fastest wall time of each run, in seconds, over ``repeats`` timings (for display).

    The runs take turns, one round after another, after one untimed warm-up round (caches, lazy
    initialisation), so that load from other processes slows all of them alike; the fastest
    timing is the one least disturbed. Each run is called with the round's number (0 for the
    warm-up), for runs that should see new data each round.
    """
    check_int("repeats", repeats, minimum=1)
    best = {name: math.inf for name in runs}
    for repeat in range(repeats + 1):
        for name, run in runs.items():
            began = time.perf_counter()
            run(repeat)
            if repeat > 0:
                best[name] = min(best[name], time.perf_counter() - began)
    return best


class TrainingClock:
    """Wall and CPU seconds since :meth:`restart`, less the time spent inside :meth:`paused`
    blocks (scoring during training, say), for display: how long the training itself took."""

    def __init__(self) -> None:
        self.restart()

    def restart(self) -> None:
        """Start counting from zero again."""
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def elapsed(self) -> tuple[float, float]:
        """``(wall seconds, CPU seconds)`` counted so far."""
        return time.perf_counter() - self._wall, time.process_time() - self._cpu

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Leave the time spent inside this block uncounted."""
        wall, cpu = self.elapsed()
        try:
            yield
        finally:
            self._wall, self._cpu = time.perf_counter() - wall, time.process_time() - cpu


def cpu_ms_per_task(run: Callable[[], T], tasks: int) -> tuple[T, float]:
    """``run()``'s result and the CPU-milliseconds it took per task, over ``tasks`` tasks (for
    display: CPU time depends on the machine and on what else runs)."""
    started = time.process_time()
    result = run()
    return result, (time.process_time() - started) * 1000 / tasks
