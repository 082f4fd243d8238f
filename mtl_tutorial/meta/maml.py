"""Model-Agnostic Meta-Learning (Finn, Abbeel & Levine 2017), vectorised over tasks."""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_int, check_positive_float
from ..adaptation import LossFn, batched_predict, batched_sgd_adapt, mse_loss
from ..learner import GradientLearner
from ..tasks import Episode, SinusoidTasks
from ..training import run_training


class MAML(GradientLearner):
    """Meta-learn an initialisation from which a few gradient steps fit a new task.

    Each meta-training iteration samples ``meta_batch_size`` tasks, adapts the shared
    initialisation θ to each task's support set with ``inner_steps`` steps of size ``inner_lr``,
    and moves θ with Adam (``outer_lr``) to lower the mean query loss of the adapted parameters.
    The inner loop is differentiated through (second order) unless ``first_order=True``.

    Args:
        model: the network whose initial parameters are meta-learned.
        inner_lr: inner-loop step size α, used in training and adaptation (default 0.01).
        inner_steps: inner steps during meta-training (default 1, as in the paper).
        adapt_steps: steps at adaptation time when not given to :meth:`adapt` (default 10).
        first_order: drop second-order terms (first-order MAML) (default False).
        outer_lr: Adam's learning rate for the meta-update (default 1e-3).
        loss_fn: per-task loss (default mean squared error).

    Raises:
        ValueError: for a learning rate that is not > 0 or a step count below 0.
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        inner_lr: float = 0.01,
        inner_steps: int = 1,
        adapt_steps: int = 10,
        first_order: bool = False,
        outer_lr: float = 1e-3,
        loss_fn: LossFn = mse_loss,
    ) -> None:
        inner_lr = check_positive_float("inner_lr", inner_lr)  # named as the caller knows it
        super().__init__(model, adapt_lr=inner_lr, adapt_steps=adapt_steps, loss_fn=loss_fn)
        self.inner_steps = check_int("inner_steps", inner_steps, minimum=0)
        self.first_order = bool(first_order)
        self.outer_lr = check_positive_float("outer_lr", outer_lr)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=self.outer_lr)

    @property
    def inner_lr(self) -> float:
        """Inner-loop step size α (the same one :meth:`adapt` uses)."""
        return self.adapt_lr

    def meta_loss(self, episode: Episode) -> torch.Tensor:
        """Mean query loss after adapting to each support set: the outer objective.

        Differentiable with respect to the model's parameters; its gradient is the
        meta-gradient (second or first order, as configured).
        """
        episode = episode.to(self.device)
        adapted = batched_sgd_adapt(
            self.model,
            self.initial_params(),
            episode.support_x,
            episode.support_y,
            steps=self.inner_steps,
            lr=self.inner_lr,
            loss_fn=self.loss_fn,
            first_order=self.first_order,
        )
        predictions = batched_predict(self.model, adapted, episode.query_x)
        return torch.vmap(self.loss_fn)(predictions, episode.query_y).mean()

    def fit(
        self,
        tasks: SinusoidTasks,
        *,
        iterations: int,
        meta_batch_size: int = 25,
        seed: int = 0,
        progress: bool | None = None,
    ) -> list[float]:
        """Meta-train for ``iterations`` meta-updates on fresh batches of ``meta_batch_size`` tasks.

        Task sampling is seeded by ``seed``. Returns the meta-loss of every iteration.
        """
        check_int("meta_batch_size", meta_batch_size, minimum=1)
        generator = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))

        def step(_: int) -> float:
            loss = self.meta_loss(tasks.sample(meta_batch_size, generator=generator))
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            return loss.item()

        name = "first-order MAML" if self.first_order else "MAML"
        return run_training(step, iterations, description=name, progress=progress)
