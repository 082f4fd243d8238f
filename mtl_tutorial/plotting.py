"""One figure style for the whole book, and the plots chapters share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ._checks import check_int
from .evaluation import MeanCI
from .tasks import Episode

# Colour-blind-safe palette (Okabe & Ito); each method keeps its colour across chapters.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
METHOD_COLORS = {
    "from scratch": "#7f7f7f",
    "scratch": "#7f7f7f",
    "fine-tuned (pretrained)": "#E69F00",
    "pretrained": "#E69F00",
    "MAML": "#0072B2",
    "maml": "#0072B2",
    "first-order MAML": "#56B4E9",
    "fomaml": "#56B4E9",
    "metasgd": "#009E73",
    "anil": "#CC79A7",
    "reptile": "#D55E00",
    "film": "#000000",
    "protonet": "#332288",
    "centroid": "#999933",
    "linear_probe": "#882255",
    "ridge_probe": "#882255",  # the sinusoids' probe: never in a figure with linear_probe
    "baseline_pp": "#44AA99",
    "finetune": "#AA4499",
    "l2sp": "#DDCC77",
}

BOOK_STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.prop_cycle": plt.cycler(color=PALETTE),
    "font.size": 10,
    "legend.frameon": False,
}


def use_book_style() -> None:
    """Apply the book's matplotlib style to every figure that follows."""
    plt.rcParams.update(BOOK_STYLE)


def color_of(method: str, index: int = 0) -> str:
    """The colour a method is drawn in everywhere in the book."""
    return METHOD_COLORS.get(method, PALETTE[index % len(PALETTE)])


def plot_sinusoid_fits(
    task: Episode, curve: tuple[torch.Tensor, torch.Tensor], fits: Mapping[str, Mapping[int, torch.Tensor]]
) -> Figure:
    """One panel per learner: a task's true function, its support points, and the learner's fit
    after each number of adaptation steps.

    Args:
        task: the task (an episode of one task); its support points are drawn.
        curve: ``(x, y)``, the true function on a grid, both of shape ``(points,)``
            (:meth:`~mtl_tutorial.tasks.SinusoidTasks.curve`, its ``y`` of the one task).
        fits: ``{name: {steps: predictions at x}}``, as
            :func:`~mtl_tutorial.evaluation.fits_after_steps` returns them; the last step count of
            each learner is drawn solid, the others dashed.
    """
    if not fits:
        raise ValueError("fits must hold the fits of at least one learner, got none")
    x, y_true = curve
    steps = list(next(iter(fits.values())))
    fig, axes = plt.subplots(1, len(fits), figsize=(3.6 * len(fits), 3.2), sharey=True, squeeze=False)
    for i, (ax, (name, by_steps)) in enumerate(zip(axes[0], fits.items(), strict=True)):
        ax.plot(x, y_true, color="black", lw=1.5)
        for j, (s, fit) in enumerate(by_steps.items()):
            if fit.shape != x.shape:
                raise ValueError(f"fits[{name!r}][{s}] must have the shape {tuple(x.shape)} of x, "
                                 f"got {tuple(fit.shape)}")  # fmt: skip
            style = "-" if j == len(by_steps) - 1 else "--"
            ax.plot(x, fit, style, color=color_of(name, i), lw=2)
        ax.scatter(
            task.support_x.view(-1), task.support_y.view(-1), color="black", zorder=3, s=30, marker="^"
        )
        ax.set_title(name)
        ax.set_xlabel("x")
    axes[0, 0].set_ylabel("y")
    # one legend for all panels, in neutral colours: line style says the step count
    handles = [Line2D([], [], color="black", lw=1.5, label="true function")]
    handles += [
        Line2D(
            [],
            [],
            color="0.45",
            lw=2,
            ls="-" if j == len(steps) - 1 else "--",
            label=f"fit after {s} step{'s' if s != 1 else ''}",
        )
        for j, s in enumerate(steps)
    ]
    handles.append(
        Line2D(
            [], [], color="black", marker="^", ls="", label=f"K = {task.support_x.shape[1]} support points"
        )
    )
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def _check_task(episode: Episode, task: int) -> int:
    """Return ``task`` if it indexes a task of ``episode``; raise ``ValueError`` otherwise."""
    check_int("task", task, minimum=0)
    if task >= episode.num_tasks:
        raise ValueError(
            f"task must be below the episode's {episode.num_tasks} tasks, got {task}; "
            f"pick a task in 0 … {episode.num_tasks - 1}"
        )
    return task


