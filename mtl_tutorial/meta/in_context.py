"""The in-context learner: a sequence model meta-trained to read a task from its examples."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
from torch import Tensor

from .._checks import check_int
from ..adaptation import LossFn, task_loss
from ..learner import Learner
from ..models.in_context import InContextTransformer
from ..tasks import Episode


class InContext(Learner):
    """Meta-train a transformer whose input holds a task's support pairs, and which predicts the
    task's query targets from them: adaptation without any change of weights, as large
    pretrained sequence models adapt "in context".

    Training is episodic, like every meta-learner here: each step puts the support pairs of a batch
    of tasks into the input and lowers the query loss. :meth:`adapt` only packs the support set
    into the model's input (``steps`` is ignored); :meth:`predict` is one forward pass. Regression
    only: classification episodes are refused.

    Args:
        model: an :class:`~mtl_tutorial.models.InContextTransformer`.
        lr: Adam's learning rate (default 1e-3).
        min_support: in training, give the model a random number of the support pairs, from
            ``min_support`` to all of them, a new number each step (default ``None``: always all).
            A model trained on one support size reads smaller ones poorly; one trained on many
            sizes reads any of them, as a language model reads prompts of any length.
        loss_fn: per-task loss (default: mean squared error).
        device: where to train (default: the model's device).
    """

    name = "in_context"

    def __init__(
        self,
        model: InContextTransformer,
        *,
        lr: float = 1e-3,
        min_support: int | None = None,
        loss_fn: LossFn = task_loss,
        device: str | torch.device | None = None,
    ) -> None:
        if not isinstance(model, InContextTransformer):
            raise ValueError(f"model must be an InContextTransformer, got {type(model).__name__}")
        super().__init__(model, lr=lr, device=device)
        self.loss_fn = loss_fn
        self.min_support = None if min_support is None else check_int("min_support", min_support, minimum=1)

    def adapt(self, episode: Episode, steps: int | None = None) -> Tensor:
        """The support pairs of each task, ``(tasks, support, inputs + targets)``; ``steps`` is ignored."""
        if episode.is_classification:
            raise ValueError("InContext learns regression tasks; got a classification episode")
        widths = (episode.support_x.shape[-1], episode.support_y.shape[-1])
        expected = (self.model.in_features, self.model.target_features)
        if widths != expected:
            raise ValueError(f"the model reads inputs and targets of widths {expected}, got {widths}")
        episode = episode.to(self.device)
        return self.model.context(episode.support_x, episode.support_y)

    def adapted_parameters(self, ways: int = 5) -> int:
        """0: a task changes the model's input, not its weights."""
        return 0

    def predict(self, adapted: Tensor, x: Tensor) -> Tensor:
        return self.model(adapted, x.to(self.device))

    def training_loss(self, episode: Episode) -> Tensor:
        support = episode.support_x.shape[1]
        if self.min_support is not None and self.min_support < support:
            # a random subset, as the first k: the points of a task are drawn independently
            k = int(torch.randint(self.min_support, support + 1, ()).item())
            episode = replace(episode, support_x=episode.support_x[:, :k], support_y=episode.support_y[:, :k])
        predictions = self.predict(self.adapt(episode), episode.query_x)
        return torch.vmap(self.loss_fn)(predictions, episode.query_y).mean()

    def config(self) -> dict[str, Any]:
        return {**super().config(), "min_support": self.min_support}
