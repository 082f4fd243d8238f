"""Supervised pretraining on every training class, shared by the image transfer baselines."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._checks import check_int, check_positive_float
from ..learner import check_no_batch_norm, resolve_device
from ..tasks import FewShotTasks
from ..training import Checkpointing, GeneratorState, run_training


class SupervisedPretraining:
    """A backbone trained by plain classification over all training classes at once.

    This is the "pretrain" stage of transfer learning (Chen et al. 2019's Baseline): no
    episodes, just mini-batches of images labelled with their global class. The baselines in
    :mod:`mtl_tutorial.transfer.baselines` then adapt its frozen or fine-tuned features per
    episode; pretraining once and sharing it is what makes them comparable to each other.

    Args:
        backbone: maps images to feature vectors (e.g. :class:`~mtl_tutorial.models.Conv4`).
        lr: Adam's learning rate (default 1e-3).
        batch_size: images per step (default 64).
        device: where to train (default: the backbone's device).
    """

    def __init__(
        self, backbone: nn.Module, *, lr: float = 1e-3, batch_size: int = 64, device: str | None = None
    ) -> None:
        check_no_batch_norm(backbone)
        self.device = resolve_device(device, backbone)
        self.backbone = backbone.to(self.device)
        self.lr = check_positive_float("lr", lr)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.head: nn.Linear | None = None
        self.train_seconds = 0.0
        self.losses: list[float] = []

    @property
    def fitted(self) -> bool:
        return self.head is not None

    def fit(
        self,
        tasks: FewShotTasks,
        *,
        iterations: int,
        seed: int = 0,
        progress: bool | None = None,
        max_seconds: float | None = None,
        checkpointing: Checkpointing | None = None,
        callback: Callable[[int], None] | None = None,
    ) -> list[float]:
        """Train on mini-batches of all images of ``tasks.classes`` with their global labels.

        Stops after ``iterations`` steps or ``max_seconds`` of process CPU time, whichever comes
        first. ``callback(done)``, if given, runs after every step. Returns the loss of every step.
        """
        x, y = tasks.classes.flat()
        with torch.no_grad():
            probe = self.backbone(x[:1].to(self.device))
        # the head computes in the features' dtype, whatever torch's default dtype is
        self.head = nn.Linear(probe.shape[-1], tasks.classes.num_classes).to(self.device, probe.dtype)
        params = list(self.backbone.parameters()) + list(self.head.parameters())
        optimizer = torch.optim.Adam(params, lr=self.lr)
        generator = torch.Generator().manual_seed(seed)

        def step(_: int) -> float:
            batch = torch.randint(len(x), (self.batch_size,), generator=generator)
            logits = self.head(self.backbone(x[batch].to(self.device)))
            loss = F.cross_entropy(logits, y[batch].to(self.device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss.item()

        started = time.process_time()
        state = {
            "backbone": self.backbone,
            "head": self.head,
            "optimizer": optimizer,
            "tasks": GeneratorState(generator),
        }
        self.losses = run_training(
            step,
            iterations,
            description="pretraining",
            progress=progress,
            state=state,
            checkpointing=checkpointing,
            config={
                "learner": "SupervisedPretraining",
                "lr": self.lr,
                "batch_size": self.batch_size,
                "seed": seed,
            },
            max_seconds=max_seconds,
            callback=callback,
        )
        self.train_seconds = time.process_time() - started
        optimizer.zero_grad(set_to_none=True)  # leave no gradients behind on the shared backbone
        return self.losses

    def features(self, x: Tensor) -> Tensor:
        """Frozen features ``(tasks, points, dim)`` of inputs ``(tasks, points, C, H, W)``."""
        if not self.fitted:
            raise ValueError("the backbone is not pretrained yet: call fit() first")
        tasks, points = x.shape[:2]
        with torch.no_grad():
            flat = self.backbone(x.to(self.device).reshape(tasks * points, *x.shape[2:]))
        return flat.reshape(tasks, points, -1)

    def state_dict(self) -> dict[str, dict[str, Tensor]]:
        """The backbone's and the pretraining head's ``state_dict``; what the model cache stores."""
        if not self.fitted:
            raise ValueError("the backbone is not pretrained yet: call fit() first")
        return {"backbone": self.backbone.state_dict(), "head": self.head.state_dict()}

    def load_state_dict(self, state: dict[str, dict[str, Tensor]]) -> None:
        """Restore :meth:`state_dict`'s output; the head is rebuilt with the saved shape."""
        if set(state) != {"backbone", "head"}:
            raise ValueError(f"state must hold 'backbone' and 'head', got {sorted(state)}")
        self.backbone.load_state_dict(state["backbone"])
        weight = state["head"]["weight"]
        self.head = nn.Linear(weight.shape[1], weight.shape[0]).to(self.device, weight.dtype)
        self.head.load_state_dict(state["head"])

    def config(self) -> dict[str, Any]:
        return {"lr": self.lr, "batch_size": self.batch_size}
