"""The one type that carries tasks from the samplers to the learners."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor


@dataclass(frozen=True)
class Episode:
    """A batch of tasks, each split into a support set and a query set.

    Every tensor has a leading *task* dimension, so one ``Episode`` holds a whole meta-batch
    (a single task is a batch of one):

    - ``support_x``: ``(tasks, support points, input features)``
    - ``support_y``: ``(tasks, support points, output features)``
    - ``query_x``: ``(tasks, query points, input features)``
    - ``query_y``: ``(tasks, query points, output features)``

    ``info`` holds per-task facts a sampler knows (for sinusoids, ``amplitude`` and ``phase``),
    each a tensor whose first dimension is the task.
    """

    support_x: Tensor
    support_y: Tensor
    query_x: Tensor
    query_y: Tensor
    info: dict[str, Tensor] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = ("support_x", "support_y", "query_x", "query_y")
        for name in names:
            tensor = getattr(self, name)
            if not isinstance(tensor, Tensor) or tensor.dim() != 3:
                shape = tuple(tensor.shape) if isinstance(tensor, Tensor) else type(tensor).__name__
                raise ValueError(f"{name} must be a 3-D tensor (tasks, points, features), got {shape}")
        tasks = {getattr(self, name).shape[0] for name in names}
        if len(tasks) != 1:
            raise ValueError(
                "support and query tensors must have the same number of tasks (first "
                f"dimension), got shapes {[tuple(getattr(self, n).shape) for n in names]}"
            )
        for x_name, y_name in (("support_x", "support_y"), ("query_x", "query_y")):
            x, y = getattr(self, x_name), getattr(self, y_name)
            if x.shape[1] != y.shape[1]:
                raise ValueError(
                    f"{x_name} and {y_name} must have the same number of points, "
                    f"got {x.shape[1]} and {y.shape[1]}"
                )
        for key, value in self.info.items():
            if value.shape[:1] != (self.num_tasks,):
                raise ValueError(
                    f"info[{key!r}] must have {self.num_tasks} entries along its first "
                    f"dimension, got shape {tuple(value.shape)}"
                )

    @property
    def num_tasks(self) -> int:
        """Number of tasks in the batch."""
        return self.support_x.shape[0]

    def __len__(self) -> int:
        return self.num_tasks

    def __getitem__(self, index: int | slice | Tensor) -> Episode:
        """Select tasks; an integer index keeps the task dimension (a batch of one)."""
        if isinstance(index, int):
            index = slice(index, index + 1 if index != -1 else None)
        return Episode(
            self.support_x[index],
            self.support_y[index],
            self.query_x[index],
            self.query_y[index],
            {key: value[index] for key, value in self.info.items()},
        )

    def to(self, device: torch.device | str) -> Episode:
        """Return a copy with every tensor on ``device``."""
        return Episode(
            self.support_x.to(device),
            self.support_y.to(device),
            self.query_x.to(device),
            self.query_y.to(device),
            {key: value.to(device) for key, value in self.info.items()},
        )
