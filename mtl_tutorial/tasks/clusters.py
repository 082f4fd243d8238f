"""Synthetic N-way K-shot classification: each task is N Gaussian clusters in feature space.

Small and fast, so every classification learner can be tested and demonstrated without images.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .._checks import check_int, check_positive_float
from .episode import Episode, task_generator


@dataclass(frozen=True)
class GaussianClusterTasks:
    """A distribution over N-way classification tasks with Gaussian classes.

    Each task draws ``num_ways`` class centres from ``N(0, center_std² I)`` in ``dim``
    dimensions; each example is its class centre plus ``N(0, noise_std² I)`` noise. Support sets
    hold ``shots`` examples per class and query sets ``queries`` per class, in shuffled order, with
    labels ``0 … num_ways - 1``.

    Defaults: 5 ways, 1 shot, 15 queries, 16 dimensions, ``center_std`` 1.0, ``noise_std`` 0.5.

    Raises:
        ValueError: for fewer than 2 ways, fewer than 1 shot, query or dimension, or a
            standard deviation that is not > 0.
    """

    num_ways: int = 5
    shots: int = 1
    queries: int = 15
    dim: int = 16
    center_std: float = 1.0
    noise_std: float = 0.5

    def __post_init__(self) -> None:
        check_int("num_ways", self.num_ways, minimum=2)
        check_int("shots", self.shots, minimum=1)
        check_int("queries", self.queries, minimum=1)
        check_int("dim", self.dim, minimum=1)
        check_positive_float("center_std", self.center_std)
        check_positive_float("noise_std", self.noise_std)

    def sample(
        self, num_tasks: int, *, seed: int | None = None, generator: torch.Generator | None = None
    ) -> Episode:
        """Sample ``num_tasks`` tasks; ``seed`` gives a fixed set, ``generator`` a stream."""
        check_int("num_tasks", num_tasks, minimum=1)
        generator = task_generator(seed, generator)
        n, d = self.num_ways, self.dim
        centres = self.center_std * torch.randn(num_tasks, n, 1, d, generator=generator)

        def draw(per_class: int) -> tuple[torch.Tensor, torch.Tensor]:
            x = centres + self.noise_std * torch.randn(num_tasks, n, per_class, d, generator=generator)
            y = torch.arange(n).view(1, n, 1).expand(num_tasks, n, per_class)
            x, y = x.reshape(num_tasks, n * per_class, d), y.reshape(num_tasks, n * per_class)
            order = torch.rand(num_tasks, n * per_class, generator=generator).argsort(dim=1)
            return x.gather(1, order.unsqueeze(-1).expand(-1, -1, d)), y.gather(1, order)

        support_x, support_y = draw(self.shots)
        query_x, query_y = draw(self.queries)
        return Episode(support_x, support_y, query_x, query_y, {"centres": centres.squeeze(2)}, num_ways=n)
