"""Task distributions and the :class:`Episode` type they produce."""

from .clusters import GaussianClusterTasks
from .episode import Episode, TaskSource
from .sinusoid import SinusoidTasks

__all__ = ["Episode", "GaussianClusterTasks", "SinusoidTasks", "TaskSource"]