def plot_episode(
    episode: Episode,
    task: int = 0,
    *,
    curve: tuple[torch.Tensor, torch.Tensor] | None = None,
    ax: plt.Axes | None = None,
    title: str | None = None,
) -> Figure:
    """One regression task of ``episode``: its support points (black triangles) and its query
    points (open circles), with the task's true function if ``curve`` gives it.

    Args:
        episode: a regression episode with one-dimensional inputs and targets (sinusoids).
        task: which task of the batch to draw (default 0, the first).
        curve: ``(x, y)``, the true function on a grid, both of shape ``(points,)``; for a
            sinusoid, ``SinusoidTasks.curve(episode[task])`` with its ``y`` squeezed to one row.
            Default ``None``: no curve.
        ax: the axes to draw on (default: a new figure of its own).
        title: the axes' title (default: none).

    Returns:
        The figure drawn on.

    Raises:
        ValueError: for a classification episode, inputs or targets that are not one number per
            point, a task index out of range, or a curve whose ``x`` and ``y`` differ in length.
    """
    if episode.is_classification:
        raise ValueError(
            "plot_episode draws regression tasks; for an N-way K-shot image episode use plot_image_episode"
        )
    for name in ("support_x", "support_y"):
        shape = tuple(getattr(episode, name).shape[2:])
        if shape not in ((), (1,)):
            raise ValueError(
                f"plot_episode needs one number per point, but {name} has shape {shape} per point"
            )
    _check_task(episode, task)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 3), layout="constrained")
    else:
        fig = ax.figure
    if curve is not None:
        x, y = (torch.as_tensor(v).detach().cpu().reshape(-1) for v in curve)
        if x.numel() != y.numel():
            raise ValueError(f"curve's x and y must have the same length, got {x.numel()} and {y.numel()}")
        ax.plot(x, y, color="black", lw=1.2, label="true function")
    qx, qy = (t[task].detach().cpu().reshape(-1) for t in (episode.query_x, episode.query_y))
    sx, sy = (t[task].detach().cpu().reshape(-1) for t in (episode.support_x, episode.support_y))
    ax.scatter(
        qx, qy, facecolors="none", edgecolors=PALETTE[0], s=22, label=f"query set ({qx.numel()} points)"
    )
    ax.scatter(sx, sy, color="black", marker="^", s=45, zorder=3, label=f"support set (K = {sx.numel()})")
    ax.set(xlabel="x", ylabel="y")
    if title is not None:
        ax.set_title(title)
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def plot_image_episode(
    episode: Episode,
    task: int = 0,
    *,
    max_queries: int = 5,
    class_names: Sequence[str] | None = None,
) -> Figure:
    """One N-way K-shot image task of ``episode``, one row per class: its support images on the
    left and up to ``max_queries`` of its query images on the right.

    Args:
        episode: a classification episode whose inputs are images ``(channels, height, width)``
            with 1 (grey) or 3 (colour) channels and pixels in ``[0, 1]``.
        task: which task of the batch to draw (default 0, the first).
        max_queries: query images shown per class (default 5).
        class_names: a label for each of the episode's classes, in label order (default
            ``"class 0"``, ``"class 1"``, …).

    Returns:
        The figure: a column of class names, then ``ways × (shots + shown queries)`` image axes
        with an empty spacer column between the support and the query images.

    Raises:
        ValueError: for a regression episode, inputs that are not images, a task index out of
            range, ``max_queries`` below 1, or ``class_names`` of the wrong length.
    """
    if not episode.is_classification:
        raise ValueError("plot_image_episode draws classification episodes; for regression use plot_episode")
    image_shape = tuple(episode.support_x.shape[2:])
    if len(image_shape) != 3 or image_shape[0] not in (1, 3):
        raise ValueError(
            f"plot_image_episode needs images of shape (1 or 3 channels, height, width), got {image_shape}"
        )
    _check_task(episode, task)
    check_int("max_queries", max_queries, minimum=1)
    ways = episode.num_ways
    names = [f"class {c}" for c in range(ways)] if class_names is None else list(class_names)
    if len(names) != ways:
        raise ValueError(f"class_names must name each of the {ways} classes, got {len(names)} names")

    def per_class(x: torch.Tensor, y: torch.Tensor, limit: int | None) -> list[torch.Tensor]:
        x, y = x[task].detach().cpu(), y[task].detach().cpu()
        return [x[y == c][:limit] for c in range(ways)]

    supports = per_class(episode.support_x, episode.support_y, None)
    queries = per_class(episode.query_x, episode.query_y, max_queries)
    shots = max(len(s) for s in supports)
    shown = max(len(q) for q in queries)
    # columns: the class names, the support images, an empty spacer, the query images
    first_query = 1 + shots + 1
    columns = first_query + shown
    label_width = max(0.6, 0.075 * max(len(n) for n in names))  # inches, for the longest name
    ratios = [label_width / 0.75] + [1] * shots + [0.3] + [1] * shown
    fig, axes = plt.subplots(
        ways, columns, figsize=(0.75 * sum(ratios), 0.8 * ways + 0.4), squeeze=False,
        gridspec_kw={"width_ratios": ratios},
    )  # fmt: skip
    for row in range(ways):
        for col in range(columns):
            axes[row, col].set_axis_off()
        axes[row, 0].text(0.95, 0.5, names[row], transform=axes[row, 0].transAxes, ha="right", va="center")
        cells = [(1 + col, img) for col, img in enumerate(supports[row])]
        cells += [(first_query + col, img) for col, img in enumerate(queries[row])]
        for col, image in cells:
            pixels = image.permute(1, 2, 0).squeeze(-1).clamp(0, 1).numpy()
            axes[row, col].imshow(pixels, cmap="gray_r" if image.shape[0] == 1 else None, vmin=0, vmax=1)
    axes[0, 1].set_title("support", loc="left")
    axes[0, first_query].set_title("query", loc="left")
    fig.subplots_adjust(left=0.02, right=0.98, wspace=0.08, hspace=0.08)
    return fig


