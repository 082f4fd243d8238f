"""The figure of transfer learning and meta-learning as two pipelines side by side."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ._drawing import (
    _GREY,
    _INK,
    MAML_COLOR,
    PRETRAINED_COLOR,
    _arrow,
    _book_figure,
    _box,
    _diagram_axes,
    _path_arrow,
)

# each pipeline: its title, its colour, its five stages (the second and fourth in its colour), what it learns
_PIPELINES = (
    ("Transfer learning", PRETRAINED_COLOR,
     ("source data\n(many classes)", "pretrain one network", "target task: support set",
      "fine-tune or fit a head", "predict queries"),
     "learns: weights\n(features of the source data)"),
    ("Meta-learning", MAML_COLOR,
     ("many training tasks\n(episodes)", "meta-train: inner loop per task,\nouter loop across tasks",
      "new task: support set", "adapt\n(a few steps / prototypes)", "predict queries"),
     "learns: how to adapt\n(an initialisation, a metric,\nstep sizes)"),
)  # fmt: skip


@_book_figure
def plot_transfer_vs_meta() -> Figure:
    """Transfer learning and meta-learning as two pipelines side by side.

    Transfer: source data (many classes) → pretrain one network → target task: support set →
    fine-tune or fit a head → predict queries. Meta-learning: many training tasks (episodes) →
    meta-train (an inner loop per task, an outer loop across tasks) → new task: support set →
    adapt (a few steps, or prototypes) → predict queries. Below each, what it learns: weights, or
    how to adapt (an initialisation, a metric, step sizes). A bracket marks the training stages
    and the stages on the new task.

    Returns:
        The figure. Its stage boxes have ``gid`` ``"stage"`` (five per pipeline), the boxes of
        what each learns ``"learns"``.
    """
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 6.4), layout="constrained")
    width, height, pitch = 3.4, 0.8, 1.25
    for ax, (title, color, stages, learns) in zip(axes, _PIPELINES, strict=True):
        _diagram_axes(ax)
        ys = [-i * pitch for i in range(len(stages))]
        for i, (y, text) in enumerate(zip(ys, stages, strict=True)):
            stage_color = color if i in (1, 3) else _GREY
            _box(ax, (0.0, y), text, width=width, height=height, color=stage_color, gid="stage", fontsize=9.5)
            if i:
                _arrow(ax, (0.0, ys[i - 1] - height / 2), (0.0, y + height / 2), color=_INK, gid="flow")
        y_learns = ys[-1] - 1.3 * pitch
        _box(ax, (0.0, y_learns), learns, width=width, height=1.05, color=color, gid="learns", fontsize=9.5,
             dashed=True)  # fmt: skip
        side = width / 2 + 0.3
        _path_arrow(ax, [(width / 2, ys[1]), (side, ys[1]), (side, y_learns), (width / 2 + 0.02, y_learns)],
                    color=color, gid="learned", linewidth=1.2, linestyle=":")  # fmt: skip
        for (first, last), phase in (((0, 1), "training"), ((2, 4), "on the new task")):
            top, bottom = ys[first] + height / 2, ys[last] - height / 2
            x = -width / 2 - 0.2
            ax.plot([x + 0.1, x, x, x + 0.1], [top, top, bottom, bottom], color=_GREY, lw=1.0)
            ax.text(x - 0.1, (top + bottom) / 2, phase, rotation=90, ha="right", va="center", fontsize=8.5,
                    color=_GREY)  # fmt: skip
        ax.set_xlim(-width / 2 - 0.75, width / 2 + 0.5)
        ax.set_ylim(y_learns - 0.8, height / 2 + 0.2)
        ax.set_title(title, color=color, fontsize=12, fontweight="bold")
    fig.suptitle(
        "Transfer learns weights to reuse; meta-learning learns how to adapt to a new task", fontsize=11
    )
    return fig
