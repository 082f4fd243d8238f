"""What one training step costs, in FLOPs and peak tensor memory, measured in one run.

Every runner, chapter and claim that reports a training step's cost reads it from here, so a
method's step is measured the same way everywhere: the learner's own
:meth:`~mtl_tutorial.learner.Trainable.training_computation` (what its ``fit`` runs, short of the
update), on one batch.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from .compute import FLOP_FORMULAS
from .memory import StorageTracker


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
