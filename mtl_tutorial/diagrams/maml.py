"""MAML's figures: its two loops as a flow diagram, and its geometry in a plane of two parameters,
with the exact maths of quadratic task losses that the geometry figure draws (:func:`maml_start`,
:func:`average_loss_minimiser`, :func:`one_step`, :func:`task_losses`, :func:`losses_after_one_step`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .._checks import check_int
from ._drawing import (
    _GREY,
    _TASK_COLORS,
    MAML_COLOR,
    PRETRAINED_COLOR,
    _arrow,
    _book_figure,
    _box,
    _check_at_most,
    _diagram_axes,
    _path_arrow,
)

MAX_LOOP_TASKS = 5
MAX_INNER_STEPS = 5
MAX_GEOMETRY_TASKS = len(_TASK_COLORS)
GEOMETRY_STEP = 0.4  # the inner step size of the geometry figure


# --- MAML's two loops -----------------------------------------------------------------------------


@_book_figure
def plot_maml_loops(tasks: int = 3, inner_steps: int = 2) -> Figure:
    """MAML's two loops as a flow diagram.

    At the top the shared initialisation θ. For each task b of a meta-batch (one column each) θ
    is copied to φ_b^(0) and the inner loop takes ``inner_steps`` gradient steps on the task's
    support loss (arrows labelled "∇ support loss"), ending at φ_b. Each φ_b is scored on its
    task's query set; the query losses are summed into the meta-loss, and the outer loop's arrow
    carries the meta-gradient — differentiated through the inner steps — back to θ.

    Args:
        tasks: the tasks of the meta-batch drawn (default 3; 1 … 5).
        inner_steps: the inner-loop gradient steps per task (default 2; 1 … 5).

    Returns:
        The figure. Its inner-step arrows have ``gid`` ``"inner-step"`` (``tasks * inner_steps``
        of them), its query-loss arrows ``"query-loss"``, the outer arrow ``"meta-gradient"``.

    Raises:
        ValueError: for an argument that is not an integer in its range.
    """
    check_int("tasks", tasks, minimum=1)
    check_int("inner_steps", inner_steps, minimum=1)
    _check_at_most("tasks", tasks, MAX_LOOP_TASKS, "more columns say nothing more")
    _check_at_most("inner_steps", inner_steps, MAX_INNER_STEPS, "more steps say nothing more")

    column, row = 3.4, 1.25  # pitch between task columns and between steps
    box_w, box_h = 1.5, 0.62
    xs = [b * column for b in range(tasks)]
    center = (xs[0] + xs[-1]) / 2
    y_theta = 0.0
    y_step = [-(k + 1.1) * row for k in range(inner_steps + 1)]  # φ^(0) … φ^(S)
    y_query = y_step[-1] - 1.3 * row
    y_meta = y_query - 1.3 * row
    meta_w = max(4.6, xs[-1] - xs[0] + box_w)

    fig, ax = plt.subplots(
        figsize=(2.0 + 2.35 * max(tasks, 2), 1.6 + 0.72 * (inner_steps + 4.5)), layout="constrained"
    )
    _diagram_axes(ax)
    theta_w = 2.4
    _box(ax, (center, y_theta), r"initialisation $\theta$", width=theta_w, height=box_h, color=MAML_COLOR,
         gid="theta")  # fmt: skip
    for b, x in enumerate(xs):
        color = _TASK_COLORS[b % len(_TASK_COLORS)]
        ax.text(x, y_step[0] + box_h / 2 + 0.12, f"task {b + 1}", ha="center", va="bottom", fontsize=9,
                color=color, fontweight="bold")  # fmt: skip
        _arrow(ax, (center, y_theta - box_h / 2), (x, y_step[0] + box_h / 2 + 0.45), color=_GREY, gid="copy",
               linewidth=1.0)  # fmt: skip
        for k, y in enumerate(y_step):
            if k == 0:
                text = rf"$\phi_{b + 1}^{{(0)}} = \theta$"
            elif k == inner_steps:
                text = rf"$\phi_{b + 1} = \phi_{b + 1}^{{({k})}}$"
            else:
                text = rf"$\phi_{b + 1}^{{({k})}}$"
            _box(ax, (x, y), text, width=box_w, height=box_h, color=color, gid="phi")
            if k:
                _arrow(ax, (x, y_step[k - 1] - box_h / 2), (x, y + box_h / 2), label=r"$\nabla$ support loss",
                       color=color, gid="inner-step", fontsize=8, label_offset=(0.1, 0.0))  # fmt: skip
        _box(ax, (x, y_query), rf"query loss of $\phi_{b + 1}$", width=box_w + 0.5, height=box_h, color=color,
             gid="query-box", fontsize=9)  # fmt: skip
        _arrow(ax, (x, y_step[-1] - box_h / 2), (x, y_query + box_h / 2), color=color, gid="query-loss",
               label="on the query set", fontsize=8)  # fmt: skip
        _arrow(ax, (x, y_query - box_h / 2), (center + 0.45 * (x - center), y_meta + box_h / 2), color=color,
               gid="to-meta-loss")  # fmt: skip
    _box(ax, (center, y_meta), r"meta-loss $=\ \sum_b$ query loss of $\phi_b$", width=meta_w, height=box_h,
         color=MAML_COLOR, gid="meta-loss")  # fmt: skip
    left = xs[0] - box_w / 2 - 0.9
    _path_arrow(
        ax,
        [(center - meta_w / 2, y_meta), (left, y_meta), (left, y_theta), (center - theta_w / 2, y_theta)],
        color=MAML_COLOR,
        gid="meta-gradient",
    )
    ax.text(left - 0.15, (y_meta + y_theta) / 2, "outer loop: meta-gradient\n(through the inner steps)",
            rotation=90, ha="right", va="center", fontsize=9, color=MAML_COLOR)  # fmt: skip
    ax.text(xs[-1] + box_w / 2 + 1.25, (y_step[0] + y_step[-1]) / 2, "inner loop\n(per task)", rotation=270,
            ha="left", va="center", fontsize=9, color=_GREY)  # fmt: skip
    ax.set_xlim(left - 0.9, xs[-1] + box_w / 2 + 1.9)
    ax.set_ylim(y_meta - box_h, y_theta + box_h)
    fig.suptitle(
        f"MAML's two loops: {inner_steps} inner step{'s' if inner_steps > 1 else ''} per task adapt θ to "
        "each task;\nthe outer loop moves θ so that the adapted φ's do well on their queries",
        fontsize=10,
    )
    return fig


# --- the maths of MAML's geometry: quadratic task losses ----------------------------------------


def _check_quadratics(
    optima: np.ndarray, curvatures: np.ndarray, step: float
) -> tuple[np.ndarray, np.ndarray]:
    optima = np.asarray(optima, dtype=float)
    curvatures = np.asarray(curvatures, dtype=float)
    if optima.ndim != 2 or optima.shape[0] < 1:
        raise ValueError(f"optima must have shape (tasks, dims), got {optima.shape}")
    tasks, dims = optima.shape
    if curvatures.shape != (tasks, dims, dims):
        raise ValueError(
            f"curvatures must have shape {(tasks, dims, dims)} for optima {optima.shape}, "
            f"got {curvatures.shape}"
        )
    symmetric = np.allclose(curvatures, curvatures.transpose(0, 2, 1))
    if not symmetric or np.linalg.eigvalsh(curvatures).min() <= 0:
        raise ValueError("curvatures must be symmetric positive-definite matrices")
    if isinstance(step, bool) or not isinstance(step, (int, float)) or not np.isfinite(step) or step <= 0:
        raise ValueError(f"step must be a finite number > 0, got {step!r}")
    return optima, curvatures


def task_losses(theta: np.ndarray, optima: np.ndarray, curvatures: np.ndarray) -> np.ndarray:
    """Each task's loss ``½ (θ − θ*_b)ᵀ A_b (θ − θ*_b)`` at ``theta``; shape ``(tasks,)``.

    ``theta`` has shape ``(dims,)``, ``optima`` ``(tasks, dims)``, ``curvatures`` (the ``A_b``)
    ``(tasks, dims, dims)``.
    """
    delta = np.asarray(theta, dtype=float)[None, :] - np.asarray(optima, dtype=float)
    return 0.5 * np.einsum("bi,bij,bj->b", delta, curvatures, delta)


def one_step(theta: np.ndarray, optima: np.ndarray, curvatures: np.ndarray, step: float) -> np.ndarray:
    """Where one gradient step of size ``step`` on each task's loss takes ``theta``:
    ``φ_b = θ − step · A_b (θ − θ*_b)``; shape ``(tasks, dims)``."""
    delta = np.asarray(theta, dtype=float)[None, :] - np.asarray(optima, dtype=float)
    return theta[None, :] - step * np.einsum("bij,bj->bi", curvatures, delta)


def losses_after_one_step(
    theta: np.ndarray, optima: np.ndarray, curvatures: np.ndarray, step: float
) -> np.ndarray:
    """Each task's loss at its own one-step adaptation of ``theta``, ``L_b(φ_b)`` (:func:`one_step`);
    shape ``(tasks,)``. Their mean is what :func:`maml_start` minimises."""
    delta = one_step(theta, optima, curvatures, step) - np.asarray(optima, dtype=float)
    return 0.5 * np.einsum("bi,bij,bj->b", delta, curvatures, delta)


def average_loss_minimiser(optima: np.ndarray, curvatures: np.ndarray) -> np.ndarray:
    """The point that minimises the tasks' average loss — joint training's (the pretrained) solution,
    ``(Σ_b A_b)⁻¹ Σ_b A_b θ*_b``; shape ``(dims,)``."""
    optima, curvatures = _check_quadratics(optima, curvatures, 1.0)
    return np.linalg.solve(curvatures.sum(0), np.einsum("bij,bj->i", curvatures, optima))


def maml_start(optima: np.ndarray, curvatures: np.ndarray, step: float) -> np.ndarray:
    """MAML's meta-learned start for quadratic task losses: the ``θ`` that minimises the average
    loss *after* one gradient step of size ``step`` on each task's own loss.

    Task ``b``'s loss is ``L_b(θ) = ½ (θ − θ*_b)ᵀ A_b (θ − θ*_b)``. One step takes ``θ`` to
    ``φ_b = θ − step · A_b (θ − θ*_b)``, so ``φ_b − θ*_b = (I − step · A_b)(θ − θ*_b)`` and
    ``L_b(φ_b) = ½ (θ − θ*_b)ᵀ M_b (θ − θ*_b)`` with ``M_b = (I − step A_b) A_b (I − step A_b)``.
    MAML's objective ``mean_b L_b(φ_b)`` is therefore a quadratic in ``θ`` and its minimiser is
    exact: ``θ = (Σ_b M_b)⁻¹ Σ_b M_b θ*_b``. Unlike the average-loss minimiser
    (:func:`average_loss_minimiser`), it weighs a task by how far one step *cannot* take it.

    Args:
        optima: the tasks' optima ``θ*_b``, shape ``(tasks, dims)``.
        curvatures: the tasks' curvatures ``A_b``, symmetric positive-definite, shape
            ``(tasks, dims, dims)``.
        step: the inner step size (a finite number > 0; below ``1 / max eigenvalue`` a step
            never overshoots).

    Returns:
        The start ``θ``, shape ``(dims,)``.

    Raises:
        ValueError: for shapes that do not match, curvatures that are not positive-definite, a
            step that is not a positive number, or a step that takes every task exactly to its
            optimum along some direction (then every start there is equally good).
    """
    optima, curvatures = _check_quadratics(optima, curvatures, step)
    eye = np.eye(optima.shape[1])
    shrink = eye[None] - step * curvatures
    weights = shrink @ curvatures @ shrink  # M_b
    total = weights.sum(0)
    if np.linalg.eigvalsh(total).min() <= 1e-12 * np.abs(total).max():
        raise ValueError(
            "with this step, one step reaches every task's optimum along some direction, "
            "so MAML's start is not unique; pick another step"
        )
    return np.linalg.solve(total, np.einsum("bij,bj->i", weights, optima))


# --- MAML's geometry ------------------------------------------------------------------------------


def _geometry_tasks(seed: int, tasks: int) -> tuple[np.ndarray, np.ndarray]:
    """The geometry figure's tasks, drawn from ``seed``: optima at least 1.6 apart in
    ``[-2.2, 2.2]²``, and curvatures with eigenvalues in ``[0.3, 2.2]`` along random axes."""
    rng = np.random.default_rng(seed)
    optima: list[np.ndarray] = []
    while len(optima) < tasks:
        point = rng.uniform(-2.2, 2.2, size=2)
        if all(np.linalg.norm(point - other) >= 1.6 for other in optima):
            optima.append(point)
    curvatures = []
    for _ in range(tasks):
        angle = rng.uniform(0.0, np.pi)
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        curvatures.append(rotation @ np.diag(rng.uniform(0.3, 2.2, size=2)) @ rotation.T)
    return np.array(optima), np.array(curvatures)


@_book_figure
def plot_maml_geometry(seed: int = 0, tasks: int = 3) -> Figure:
    """MAML's geometry in a two-dimensional parameter plane.

    Each task's loss is a quadratic (contour lines in the task's colour) with its own optimum
    θ*_b (a star) and curvature, both drawn from ``seed``. MAML's start θ (:func:`maml_start`,
    computed exactly, step size :data:`GEOMETRY_STEP`) sits where one gradient step gets close to
    every optimum; an arrow per task shows that step. For contrast, the minimiser of the average
    loss — the joint-training ("pretrained") solution (:func:`average_loss_minimiser`) — with its
    own one steps dotted. The title gives both points' mean loss after one step.

    Args:
        seed: the seed of the tasks' optima and curvatures (default 0).
        tasks: the number of tasks (default 3; 2 … 5).

    Returns:
        The figure. Its optima have ``gid`` ``"optimum"``, MAML's start ``"maml-start"``, the
        average-loss minimiser ``"average-minimiser"``, MAML's steps ``"inner-step"``.

    Raises:
        ValueError: for a seed that is not an integer >= 0 or a number of tasks out of range.
    """
    check_int("seed", seed, minimum=0)
    check_int("tasks", tasks, minimum=2)
    _check_at_most("tasks", tasks, MAX_GEOMETRY_TASKS, "one colour per task")
    optima, curvatures = _geometry_tasks(seed, tasks)
    step = GEOMETRY_STEP
    start = maml_start(optima, curvatures, step)
    joint = average_loss_minimiser(optima, curvatures)
    after_maml = losses_after_one_step(start, optima, curvatures, step)
    after_joint = losses_after_one_step(joint, optima, curvatures, step)

    fig, ax = plt.subplots(figsize=(6.2, 6.4), layout="constrained")
    ax.set_aspect("equal")
    points = np.vstack([optima, start, joint])
    low, high = points.min(0) - 1.3, points.max(0) + 1.3
    gx, gy = np.meshgrid(np.linspace(low[0], high[0], 200), np.linspace(low[1], high[1], 200))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    for b in range(tasks):
        color = _TASK_COLORS[b]
        delta = grid - optima[b]
        loss = 0.5 * np.einsum("ni,ij,nj->n", delta, curvatures[b], delta).reshape(gx.shape)
        ax.contour(gx, gy, loss, levels=[0.1, 0.4, 0.9], colors=[color], linewidths=1.0, alpha=0.7)
        star = ax.scatter(*optima[b], marker="*", s=220, color=color, edgecolors="white", linewidths=0.8,
                          zorder=5)  # fmt: skip
        star.set_gid("optimum")
        away = optima[b] - start
        away = 17 * away / max(float(np.linalg.norm(away)), 1e-9)
        ax.annotate(rf"$\theta^*_{b + 1}$", optima[b], xytext=tuple(away), ha="center", va="center",
                    textcoords="offset points", fontsize=12, color=color, zorder=6)  # fmt: skip
    for origin, gid, style in ((start, "inner-step", "-"), (joint, "joint-step", ":")):
        for b, landing in enumerate(one_step(origin, optima, curvatures, step)):
            _arrow(ax, tuple(origin), tuple(landing), color=_TASK_COLORS[b], gid=gid,
                   linewidth=1.8 if style == "-" else 1.2, linestyle=style)  # fmt: skip
    maml = ax.scatter(*start, s=90, color=MAML_COLOR, edgecolors="white", zorder=6,
                      label=r"MAML's start $\theta$")  # fmt: skip
    maml.set_gid("maml-start")
    pre = ax.scatter(*joint, s=80, marker="s", color=PRETRAINED_COLOR, edgecolors="white", zorder=6,
                     label="average-loss minimiser\n(joint training, 'pretrained')")  # fmt: skip
    pre.set_gid("average-minimiser")
    ax.plot([], [], color=_GREY, lw=1.8, label="one gradient step per task")
    ax.plot([], [], color=_GREY, lw=1.2, ls=":", label="the same steps from the minimiser")
    fig.legend(loc="outside lower center", ncol=2, fontsize=9)
    ax.set(xlim=(low[0], high[0]), ylim=(low[1], high[1]), xlabel=r"parameter $\theta_1$",
           ylabel=r"parameter $\theta_2$")  # fmt: skip
    ax.grid(False)
    fig.suptitle(
        f"MAML's start θ: least mean loss after one gradient step (size {step}) per task\n"
        f"mean loss after the step: {after_maml.mean():.2f} from MAML's start, "
        f"{after_joint.mean():.2f} from the minimiser",
        fontsize=10,
    )
    return fig
