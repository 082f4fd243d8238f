"""The one type that carries tasks from the samplers to the learners."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import torch
from torch import Tensor


@dataclass(frozen=True)
class Episode:
    """A batch of tasks, each split into a support set and a query set.

    Every tensor has a leading *task* dimension, so one ``Episode`` holds a whole meta-batch
    (a single task is a batch of one):

    - ``support_x``: ``(tasks, support points, *input shape)``
    - ``support_y``: ``(tasks, support points, *target shape)``
    - ``query_x``: ``(tasks, query points, *input shape)``
    - ``query_y``: ``(tasks, query points, *target shape)``

    Regression targets are floating point, for example ``(tasks, points, 1)``. Classification
    targets are integer labels of shape ``(tasks, points)`` in ``0 … num_ways - 1``, and
    ``num_ways`` says how many classes each task has.

    ``info`` holds per-task facts a sampler knows (for sinusoids, ``amplitude`` and ``phase``),
    each a tensor whose first dimension is the task.

    Raises:
        ValueError: if shapes disagree (tasks, points, support against query), a set is empty,
            or classification labels fall outside ``0 … num_ways - 1``.
    """

    support_x: Tensor
    support_y: Tensor
    query_x: Tensor
    query_y: Tensor
    info: dict[str, Tensor] = field(default_factory=dict)
    num_ways: int | None = None

    def __post_init__(self) -> None:
        names = ("support_x", "support_y", "query_x", "query_y")
        for name in names:
            tensor = getattr(self, name)
            least = 3 if name.endswith("x") else 2
            if not isinstance(tensor, Tensor) or tensor.dim() < least:
                shape = tuple(tensor.shape) if isinstance(tensor, Tensor) else type(tensor).__name__
                raise ValueError(
                    f"{name} must be a tensor of shape (tasks, points, ...) with at least {least} "
                    f"dimensions, got {shape}"
                )
        shapes = [tuple(getattr(self, n).shape) for n in names]
        if len({s[0] for s in shapes}) != 1:
            raise ValueError(
                f"support and query tensors must have the same number of tasks (first dimension), "
                f"got shapes {shapes}"
            )
        for x_name, y_name in (("support_x", "support_y"), ("query_x", "query_y")):
            x, y = getattr(self, x_name), getattr(self, y_name)
            if x.shape[1] == 0:
                raise ValueError(
                    f"{x_name} is empty: every task needs at least one point, got shape {tuple(x.shape)}"
                )
            if x.shape[1] != y.shape[1]:
                raise ValueError(
                    f"{x_name} and {y_name} must have the same number of points, "
                    f"got {x.shape[1]} and {y.shape[1]}"
                )
        if self.support_x.shape[2:] != self.query_x.shape[2:]:
            raise ValueError(
                "support and query inputs must have the same shape per point, got "
                f"{tuple(self.support_x.shape[2:])} and {tuple(self.query_x.shape[2:])}"
            )
        if self.support_y.shape[2:] != self.query_y.shape[2:] or self.support_y.dtype != self.query_y.dtype:
            raise ValueError(
                "support and query targets must have the same shape per point and dtype, got "
                f"{tuple(self.support_y.shape[2:])} ({self.support_y.dtype}) and "
                f"{tuple(self.query_y.shape[2:])} ({self.query_y.dtype})"
            )
        if self.num_ways is not None:
            self._check_labels()
        elif self.support_y.is_floating_point() and self.support_y.dim() < 3:
            # (tasks, points) regression targets against (tasks, points, 1) predictions would
            # broadcast to a (points, points) loss: a wrong number, not an error, in F.mse_loss
            raise ValueError(
                "regression targets must have shape (tasks, points, outputs), got support_y "
                f"{tuple(self.support_y.shape)}; add the output dimension with y.unsqueeze(-1)"
            )
        for key, value in self.info.items():
            if value.shape[:1] != (self.num_tasks,):
                raise ValueError(
                    f"info[{key!r}] must have {self.num_tasks} entries along its first "
                    f"dimension, got shape {tuple(value.shape)}"
                )

    def _check_labels(self) -> None:
        if isinstance(self.num_ways, bool) or not isinstance(self.num_ways, int) or self.num_ways < 2:
            raise ValueError(f"num_ways must be an integer >= 2, got {self.num_ways!r}")
        for name in ("support_y", "query_y"):
            labels = getattr(self, name)
            if labels.is_floating_point() or labels.dim() != 2:
                raise ValueError(
                    f"{name} must hold integer class labels of shape (tasks, points) for a "
                    f"classification episode, got {labels.dtype} of shape {tuple(labels.shape)}"
                )
            low, high = labels.min().item(), labels.max().item()
            if low < 0 or high >= self.num_ways:
                raise ValueError(
                    f"{name} must hold labels in 0 … {self.num_ways - 1} for a {self.num_ways}-way "
                    f"episode, got labels from {low} to {high}"
                )

    @property
    def num_tasks(self) -> int:
        """Number of tasks in the batch."""
        return self.support_x.shape[0]

    @property
    def is_classification(self) -> bool:
        """Whether the targets are class labels (``num_ways`` is set)."""
        return self.num_ways is not None

    def __len__(self) -> int:
        return self.num_tasks

    def __getitem__(self, index: int | slice | Tensor) -> Episode:
        """Select tasks; an integer index keeps the task dimension (a batch of one)."""
        if isinstance(index, int):
            index = slice(index, index + 1 if index != -1 else None)
        return self._map(lambda t: t[index])

    def to(self, device: torch.device | str) -> Episode:
        """Return a copy with every tensor on ``device`` (``self`` if they are there already)."""
        if self.support_x.device == torch.device(device):
            return self
        return self._map(lambda t: t.to(device))

    def _map(self, fn) -> Episode:
        return Episode(
            fn(self.support_x),
            fn(self.support_y),
            fn(self.query_x),
            fn(self.query_y),
            {key: fn(value) for key, value in self.info.items()},
            self.num_ways,
        )


def task_generator(seed: int | None, generator: torch.Generator | None) -> torch.Generator | None:
    """The generator a sampler draws from: a fresh one seeded by ``seed``, the stream passed in,
    or ``None`` (torch's global generator) when given neither."""
    if seed is not None and generator is not None:
        raise ValueError("pass either seed or generator, not both")
    return torch.Generator().manual_seed(seed) if seed is not None else generator


class TaskSource(Protocol):
    """Anything learners can draw training tasks from (a task distribution)."""

    def sample(
        self, num_tasks: int, *, seed: int | None = None, generator: torch.Generator | None = None
    ) -> Episode:
        """Draw ``num_tasks`` tasks as one :class:`Episode`."""
        ...
