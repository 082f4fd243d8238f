"""Transfer by joint pretraining on the source tasks, then fine-tuning on the target's support set."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .._checks import check_positive_float
from ..adaptation import LossFn, task_loss
from ..learner import GradientLearner
from ..tasks import Episode


class FineTuning(GradientLearner):
    """Pretrain one network on all source tasks pooled together, then fine-tune it per task.

    :meth:`fit` is ordinary supervised learning: each iteration draws a batch of tasks and
    lowers the loss on all their points (support and query together) with Adam
    (``pretrain_lr``). Nothing in it anticipates adaptation; that is the difference from MAML.
    :meth:`adapt` then fine-tunes every weight with gradient descent on the new task's support
    set.

    A ``FineTuning`` learner that is never fitted adapts from its random initialisation: that is
    training from scratch.

    Args:
        model: the network to pretrain and fine-tune.
        adapt_lr: fine-tuning step size (default 0.01).
        adapt_steps: fine-tuning steps when not given to :meth:`adapt` (default 10).
        pretrain_lr: Adam's learning rate during pretraining (default 1e-3).
        loss_fn: per-task loss (default: cross-entropy for labels, else mean squared error).
        device: where to train (default: the model's device).
    """

    name = "pretrained"

    def __init__(
        self,
        model: nn.Module,
        *,
        adapt_lr: float = 0.01,
        adapt_steps: int = 10,
        pretrain_lr: float = 1e-3,
        loss_fn: LossFn = task_loss,
        device: str | torch.device | None = None,
    ) -> None:
        pretrain_lr = check_positive_float("pretrain_lr", pretrain_lr)  # named as the caller knows it
        super().__init__(
            model, adapt_lr=adapt_lr, adapt_steps=adapt_steps, lr=pretrain_lr, loss_fn=loss_fn, device=device
        )

    @property
    def pretrain_lr(self) -> float:
        return self.lr

    def training_loss(self, episode: Episode) -> Tensor:
        """Supervised loss on every point of every task, with one shared network."""
        x = torch.cat([episode.support_x, episode.query_x], dim=1)
        y = torch.cat([episode.support_y, episode.query_y], dim=1)
        return self.loss_fn(self.model(x), y)
