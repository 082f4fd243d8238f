"""Transfer by joint pretraining on the source tasks, then fine-tuning on the target's support set."""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_int, check_positive_float
from ..adaptation import LossFn, mse_loss
from ..learner import GradientLearner
from ..tasks import SinusoidTasks
from ..training import run_training


class FineTuning(GradientLearner):
    """Pretrain one network on all source tasks pooled together, then fine-tune it per task.

    :meth:`fit` is ordinary supervised learning: each iteration draws ``batch_size`` tasks and
    lowers the loss on all their points (support and query together) with Adam (``pretrain_lr``).
    Nothing in it anticipates adaptation; that is the difference from MAML. :meth:`adapt` then
    fine-tunes every weight with gradient descent on the new task's support set.

    A ``FineTuning`` learner that is never fitted adapts from its random initialisation: that is
    training from scratch.

    Args:
        model: the network to pretrain and fine-tune.
        adapt_lr: fine-tuning step size (default 0.01).
        adapt_steps: fine-tuning steps when not given to :meth:`adapt` (default 10).
        pretrain_lr: Adam's learning rate during pretraining (default 1e-3).
        loss_fn: per-task loss (default mean squared error).
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        adapt_lr: float = 0.01,
        adapt_steps: int = 10,
        pretrain_lr: float = 1e-3,
        loss_fn: LossFn = mse_loss,
    ) -> None:
        super().__init__(model, adapt_lr=adapt_lr, adapt_steps=adapt_steps, loss_fn=loss_fn)
        self.pretrain_lr = check_positive_float("pretrain_lr", pretrain_lr)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=self.pretrain_lr)

    def fit(
        self,
        tasks: SinusoidTasks,
        *,
        iterations: int,
        batch_size: int = 25,
        seed: int = 0,
        progress: bool | None = None,
    ) -> list[float]:
        """Pretrain for ``iterations`` Adam steps on batches of ``batch_size`` tasks.

        Task sampling is seeded by ``seed``. Returns the training loss of every iteration.
        """
        check_int("batch_size", batch_size, minimum=1)
        generator = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))

        def step(_: int) -> float:
            episode = tasks.sample(batch_size, generator=generator).to(self.device)
            x = torch.cat([episode.support_x, episode.query_x], dim=1)
            y = torch.cat([episode.support_y, episode.query_y], dim=1)
            loss = self.loss_fn(self.model(x), y)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            return loss.item()

        return run_training(step, iterations, description="pretraining", progress=progress)
