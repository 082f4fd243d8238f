"""One figure style for the whole book, and the plots chapters share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .learner import Learner
from .tasks import Episode, SinusoidTasks

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
    tasks: SinusoidTasks,
    episode: Episode,
    learners: Mapping[str, Learner],
    steps: Sequence[int] = (1, 10),
    *,
    num_points: int = 200,
) -> Figure:
    """One panel per learner: the true function of the first task in ``episode``, its support
    points, and the learner's fit after each number of adaptation steps in ``steps``."""
    if not learners:
        raise ValueError("learners must hold at least one learner, got none")
    task = episode[0]
    x, y_true = tasks.curve(task, num_points)
    grid = x.view(1, -1, 1)
    fig, axes = plt.subplots(1, len(learners), figsize=(3.6 * len(learners), 3.2), sharey=True, squeeze=False)
    for i, (ax, (name, learner)) in enumerate(zip(axes[0], learners.items(), strict=True)):
        ax.plot(x, y_true[0], color="black", lw=1.5)
        for j, s in enumerate(steps):
            adapted = learner.adapt(task, steps=s)
            with torch.no_grad():
                fit = learner.predict(adapted, grid).cpu().view(-1)
            style = "-" if j == len(steps) - 1 else "--"
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
