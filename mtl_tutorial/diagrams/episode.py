"""The episode figure: an N-way K-shot support set, its query set, and the split of classes into
meta-train and meta-test classes that the episode's classes come from."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .._checks import check_int
from ._drawing import _CLASS_COLORS, _GREY, _INK, _book_figure, _check_at_most, _diagram_axes, _tint

MAX_WAYS = 10
MAX_SHOTS = 10
MAX_QUERIES = 10


def _glyph_strokes(class_seed: int, variant: np.random.Generator | None = None) -> list[np.ndarray]:
    """A class's glyph in the unit square: two strokes of three points, fixed by ``class_seed``;
    ``variant`` (a generator) jitters them into one hand-drawn example of the class."""
    shape = np.random.default_rng(class_seed).uniform(0.2, 0.8, size=(2, 3, 2))
    if variant is not None:
        shape = np.clip(shape + variant.normal(0.0, 0.035, size=shape.shape), 0.1, 0.9)
    return list(shape)


def _tile(
    ax: plt.Axes, corner: tuple[float, float], class_seed: int, variant: np.random.Generator | None, *,
    edge: str, face: tuple[float, float, float] | str, gid: str, strokes: list[np.ndarray],
    size: float = 1.0, linewidth: float = 1.8,
) -> Rectangle:  # fmt: skip
    """One example: a square at ``corner`` with its class's glyph; the glyph's strokes are added
    to ``strokes`` (drawn together afterwards)."""
    tile = Rectangle(corner, size, size, facecolor=face, edgecolor=edge, linewidth=linewidth, zorder=2)
    tile.set_gid(gid)
    ax.add_patch(tile)
    for stroke in _glyph_strokes(class_seed, variant):
        strokes.append(np.asarray(corner) + size * stroke)
    return tile


def _draw_strokes(ax: plt.Axes, strokes: list[np.ndarray], linewidth: float = 1.6) -> None:
    style = dict(colors=_INK, linewidths=linewidth, capstyle="round", joinstyle="round", zorder=3)
    ax.add_collection(LineCollection(strokes, **style))


@_book_figure
def plot_episode(ways: int = 5, shots: int = 1, queries: int = 2) -> Figure:
    """One few-shot episode, and where its classes come from.

    Left, the support set of an N-way K-shot episode: one row per class ("class 1" … "class N"),
    K examples in each (squares edged in the class's colour, each with a hand-drawn variant of the
    class's glyph). Middle, the query set: ``queries`` examples of each class, in grey and in a
    shuffled order, whose labels the learner must predict. Right, the split of classes: the
    episode's classes (edged in their colours, numbered by their label in the episode) are drawn
    from the meta-train classes; the meta-test classes, never seen in training, are disjoint.

    Args:
        ways: N, the number of classes in the episode (default 5; 1 … 10).
        shots: K, the support examples per class (default 1; 1 … 10).
        queries: the query examples per class (default 2; 1 … 10).

    Returns:
        The figure. Its support squares have ``gid`` ``"support"`` (``ways * shots`` of them), its
        query squares ``"query"`` (``ways * queries``), the class boxes of the split
        ``"meta-train class"`` and ``"meta-test class"``.

    Raises:
        ValueError: for an argument that is not an integer in its range.
    """
    check_int("ways", ways, minimum=1)
    check_int("shots", shots, minimum=1)
    check_int("queries", queries, minimum=1)
    _check_at_most("ways", ways, MAX_WAYS, "a drawing of more classes says nothing more")
    _check_at_most("shots", shots, MAX_SHOTS, "a drawing of more examples says nothing more")
    _check_at_most("queries", queries, MAX_QUERIES, "a drawing of more queries says nothing more")

    train_grid, test_grid = (4, 5), (2, 5)  # rows, columns of the class split
    gap, small = 1.25, 0.8  # tile pitch; the side of a class box in the split
    support_w, query_w = shots * gap - (gap - 1.0), queries * gap - (gap - 1.0)
    # where the query set and the class split start: beside the tiles, and far enough apart that
    # the panels' titles (about 3.5 units wide at most) do not meet
    x_query = max(support_w + 1.0, support_w / 2 + 3.4 - query_w / 2)
    x_split = max(x_query + query_w + 1.4, x_query + query_w / 2 + 2.3)
    split_width = train_grid[1] * gap - (gap - small)
    rows = max(ways, train_grid[0] + test_grid[0] + 1)
    left, right, bottom, top = -2.1, x_split + split_width + 0.3, -(rows - 1) * gap - 0.3, 2.4
    fig, ax = plt.subplots(figsize=(0.45 * (right - left), 0.45 * (top - bottom) + 0.7), layout="constrained")
    _diagram_axes(ax)
    # The episode's classes are some of the meta-train classes (seeds 0 … 19), spread over them.
    train_classes = train_grid[0] * train_grid[1]
    chosen = [int(c) for c in np.random.default_rng(0).permutation(train_classes)[:ways]]
    variants = np.random.default_rng(1)
    strokes: list[np.ndarray] = []

    for row, class_seed in enumerate(chosen):
        y = -row * gap
        color = _CLASS_COLORS[row]
        ax.text(-0.25, y + 0.5, f"class {row + 1}", ha="right", va="center", fontsize=9, color=_INK)
        for shot in range(shots):
            _tile(ax, (shot * gap, y), class_seed, variants, edge=color, face=_tint(color, 0.75),
                  gid="support", strokes=strokes)  # fmt: skip
    ax.text(support_w / 2, 1.3, f"support set\n({ways}-way {shots}-shot)", ha="center", va="bottom")

    query_classes = np.repeat(chosen, queries)
    order = np.random.default_rng(2).permutation(query_classes.size)
    for slot, index in enumerate(order):
        row, column = divmod(slot, queries)
        _tile(ax, (x_query + column * gap, -row * gap), int(query_classes[index]), variants, edge=_GREY,
              face="#f2f2f2", gid="query", strokes=strokes)  # fmt: skip
    ax.text(x_query + query_w / 2, 1.3, "query set\n(labels to predict)", ha="center", va="bottom")

    label_of = {c: i + 1 for i, c in enumerate(chosen)}
    for index in range(train_classes):
        row, column = divmod(index, train_grid[1])
        corner = (x_split + column * gap, -row * gap)
        if index in label_of:
            color = _CLASS_COLORS[label_of[index] - 1]
            _tile(ax, corner, index, None, edge=color, face=_tint(color, 0.75), gid="meta-train class",
                  strokes=strokes, size=small, linewidth=2.4)  # fmt: skip
            ax.text(corner[0] + small + 0.04, corner[1] + small, str(label_of[index]), ha="left", va="bottom",
                    fontsize=7, color=color, fontweight="bold")  # fmt: skip
        else:
            _tile(ax, corner, index, None, edge=_GREY, face="white", gid="meta-train class", strokes=strokes,
                  size=small, linewidth=1.0)  # fmt: skip
    test_top = -(train_grid[0] + 0.6) * gap
    for index in range(test_grid[0] * test_grid[1]):
        row, column = divmod(index, test_grid[1])
        corner = (x_split + column * gap, test_top - row * gap)
        _tile(ax, corner, 100 + index, None, edge=_GREY, face="#e8e8e8", gid="meta-test class",
              strokes=strokes, size=small, linewidth=1.0)  # fmt: skip
    _draw_strokes(ax, strokes)
    middle = x_split + split_width / 2
    ax.text(middle, 1.3, "meta-train classes\n(numbered: this episode's)", ha="center", va="bottom")
    ax.text(middle, test_top + small + 0.15, "meta-test classes (never seen in training)", ha="center",
            va="bottom", fontsize=9)  # fmt: skip
    ax.set(xlim=(left, right), ylim=(bottom, top))
    fig.suptitle(
        "A few-shot episode: learn the classes from the support set, then predict the queries;\n"
        "meta-training episodes draw their classes from the meta-train classes only",
        fontsize=10,
    )
    return fig
