"""What several of the concept figures share: the colours, the book's style for one figure, argument
limits, and boxes, arrows and text for the flow diagrams."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TypeVar

import matplotlib.pyplot as plt
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from ..plotting import PALETTE, color_of, use_book_style

MAML_COLOR = color_of("MAML")
PRETRAINED_COLOR = color_of("pretrained")
# Colours for tasks and classes: the palette without MAML's blue, the pretrained orange and the
# yellow (too light for lines on white), so that a task is never mistaken for a method.
_TASK_COLORS = tuple(c for c in PALETTE if c not in (MAML_COLOR, PRETRAINED_COLOR, "#F0E442"))
_CLASS_COLORS = (*PALETTE[:6], "#882255", "#44AA99", "#999933", "#332288")  # ten: up to 10-way
_GREY = "#7f7f7f"
_INK = "#222222"

F = TypeVar("F", bound=Callable[..., Figure])


def _book_figure(function: F) -> F:
    """Draw ``function``'s figure in the book's style without changing the style of what follows."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with plt.rc_context():
            use_book_style()
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _check_at_most(name: str, value: int, maximum: int, why: str) -> int:
    """Return ``value`` if it is ``<= maximum``; raise ``ValueError`` saying ``why`` otherwise."""
    if value > maximum:
        raise ValueError(f"{name} must be at most {maximum} ({why}), got {value}")
    return value


def _tint(color: str, amount: float = 0.82) -> tuple[float, float, float]:
    """``color`` mixed with white: ``amount`` 0 is the colour, 1 is white."""
    return tuple(c + (1.0 - c) * amount for c in to_rgb(color))  # type: ignore[return-value]


def _diagram_axes(ax: plt.Axes) -> None:
    """An axes for boxes and arrows: equal units, no frame, ticks or grid."""
    ax.set_aspect("equal")
    ax.set_axis_off()


# --- boxes and arrows (the flow diagrams) ------------------------------------------------------


def _box(
    ax: plt.Axes, center: tuple[float, float], text: str, *, width: float, height: float,
    color: str = _GREY, gid: str = "box", fontsize: float = 10, dashed: bool = False,
) -> FancyBboxPatch:  # fmt: skip
    """A rounded box centred on ``center`` with ``text`` in it, edged in ``color``, tinted inside."""
    x, y = center
    box = FancyBboxPatch(
        (x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.02,rounding_size=0.12",
        facecolor=_tint(color), edgecolor=color, linewidth=1.6, linestyle="--" if dashed else "-", zorder=2,
    )  # fmt: skip
    box.set_gid(gid)
    ax.add_patch(box)
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color=_INK, zorder=3)
    return box


def _arrow(
    ax: plt.Axes, start: tuple[float, float], end: tuple[float, float], *, label: str | None = None,
    color: str = _INK, gid: str = "arrow", label_offset: tuple[float, float] = (0.12, 0.0),
    fontsize: float = 9, linewidth: float = 1.4, linestyle: str = "-",
) -> plt.Annotation:  # fmt: skip
    """An arrow from ``start`` to ``end`` (data coordinates), with ``label`` left-aligned beside
    its middle, moved by ``label_offset``."""
    style = dict(arrowstyle="-|>", color=color, lw=linewidth, linestyle=linestyle, shrinkA=0, shrinkB=0)
    arrow = ax.annotate("", xy=end, xytext=start, arrowprops=style, zorder=1)
    arrow.set_gid(gid)
    if label is not None:
        mid = ((start[0] + end[0]) / 2 + label_offset[0], (start[1] + end[1]) / 2 + label_offset[1])
        ax.text(*mid, label, ha="left", va="center", fontsize=fontsize, color=color)
    return arrow


def _path_arrow(
    ax: plt.Axes, points: Sequence[tuple[float, float]], *, color: str, gid: str,
    linewidth: float = 2.0, linestyle: str = "-",
) -> FancyArrowPatch:  # fmt: skip
    """An arrow along the polyline through ``points``, its head at the last point."""
    path = Path(list(points), [Path.MOVETO] + [Path.LINETO] * (len(points) - 1))
    head = "-|>,head_length=6,head_width=3.5"
    arrow = FancyArrowPatch(path=path, arrowstyle=head, color=color, lw=linewidth, linestyle=linestyle)
    arrow.set_gid(gid)
    ax.add_patch(arrow)
    return arrow
