"""Reptile (Nichol, Achiam & Schulman 2018): move the initialisation towards adapted weights."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .. import distributed
from .._checks import check_int, check_positive_float
from ..adaptation import LossFn, batched_predict, batched_sgd_adapt, task_loss
from ..learner import GradientLearner
from ..tasks import Episode


class Reptile(GradientLearner):
    """Reptile: adapt to each task with plain SGD, then step θ ← θ + ε (mean φ − θ).

    No gradient flows through the inner loop, so Reptile is first-order and cheap. During
    meta-training the inner loop uses all of a task's points (support and query together, full
    batch); at test time :meth:`adapt` runs gradient descent on the support set, like MAML.

    Args:
        model: the network whose initialisation is learned.
        inner_lr: inner SGD step size, in training and adaptation (default 0.02, the paper's
            sine demo).
        inner_steps: inner SGD steps per task during meta-training (default 5).
        adapt_steps: steps at test time when not given to :meth:`adapt` (default 10).
        outer_lr: the outer step size ε (default 0.1).
        anneal: decrease ε linearly to 0 over the run, as in the paper (default True).
        loss_fn: per-task loss (default: cross-entropy for labels, else mean squared error).
        device: where to train (default: the model's device).
    """

    name = "reptile"
    uses_optimizer = False
    default_meta_batch_size = 5

    def __init__(
        self,
        model: nn.Module,
        *,
        inner_lr: float = 0.02,
        inner_steps: int = 5,
        adapt_steps: int = 10,
        outer_lr: float = 0.1,
        anneal: bool = True,
        loss_fn: LossFn = task_loss,
        device: str | torch.device | None = None,
    ) -> None:
        inner_lr = check_positive_float("inner_lr", inner_lr)
        outer_lr = check_positive_float("outer_lr", outer_lr)
        super().__init__(
            model, adapt_lr=inner_lr, adapt_steps=adapt_steps, lr=outer_lr, loss_fn=loss_fn, device=device
        )
        self.inner_steps = check_int("inner_steps", inner_steps, minimum=1)
        self.anneal = bool(anneal)

    def outer_step_size(self, iteration: int, iterations: int) -> float:
        """ε at ``iteration`` of ``iterations``: constant, or annealed linearly towards 0."""
        return self.lr * (1 - iteration / iterations) if self.anneal else self.lr

    def reptile_step(self, episode: Episode, epsilon: float) -> float:
        """One Reptile update on a batch of tasks; returns the mean loss after adaptation."""
        episode = episode.to(self.device)
        x = torch.cat([episode.support_x, episode.query_x], dim=1)
        y = torch.cat([episode.support_y, episode.query_y], dim=1)
        theta = {name: p.detach() for name, p in self.model.named_parameters()}
        phi = batched_sgd_adapt(
            self.model, theta, x, y, steps=self.inner_steps, lr=self.inner_lr, loss_fn=self.loss_fn
        )
        with torch.no_grad():
            names = [name for name, _ in self.model.named_parameters()]
            mean_phi = [phi[name].mean(dim=0) for name in names]
            loss = torch.vmap(self.loss_fn)(batched_predict(self.model, phi, x), y).mean().reshape(1)
            distributed.all_mean_([*mean_phi, loss])  # under torchrun: the mean over all tasks
            for p, target in zip(self.model.parameters(), mean_phi, strict=True):
                p.add_(epsilon * (target - p))
            return loss.item()

    @property
    def inner_lr(self) -> float:
        return self.adapt_lr

    def training_computation(self, episode: Episode) -> float:
        """A Reptile update with ε = 0: the same computation, and the parameters unchanged."""
        return self.reptile_step(episode, 0.0)

    def training_step(self, episode: Episode, *, iteration: int = 0, iterations: int = 1) -> float:
        """A Reptile update with ε annealed for ``iteration`` of ``iterations``; returns the mean
        loss of the adapted weights on their tasks' points."""
        return self.reptile_step(episode, self.outer_step_size(iteration, iterations))

    def config(self) -> dict[str, Any]:
        return {**super().config(), "inner_steps": self.inner_steps, "anneal": self.anneal}
