"""The book's concept figures, drawn by code: no data, no training, the same picture every time.

Each ``plot_*`` function returns a new :class:`~matplotlib.figure.Figure` in the book's style
(:func:`~mtl_tutorial.plotting.use_book_style`, applied to that figure only) and colours
(:data:`~mtl_tutorial.plotting.PALETTE`; MAML and the pretrained network keep their colours of
:func:`~mtl_tutorial.plotting.color_of`). :data:`ALT_TEXT` describes each figure for a
screen-reader user; :func:`alt_text` looks it up.

The two figures that make a quantitative point compute it honestly, with small public functions
the tests check: :func:`maml_start` (the start that one gradient step takes closest to every
task's optimum, for quadratic task losses) and :func:`nearest_prototype` (ProtoNet's rule).

The artists a test needs to count carry a ``gid``: ``"support"`` and ``"query"`` marks in the
episode figure, ``"inner-step"`` and ``"meta-gradient"`` arrows in the MAML loops, ``"prototype"``
markers and the ``"regions"`` image in the ProtoNet figure, and so on (see each function).

One module per figure, with what it computes: :mod:`.episode` (:func:`plot_episode`), :mod:`.maml`
(:func:`plot_maml_loops`, :func:`plot_maml_geometry` and the maths of quadratic task losses),
:mod:`.protonet` (:func:`plot_protonet_embedding`, :func:`nearest_prototype`), :mod:`.pipelines`
(:func:`plot_transfer_vs_meta`); :mod:`.alt` holds the alt text, and ``_drawing`` the colours,
boxes and arrows the figures share.
"""

from .alt import ALT_TEXT, alt_text
from .episode import plot_episode
from .maml import (
    average_loss_minimiser,
    losses_after_one_step,
    maml_start,
    one_step,
    plot_maml_geometry,
    plot_maml_loops,
    task_losses,
)
from .pipelines import plot_transfer_vs_meta
from .protonet import nearest_prototype, plot_protonet_embedding

__all__ = [
    "ALT_TEXT",
    "alt_text",
    "average_loss_minimiser",
    "losses_after_one_step",
    "maml_start",
    "nearest_prototype",
    "one_step",
    "plot_episode",
    "plot_maml_geometry",
    "plot_maml_loops",
    "plot_protonet_embedding",
    "plot_transfer_vs_meta",
    "task_losses",
]