def plot_accuracy_bars(accuracy: Mapping[int, Mapping[str, MeanCI]]) -> Figure:
    """Horizontal bars of query accuracy with 95% intervals, one panel per number of shots.

    ``accuracy`` maps a number of shots to ``{method: mean_ci(per-episode accuracies)}``; the
    first panel's order of methods sets the order of the bars in every panel.
    """
    if not accuracy or not all(accuracy.values()):
        raise ValueError(f"need at least one number of shots, each with a method, got {dict(accuracy)!r}")
    methods = list(next(iter(accuracy.values())))
    fig, axes = plt.subplots(1, len(accuracy), figsize=(5 * len(accuracy), 0.45 * len(methods) + 1.6),
                             sharey=True, squeeze=False)  # fmt: skip
    for ax, (k, by_method) in zip(axes[0], accuracy.items(), strict=True):
        missing = [m for m in methods if m not in by_method]
        if missing:
            raise ValueError(f"no accuracy for methods {missing} with {k} shots")
        mine = [by_method[m] for m in methods]
        ax.barh(
            range(len(mine)),
            [a.mean for a in mine],
            xerr=[a.ci95 for a in mine],
            color=[color_of(m, i) for i, m in enumerate(methods)],
            capsize=3,
        )
        ax.set(title=f"{k}-shot", xlabel="query accuracy (95% CI)", xlim=(0, 1))
        ax.set_yticks(range(len(mine)), methods)
        ax.invert_yaxis()  # first method on top, as in the table
    fig.tight_layout()
    return fig
