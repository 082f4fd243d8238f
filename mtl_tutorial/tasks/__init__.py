"""Task distributions and the :class:`Episode` type they produce."""

from .episode import Episode
from .sinusoid import SinusoidTasks

__all__ = ["Episode", "SinusoidTasks"]
