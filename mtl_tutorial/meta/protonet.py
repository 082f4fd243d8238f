"""Prototypical Networks (Snell, Swersky & Zemel 2017)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..learner import Learner
from ..tasks import Episode


class ProtoNet(Learner):
    """Classify a query by the nearest class prototype, the mean embedding of its support examples.

    Logits are negative squared Euclidean distances, ``−‖f(x) − c_k‖²``; expanding the square
    shows they are a linear classifier on the embedding with weights ``2 c_k`` and biases
    ``−‖c_k‖²``, up to ``−‖f(x)‖²``, which is the same for every class. :meth:`fit` trains the
    encoder ``f`` on episodes; the training tasks may have more ways than the test tasks (Snell et
    al. train with 60 ways and test with 5 on Omniglot). Adaptation takes no gradient steps.

    Args:
        encoder: maps one example to an embedding vector; applied to every point of every task.
        lr: Adam's learning rate (default 1e-3).
        device: where to train (default: the encoder's device).
    """

    name = "protonet"
    adapts_without_autograd = True  # prototypes are means: no gradients

    def __init__(
        self, encoder: nn.Module, *, lr: float = 1e-3, device: str | torch.device | None = None
    ) -> None:
        super().__init__(encoder, lr=lr, device=device)

    def embed(self, x: Tensor) -> Tensor:
        """Embeddings of shape ``(tasks, points, features)`` for inputs ``(tasks, points, ...)``."""
        tasks, points = x.shape[:2]
        return self.model(x.to(self.device).reshape(tasks * points, *x.shape[2:])).reshape(tasks, points, -1)

    def adapt(self, episode: Episode, steps: int | None = None) -> Tensor:
        """Class prototypes of shape ``(tasks, ways, features)``; ``steps`` is ignored."""
        episode = episode.to(self.device)
        one_hot = support_one_hot(episode, "Prototypical Networks")
        counts = one_hot.sum(dim=1)  # (tasks, ways)
        embeddings = self.embed(episode.support_x)
        return one_hot.transpose(1, 2) @ embeddings / counts.unsqueeze(-1)

    def adapted_parameters(self, ways: int = 5) -> int:
        """0: the per-task state is computed from the support set, not trained."""
        return 0

    def predict(self, adapted: Tensor, x: Tensor) -> Tensor:
        """Logits ``−‖f(x) − c_k‖²`` of shape ``(tasks, points, ways)``."""
        # explicit differences rather than torch.cdist: exact, and no NaN gradient at distance 0
        return -(self.embed(x).unsqueeze(2) - adapted.unsqueeze(1)).pow(2).sum(dim=-1)

    def training_loss(self, episode: Episode) -> Tensor:
        logits = self.predict(self.adapt(episode), episode.query_x)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), episode.query_y.reshape(-1))


def support_one_hot(episode: Episode, method: str) -> Tensor:
    """The support labels as one-hot rows ``(tasks, support, ways)``, in the inputs' dtype.

    Raises ``ValueError`` (naming ``method``) for a regression episode or for a class with no
    support example, whose prototype would be undefined.
    """
    if not episode.is_classification:
        raise ValueError(f"{method} can only classify: the episode has no num_ways (regression targets)")
    one_hot = F.one_hot(episode.support_y, episode.num_ways).to(episode.support_x.dtype)
    if (one_hot.sum(dim=1) == 0).any():
        raise ValueError(f"every one of the {episode.num_ways} classes needs at least one support example")
    return one_hot
