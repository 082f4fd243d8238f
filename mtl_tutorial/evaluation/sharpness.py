"""Sharpness of the inner problem: the largest eigenvalue of each task's support-loss Hessian.

Gradient descent with step size ``α`` on a loss whose Hessian has largest eigenvalue ``λ`` is
stable near a minimum only while ``α λ < 2``: beyond that, each step overshoots along the top
eigenvector by more than it corrects, and the error grows. Measuring ``λ`` at a meta-learned
initialisation, task by task, against the stability limit ``2 / α`` tells which tasks plain
fine-tuning with the training step size will blow up on.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import torch
from torch import Tensor, nn
from torch.func import grad, vjp, vmap

from .._checks import check_int
from ..adaptation import LossFn, apply_params, task_loss
from ..learner import GradientLearner
from ..tasks.episode import Episode


def _flatten(params: Mapping[str, Tensor]) -> tuple[Tensor, list[tuple[str, torch.Size]]]:
    layout = [(name, p.shape) for name, p in params.items()]
    return torch.cat([p.detach().reshape(-1) for p in params.values()]), layout


def _unflatten(flat: Tensor, layout: list[tuple[str, torch.Size]]) -> dict[str, Tensor]:
    out, start = {}, 0
    for name, shape in layout:
        size = shape.numel()
        out[name] = flat[start : start + size].view(shape)
        start += size
    return out


def support_sharpness(
    model: nn.Module,
    episodes: Episode,
    *,
    params: Mapping[str, Tensor] | None = None,
    adapted: Collection[str] | None = None,
    iterations: int = 50,
    loss_fn: LossFn = task_loss,
    seed: int = 0,
    per_task: bool = False,
) -> Tensor:
    """The largest eigenvalue of the Hessian of each task's support loss, at ``params``.

    Computed by power iteration on Hessian-vector products (reverse-over-reverse,
    :func:`torch.func.vjp` of :func:`torch.func.grad`), all tasks at once with ``vmap``; the
    Hessian itself is never formed. Power iteration finds the eigenvalue of largest magnitude;
    when that one is negative, a second run on the Hessian shifted by it finds the largest
    (positive) one, which is the one that limits gradient descent's step size.

    Args:
        model: the network; its own parameters are used unless ``params`` is given.
        episodes: a batch of tasks; only the support sets are used.
        params: ``{name: tensor}`` to evaluate at (default: ``model``'s parameters).
        adapted: the parameters adaptation changes (ANIL: the head); the Hessian is taken with
            respect to these only, the others held fixed. Default: all.
        iterations: power-iteration steps (default 50; the relative change of the estimate after
            50 steps is below 1e-3 on the book's sinusoid tasks).
        loss_fn: the loss of one task (default: mean squared error for regression targets).
        seed: seed of the random starting vectors.
        per_task: ``params`` holds one set of parameters per task, each tensor with a leading
            task dimension (what :meth:`~mtl_tutorial.learner.GradientLearner.adapt` returns):
            each task's Hessian is taken at its own parameters, e.g. along its fine-tuning path
            (default False: one set shared by all tasks).

    Returns:
        Tensor of shape ``(tasks,)``: the largest eigenvalue of each task's support-loss Hessian.
        Plain gradient descent with step size ``α`` overshoots on the tasks where it exceeds
        ``2 / α``.
    """
    check_int("iterations", iterations, minimum=1)
    if not isinstance(episodes, Episode):
        raise ValueError(f"episodes must be an Episode (a batch of tasks), got {type(episodes).__name__}")
    every = dict(model.named_parameters()) if params is None else dict(params)
    names = list(every) if adapted is None else [n for n in every if n in adapted]
    if not names:
        raise ValueError(f"adapted must name parameters of the model ({sorted(every)}), got {adapted}")
    tasks = episodes.support_x.shape[0]
    if per_task:
        wrong = {n: tuple(p.shape) for n, p in every.items() if p.dim() == 0 or p.shape[0] != tasks}
        if wrong:
            raise ValueError(f"per_task=True needs a leading dimension of {tasks} tasks, got shapes {wrong}")
        every = {n: p.detach() for n, p in every.items()}
        layout = [(n, every[n].shape[1:]) for n in names]
        theta = torch.cat([every[n].reshape(tasks, -1) for n in names], dim=1)
    else:
        theta, layout = _flatten({n: every[n] for n in names})
        theta = theta.expand(tasks, -1)
    fixed = {n: p.detach() for n, p in every.items() if n not in names}
    fixed_per_task = per_task and bool(fixed)  # ANIL's body, one copy per task
    x, y = episodes.support_x.to(theta.device), episodes.support_y.to(theta.device)
    generator = torch.Generator().manual_seed(seed)
    start = torch.randn(tasks, theta.shape[1], generator=generator).to(theta)

    def top_eigenvalue(x: Tensor, y: Tensor, v: Tensor, shift: Tensor, theta: Tensor, held) -> Tensor:
        def loss(flat: Tensor) -> Tensor:
            return loss_fn(apply_params(model, {**held, **_unflatten(flat, layout)}, x), y)

        _, pullback = vjp(grad(loss), theta)  # H is symmetric: the vjp of the gradient is H u

        def hvp(u: Tensor) -> Tensor:  # (H - shift I) u
            return pullback(u)[0] - shift * u

        v = v / v.norm()
        for _ in range(iterations):
            hv = hvp(v)
            v = hv / hv.norm().clamp_min(1e-30)
        return v @ hvp(v) + shift  # the Rayleigh quotient of H

    # fixed parameters are per task (mapped) with per_task, else shared (not mapped)
    run = vmap(top_eigenvalue, in_dims=(0, 0, 0, 0, 0, 0 if fixed_per_task else None))
    largest = run(x, y, start, torch.zeros(tasks).to(theta), theta, fixed)
    negative = largest < 0
    if negative.any():  # the largest |λ| was negative: shift the spectrum so the top one dominates
        shifted = run(x, y, start, torch.where(negative, largest, torch.zeros_like(largest)), theta, fixed)
        largest = torch.where(negative, shifted, largest)
    return largest.detach()


def learner_sharpness(learner: GradientLearner, episodes: Episode, *, iterations: int = 50) -> Tensor | None:
    """:func:`support_sharpness` at a learner's initialisation, with respect to what it adapts.

    For learners that fine-tune with one scalar step size ``α`` (MAML, first-order MAML, ANIL
    — for ANIL the Hessian is the head's; pretrained fine-tuning): each test task's sharpness,
    to set against ``2 / α``. ``None`` for learners with per-parameter step sizes (Meta-SGD),
    whose stability limit is not ``2 / α``.
    """
    adaptation = learner.adaptation_kwargs()
    if not isinstance(adaptation["lr"], float):
        return None
    return support_sharpness(learner.model, episodes, params=learner.initial_params(),
                             adapted=adaptation.get("adapted"), iterations=iterations).cpu()  # fmt: skip
