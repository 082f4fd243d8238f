"""The interface every learner, meta or transfer, implements.

A learner answers three questions:

- :meth:`Learner.fit`: learn from a source of tasks (meta-training, or pretraining);
- :meth:`Learner.adapt`: adapt to the support sets of new tasks;
- :meth:`Learner.predict`: predict on inputs of those tasks (their query sets).

That is all evaluation code needs to know, which is what lets the book put MAML next to
fine-tuning on identical episodes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import torch
from torch import Tensor, nn

from ._checks import check_int, check_positive_float
from .adaptation import LossFn, Params, batched_predict, batched_sgd_adapt, mse_loss
from .tasks import Episode, SinusoidTasks


class Learner(ABC):
    """Fit on a source of tasks, adapt to support sets, predict on query inputs."""

    @abstractmethod
    def fit(
        self, tasks: SinusoidTasks, *, iterations: int, seed: int = 0, progress: bool | None = None
    ) -> list[float]:
        """Learn from tasks drawn from ``tasks``; return the training loss of each iteration."""

    @abstractmethod
    def adapt(self, episode: Episode, steps: int | None = None) -> Any:
        """Adapt to each task's support set; return a per-task state for :meth:`predict`."""

    @abstractmethod
    def predict(self, adapted: Any, x: Tensor) -> Tensor:
        """Predict for inputs ``x`` of shape ``(tasks, points, features)``."""


class GradientLearner(Learner):
    """A learner that adapts by plain gradient descent from an initialisation it holds.

    Subclasses decide how :meth:`fit` learns that initialisation (MAML meta-learns it; transfer
    learning pretrains it; an unfitted learner starts from random weights).

    Args:
        model: the network; its current parameters are the initialisation.
        adapt_lr: step size of gradient descent on the support set (default 0.01).
        adapt_steps: number of adaptation steps when :meth:`adapt` is not told (default 10).
        loss_fn: loss of one task's predictions (default mean squared error).
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        adapt_lr: float = 0.01,
        adapt_steps: int = 10,
        loss_fn: LossFn = mse_loss,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.model = model
        self.adapt_lr = check_positive_float("adapt_lr", adapt_lr)
        self.adapt_steps = check_int("adapt_steps", adapt_steps, minimum=0)
        self.loss_fn = loss_fn

    @property
    def device(self) -> torch.device:
        """The device the model's parameters live on."""
        return next(self.model.parameters()).device

    def initial_params(self) -> Params:
        """The initialisation adaptation starts from, as a ``{name: tensor}`` dictionary."""
        return dict(self.model.named_parameters())

    def adapt(self, episode: Episode, steps: int | None = None) -> Params:
        """Take ``steps`` (default ``adapt_steps``) gradient steps on each task's support set.

        Returns per-task parameters, each tensor with a leading task dimension.
        """
        steps = self.adapt_steps if steps is None else check_int("steps", steps, minimum=0)
        episode = episode.to(self.device)
        return batched_sgd_adapt(
            self.model,
            self.initial_params(),
            episode.support_x,
            episode.support_y,
            steps=steps,
            lr=self.adapt_lr,
            loss_fn=self.loss_fn,
        )

    def predict(self, adapted: Params, x: Tensor) -> Tensor:
        """Predict with per-task parameters from :meth:`adapt` for inputs ``x``."""
        return batched_predict(self.model, adapted, x.to(self.device))
