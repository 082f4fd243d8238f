"""Sinusoid regression, the toy task distribution of the MAML paper (Finn et al. 2017, §5.1).

Each task is a function ``y = A sin(x - φ)``; a learner sees ``K`` points of it (the support
set) and is scored on other points of the same function (the query set).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .._checks import check_int, check_interval, check_nonnegative_float
from .episode import Episode, task_generator


@dataclass(frozen=True)
class SinusoidTasks:
    """A distribution over sinusoid regression tasks.

    Defaults are the MAML paper's: amplitude ``A ~ U[0.1, 5.0]``, phase ``φ ~ U[0, π]``,
    inputs ``x ~ U[-5, 5]``; ``support_size`` (K) = 10 support points and ``query_size`` = 10
    query points per task; no observation noise (``noise_std`` = 0).

    Raises:
        ValueError: if a range is not ``(low, high)`` with ``low < high``, the amplitude range
            goes below 0, a size is below 1, or ``noise_std`` is negative.
    """

    amplitude_range: tuple[float, float] = (0.1, 5.0)
    phase_range: tuple[float, float] = (0.0, math.pi)
    x_range: tuple[float, float] = (-5.0, 5.0)
    support_size: int = 10
    query_size: int = 10
    noise_std: float = 0.0

    def __post_init__(self) -> None:
        # frozen dataclass: normalise the validated values through object.__setattr__
        set_ = object.__setattr__
        set_(self, "amplitude_range", check_interval("amplitude_range", self.amplitude_range, lowest=0.0))
        set_(self, "phase_range", check_interval("phase_range", self.phase_range))
        set_(self, "x_range", check_interval("x_range", self.x_range))
        check_int("support_size", self.support_size, minimum=1)
        check_int("query_size", self.query_size, minimum=1)
        set_(self, "noise_std", check_nonnegative_float("noise_std", self.noise_std))

    def sample(
        self,
        num_tasks: int,
        *,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> Episode:
        """Sample ``num_tasks`` tasks, each with a support and a query set.

        Pass ``seed`` for a fixed, reproducible set (for example the test tasks), or a
        ``generator`` to draw a fresh batch at each call of a training loop. With neither, the
        global torch RNG is used.

        Returns:
            An :class:`Episode` with ``support_x``/``support_y`` of shape
            ``(num_tasks, support_size, 1)``, ``query_x``/``query_y`` of shape
            ``(num_tasks, query_size, 1)`` and ``info`` holding ``amplitude`` and ``phase``.
        """
        check_int("num_tasks", num_tasks, minimum=1)
        generator = task_generator(seed, generator)

        def uniform(shape: tuple[int, ...], bounds: tuple[float, float]) -> torch.Tensor:
            low, high = bounds
            return low + (high - low) * torch.rand(shape, generator=generator)

        amplitude = uniform((num_tasks,), self.amplitude_range)
        phase = uniform((num_tasks,), self.phase_range)
        points = self.support_size + self.query_size
        x = uniform((num_tasks, points, 1), self.x_range)
        y = self.function(x, amplitude, phase)
        if self.noise_std > 0:
            y = y + self.noise_std * torch.randn(y.shape, generator=generator)
        k = self.support_size
        return Episode(
            support_x=x[:, :k],
            support_y=y[:, :k],
            query_x=x[:, k:],
            query_y=y[:, k:],
            info={"amplitude": amplitude, "phase": phase},
        )

    @staticmethod
    def function(x: torch.Tensor, amplitude: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
        """Evaluate ``A sin(x - φ)`` for a batch of tasks; ``x`` is ``(tasks, points, 1)``."""
        return amplitude.view(-1, 1, 1) * torch.sin(x - phase.view(-1, 1, 1))

    def curve(self, episode: Episode, num_points: int = 200) -> tuple[torch.Tensor, torch.Tensor]:
        """The true functions of an episode's tasks on a regular grid over ``x_range``.

        Returns ``(x, y)`` with ``x`` of shape ``(num_points,)`` and ``y`` of shape
        ``(tasks, num_points)``; useful for plotting.
        """
        check_int("num_points", num_points, minimum=2)
        x = torch.linspace(*self.x_range, num_points)
        grid = x.view(1, -1, 1).expand(episode.num_tasks, -1, -1)
        y = self.function(grid, episode.info["amplitude"], episode.info["phase"])
        return x, y.squeeze(-1)
