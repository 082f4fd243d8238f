"""The ProtoNet figure: support points, prototypes and a query in a two-dimensional embedding space,
shaded by nearest-prototype classification (:func:`nearest_prototype`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from .._checks import check_int
from ._drawing import _CLASS_COLORS, _book_figure, _check_at_most, _tint

MAX_PROTONET_WAYS = 6
MAX_PROTONET_SHOTS = 20


def nearest_prototype(points: np.ndarray, prototypes: np.ndarray) -> np.ndarray:
    """ProtoNet's rule: the index of each point's nearest prototype (squared Euclidean distance;
    a tie goes to the lower index).

    Args:
        points: shape ``(n, dims)``, or ``(dims,)`` for one point.
        prototypes: shape ``(classes, dims)``.

    Returns:
        The labels, integers of shape ``(n,)`` (``()`` for one point).

    Raises:
        ValueError: for shapes that do not match, or no prototypes.
    """
    points = np.asarray(points, dtype=float)
    prototypes = np.asarray(prototypes, dtype=float)
    if prototypes.ndim != 2 or prototypes.shape[0] == 0:
        raise ValueError(
            f"prototypes must have shape (classes, dims) with classes >= 1, got {prototypes.shape}"
        )
    if points.shape[-1:] != prototypes.shape[1:] or points.ndim not in (1, 2):
        raise ValueError(
            f"points must have shape (n, {prototypes.shape[1]}) or ({prototypes.shape[1]},) to "
            f"match prototypes {prototypes.shape}, got {points.shape}"
        )
    distances = ((points[..., None, :] - prototypes) ** 2).sum(-1)
    return distances.argmin(-1)


def _protonet_points(ways: int, shots: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ProtoNet figure's embeddings: class centres at least 2.2 apart, ``shots`` support points
    around each (spread 0.6), and one query part of the way from one class's centre towards
    another's; all from ``seed``.
    Returns ``(support (ways, shots, 2), centres (ways, 2), query (2,))``."""
    rng = np.random.default_rng(seed)
    centres: list[np.ndarray] = []
    while len(centres) < ways:
        point = rng.uniform(-2.5, 2.5, size=2)
        if all(np.linalg.norm(point - other) >= 2.2 for other in centres):
            centres.append(point)
    centre_array = np.array(centres)
    support = centre_array[:, None, :] + 0.6 * rng.normal(size=(ways, shots, 2))
    own, other = rng.choice(ways, size=2, replace=False)
    between = rng.uniform(0.25, 0.45) * (centre_array[other] - centre_array[own])
    query = centre_array[own] + between + 0.3 * rng.normal(size=2)
    return support, centre_array, query


@_book_figure
def plot_protonet_embedding(ways: int = 3, shots: int = 5, seed: int = 0) -> Figure:
    """ProtoNet in a two-dimensional embedding space.

    Each class's support embeddings (small points in the class's colour, drawn from ``seed``),
    their prototype (the mean, a large marker), one query point (a black cross), dashed lines from
    the query to every prototype labelled with the distance, the nearest one drawn bolder, and the
    decision regions of nearest-prototype classification (:func:`nearest_prototype` on a grid)
    shaded lightly in the class colours: a Voronoi partition of the plane.

    Args:
        ways: the number of classes (default 3; 2 … 6).
        shots: the support points per class (default 5; 1 … 20).
        seed: the seed of the points (default 0).

    Returns:
        The figure. Class ``c``'s support points are the collection with ``gid``
        ``f"support-{c}"``, the prototypes ``"prototype"`` (one collection, in class order), the
        query ``"query"``, the shaded regions the image ``"regions"`` (its array holds the label of
        each grid cell), the query's lines ``"distance"``.

    Raises:
        ValueError: for an argument that is not an integer in its range.
    """
    check_int("ways", ways, minimum=2)
    check_int("shots", shots, minimum=1)
    check_int("seed", seed, minimum=0)
    _check_at_most("ways", ways, MAX_PROTONET_WAYS, "one colour per class")
    _check_at_most("shots", shots, MAX_PROTONET_SHOTS, "more points say nothing more")
    support, _, query = _protonet_points(ways, shots, seed)
    prototypes = support.mean(axis=1)
    colors = [_CLASS_COLORS[c] for c in range(ways)]

    fig, ax = plt.subplots(figsize=(6.0, 6.2), layout="constrained")
    ax.set_aspect("equal")
    every = np.vstack([support.reshape(-1, 2), query[None]])
    low, high = every.min(0) - 0.8, every.max(0) + 0.8
    resolution = 240
    gx, gy = np.meshgrid(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))
    labels = nearest_prototype(np.stack([gx.ravel(), gy.ravel()], axis=1), prototypes).reshape(gx.shape)
    # pixel centres on the grid points: the extent reaches half a cell beyond them
    half = (high - low) / (resolution - 1) / 2
    extent = (low[0] - half[0], high[0] + half[0], low[1] - half[1], high[1] + half[1])
    shades = ListedColormap([_tint(c, 0.85) for c in colors])
    regions = ax.imshow(labels, origin="lower", extent=extent, cmap=shades, vmin=-0.5, vmax=ways - 0.5,
                        interpolation="nearest", zorder=0)  # fmt: skip
    regions.set_gid("regions")
    for c in range(ways):
        points = ax.scatter(support[c, :, 0], support[c, :, 1], s=22, color=colors[c], alpha=0.85, zorder=3,
                            label=f"class {c + 1}")  # fmt: skip
        points.set_gid(f"support-{c}")
    protos = ax.scatter(prototypes[:, 0], prototypes[:, 1], s=230, marker="o", color=colors,
                        edgecolors="black", linewidths=1.5, zorder=4)  # fmt: skip
    protos.set_gid("prototype")
    distances = np.linalg.norm(prototypes - query, axis=1)
    nearest = int(nearest_prototype(query, prototypes))
    for c in range(ways):
        line = ax.plot(*zip(query, prototypes[c], strict=True), ls="--", color=colors[c],
                       lw=2.2 if c == nearest else 1.1, zorder=2)[0]  # fmt: skip
        line.set_gid("distance")
        # the label beside the line's middle, on its anticlockwise side, clear of the markers
        direction = (prototypes[c] - query) / max(float(distances[c]), 1e-9)
        ax.annotate(
            f"{distances[c]:.2f}", (query + prototypes[c]) / 2,
            xytext=(-11 * direction[1], 11 * direction[0]),
            textcoords="offset points", fontsize=9, ha="center", va="center", color=colors[c], zorder=5,
            fontweight="bold" if c == nearest else "normal",
            bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.85),
        )  # fmt: skip
    marker = ax.scatter(
        *query, marker="X", s=150, color="black", edgecolors="white", linewidths=1.0, zorder=6, label="query"
    )
    marker.set_gid("query")
    ax.scatter([], [], s=230, marker="o", facecolors="white", edgecolors="black", linewidths=1.5,
               label="prototype (class mean)")  # fmt: skip
    fig.legend(loc="outside lower center", ncol=4, fontsize=9, columnspacing=1.2)
    ax.set(xlim=(low[0], high[0]), ylim=(low[1], high[1]), xlabel="embedding dimension 1",
           ylabel="embedding dimension 2")  # fmt: skip
    ax.grid(False)
    fig.suptitle(
        f"ProtoNet ({ways}-way {shots}-shot): the query takes the class of its nearest prototype\n"
        f"(here class {nearest + 1}, distance {distances[nearest]:.2f}); shading: each prototype's region",
        fontsize=10,
    )
    return fig
