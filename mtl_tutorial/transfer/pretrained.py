"""Supervised pretraining on every training class, shared by the image transfer baselines."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._checks import check_int, check_positive_float
from ..learner import Trainable, check_no_batch_norm, resolve_device
from ..tasks import FewShotTasks


class SupervisedPretraining(Trainable):
    """A backbone trained by plain classification over all training classes at once.

    This is the "pretrain" stage of transfer learning (Chen et al. 2019's Baseline): no
    episodes, just mini-batches of images labelled with their global class. The baselines in
    :mod:`mtl_tutorial.transfer.baselines` then adapt its frozen or fine-tuned features per
    episode; pretraining once and sharing it is what makes them comparable to each other.

    :meth:`fit` is the package's one training loop (:class:`~mtl_tutorial.learner.Trainable`):
    each step draws ``batch_size`` images of ``tasks.classes`` with their global labels;
    ``meta_batch_size`` does not apply and is ignored. Checkpointing and resuming save the
    backbone, the head and Adam's state.

    Args:
        backbone: maps images to feature vectors (e.g. :class:`~mtl_tutorial.models.Conv4`).
        lr: Adam's learning rate (default 1e-3).
        batch_size: images per step (default 64).
        device: where to train (default: the backbone's device).
    """

    name = "pretraining"

    def __init__(
        self, backbone: nn.Module, *, lr: float = 1e-3, batch_size: int = 64, device: str | None = None
    ) -> None:
        check_no_batch_norm(backbone)
        self.device = resolve_device(device, backbone)
        self.backbone = backbone.to(self.device)
        self.lr = check_positive_float("lr", lr)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.head: nn.Linear | None = None
        self._optimizer = None
        self.losses = []

    batch_description = "batch_size"

    def split_batch_size(self, meta_batch_size: int) -> int:
        """Data-parallel pretraining splits each batch's images between processes."""
        return self.batch_size

    @property
    def fitted(self) -> bool:
        return self.head is not None

    def prepare_training(self, tasks: FewShotTasks) -> None:
        """A new classification head over ``tasks.classes``, and a new optimiser for it."""
        self._images, self._labels = tasks.classes.flat()
        with torch.no_grad():
            probe = self.backbone(self._images[:1].to(self.device))
        # the head computes in the features' dtype, whatever torch's default dtype is
        self.head = nn.Linear(probe.shape[-1], tasks.classes.num_classes).to(self.device, probe.dtype)
        self._optimizer = None

    def sample_training_batch(
        self, tasks: FewShotTasks, meta_batch_size: int, generator: torch.Generator
    ) -> tuple[Tensor, Tensor]:
        """``batch_size`` images and their global labels, drawn with replacement."""
        batch = torch.randint(len(self._images), (self.batch_size,), generator=generator)
        return self._images[batch].to(self.device), self._labels[batch].to(self.device)

    def training_loss(self, batch: tuple[Tensor, Tensor]) -> Tensor:
        images, labels = batch
        return F.cross_entropy(self.head(self.backbone(images)), labels)

    def trainable_modules(self) -> dict[str, nn.Module]:
        if not self.fitted:
            raise ValueError("the backbone is not pretrained yet: call fit() first")
        return {"backbone": self.backbone, "head": self.head}

    @property
    def feature_dim(self) -> int:
        """Width of the backbone's feature vector (from the pretraining head, or the backbone's
        ``feature_dim``)."""
        if self.head is not None:
            return self.head.in_features
        dim = getattr(self.backbone, "feature_dim", None)
        if dim is None:
            raise ValueError("the feature width is unknown until the backbone is pretrained: call fit()")
        return int(dim)

    def features(self, x: Tensor) -> Tensor:
        """Frozen features ``(tasks, points, dim)`` of inputs ``(tasks, points, C, H, W)``."""
        if not self.fitted:
            raise ValueError("the backbone is not pretrained yet: call fit() first")
        tasks, points = x.shape[:2]
        with torch.no_grad():
            flat = self.backbone(x.to(self.device).reshape(tasks * points, *x.shape[2:]))
        return flat.reshape(tasks, points, -1)

    def load_state_dict(self, state: dict[str, dict[str, Tensor]]) -> None:
        """Restore :meth:`state_dict`'s output; the head is rebuilt with the saved shape."""
        if set(state) != {"backbone", "head"}:
            raise ValueError(f"state must hold 'backbone' and 'head', got {sorted(state)}")
        weight = state["head"]["weight"]
        self.head = nn.Linear(weight.shape[1], weight.shape[0]).to(self.device, weight.dtype)
        super().load_state_dict(state)

    def config(self) -> dict[str, Any]:
        return {"learner": type(self).__name__, "lr": self.lr, "batch_size": self.batch_size}
