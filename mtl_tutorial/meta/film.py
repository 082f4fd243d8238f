"""The task-conditioned learner: adaptation is one forward pass of a support-set encoder."""

from __future__ import annotations

import torch
from torch import Tensor

from ..adaptation import LossFn, task_loss
from ..learner import Learner, check_ways
from ..models.film import FiLMNetwork
from ..tasks import Episode


class TaskConditioned(Learner):
    """Learn a network that reads a task's support set and modulates itself to fit that task.

    This is the working form of the source's §4.1.2 "MetaNet", in which an outer network gates
    the inner network's output: here the outer network (the set encoder of a
    :class:`~mtl_tutorial.models.FiLMNetwork`) reads the task's data — the *meta-data* — and
    produces FiLM scales and shifts for the inner one. :meth:`fit` trains both end to end on
    query losses; :meth:`adapt` takes no gradient steps.

    Args:
        model: a :class:`~mtl_tutorial.models.FiLMNetwork`.
        lr: Adam's learning rate (default 1e-3).
        loss_fn: per-task loss (default: cross-entropy for labels, else mean squared error).
        device: where to train (default: the model's device).
    """

    name = "film"

    def __init__(
        self,
        model: FiLMNetwork,
        *,
        lr: float = 1e-3,
        loss_fn: LossFn = task_loss,
        device: str | torch.device | None = None,
    ) -> None:
        if not isinstance(model, FiLMNetwork):
            raise ValueError(f"model must be a FiLMNetwork, got {type(model).__name__}")
        super().__init__(model, lr=lr, device=device)
        self.loss_fn = loss_fn

    def adapt(self, episode: Episode, steps: int | None = None) -> Tensor:
        """The FiLM parameters of each task, computed from its support set; ``steps`` is ignored."""
        episode = episode.to(self.device)
        if episode.is_classification and episode.num_ways != self.model.num_classes:
            raise ValueError(
                f"the network was built for {self.model.num_classes}-way tasks, "
                f"got a {episode.num_ways}-way episode"
            )
        return self.model.encode(episode.support_x, episode.support_y)

    def adapted_parameters(self, ways: int = 5) -> int:
        """0: the per-task state is computed from the support set, not trained."""
        return 0

    def predict(self, adapted: Tensor, x: Tensor) -> Tensor:
        return self.model(x.to(self.device), adapted)

    def training_loss(self, episode: Episode) -> Tensor:
        predictions = self.predict(self.adapt(episode), episode.query_x)
        check_ways(predictions, episode)
        return torch.vmap(self.loss_fn)(predictions, episode.query_y).mean()
