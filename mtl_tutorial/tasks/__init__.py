"""Task distributions and the :class:`Episode` type they produce."""

from .clusters import GaussianClusterTasks
from .episode import Episode, TaskSource
from .glyphs import GlyphConfig, load_glyphs
from .images import EpisodeIndices, FewShotTasks, ImageClasses
from .sinusoid import SinusoidTasks

__all__ = [
    "Episode",
    "EpisodeIndices",
    "FewShotTasks",
    "GaussianClusterTasks",
    "GlyphConfig",
    "ImageClasses",
    "SinusoidTasks",
    "TaskSource",
    "load_glyphs",
]
