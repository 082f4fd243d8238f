"""Gradient-descent adaptation of a network's parameters to one task, written with torch.func.

The functions here act on one task; :func:`map_tasks` applies them to every task of a batch, with
``vmap`` or a loop (see :func:`loops_over_tasks`). The network itself is never copied: its
parameters travel as a ``{name: tensor}`` dictionary and are applied with
:func:`torch.func.functional_call`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call, grad

from .task_threads import map_in_threads, task_workers

Params = dict[str, Tensor]
LossFn = Callable[[Tensor, Tensor], Tensor]


def mse_loss(prediction: Tensor, target: Tensor) -> Tensor:
    """Mean squared error over all points of one task."""
    return F.mse_loss(prediction, target)  # one fused op: cheaper to differentiate twice


def task_loss(prediction: Tensor, target: Tensor) -> Tensor:
    """The default loss of one task: cross-entropy for integer labels, else mean squared error.

    For classification, ``prediction`` holds logits of shape ``(points, ways)`` and ``target``
    labels of shape ``(points,)``.
    """
    if target.is_floating_point():
        return mse_loss(prediction, target)
    return F.cross_entropy(prediction.reshape(-1, prediction.shape[-1]), target.reshape(-1))


def apply_params(model: nn.Module, params: Params, x: Tensor) -> Tensor:
    """``model(x)`` computed with ``params`` instead of the model's own parameters.

    Uses the model's ``functional_forward(params, x)`` when it has one (a hand-written forward
    skips :func:`~torch.func.functional_call`'s module re-parametrisation, which dominates the
    cost of small networks), and ``functional_call`` otherwise.
    """
    forward = getattr(model, "functional_forward", None)
    if forward is not None:
        return forward(params, x)
    return functional_call(model, params, (x,))


def sgd_adapt(
    model: nn.Module,
    params: Params,
    x: Tensor,
    y: Tensor,
    *,
    steps: int,
    lr: float | Mapping[str, Tensor],
    loss_fn: LossFn = task_loss,
    first_order: bool = False,
    adapted: Collection[str] | None = None,
) -> Params:
    """Take ``steps`` gradient-descent steps on ``loss_fn(model(x), y)``.

    Args:
        lr: one step size, or one tensor of step sizes per adapted parameter (Meta-SGD).
        first_order: detach each step's gradient, dropping the Hessian terms (first-order MAML).
        adapted: names of the parameters to adapt (ANIL adapts only the head); default all.

    The result stays a differentiable function of ``params`` (and of ``lr`` when it holds
    tensors): backpropagating through it gives MAML's second-order meta-gradient.
    """
    names = list(params) if adapted is None else [n for n in params if n in adapted]
    fixed = {n: p for n, p in params.items() if n not in names}

    def support_loss(fast: Params) -> Tensor:
        return loss_fn(apply_params(model, {**fixed, **fast}, x), y)

    fast = {n: params[n] for n in names}
    for _ in range(steps):
        grads = grad(support_loss)(fast)
        if first_order:
            grads = {n: g.detach() for n, g in grads.items()}
        if isinstance(lr, Mapping):
            fast = {n: p - lr[n] * grads[n] for n, p in fast.items()}
        else:  # one op per parameter instead of two
            fast = {n: torch.add(p, grads[n], alpha=-lr) for n, p in fast.items()}
    return {**fixed, **fast}


def loops_over_tasks(model: nn.Module) -> bool:
    """Whether the tasks of a batch should be run one after another rather than under ``vmap``.

    True for networks with convolutions. ``vmap`` over tasks that each carry their own weights
    turns a convolution into a grouped one and GroupNorm into many small element-wise kernels;
    on the CPU that is slower than one task at a time (MAML on the glyph Conv-4: see
    ``benchmarks/image_throughput.py``), while for small MLPs ``vmap`` is many times faster.
    """
    return any(isinstance(m, nn.modules.conv._ConvNd) for m in model.modules())


def runs_in_threads(model: nn.Module) -> bool:
    """Whether tasks that apply ``model`` may run in several threads at once: when it has a
    ``functional_forward``. :func:`~torch.func.functional_call` swaps the module's parameters
    for the call's, so two threads calling it on one module would leave each other's weights in
    it."""
    return callable(getattr(model, "functional_forward", None))


def map_tasks(fn: Callable[..., Any], *batched: Any, loop: bool, threads: bool = False) -> Any:
    """``fn`` applied to each task: every argument carries a leading task dimension (tensors,
    or dictionaries of tensors), and so does the result (a tensor or a dictionary of them).

    ``loop=False`` runs ``torch.vmap(fn)``; ``loop=True`` calls ``fn`` once per task and stacks
    the results; with ``threads=True`` (for an ``fn`` that does not call
    :func:`~torch.func.functional_call` on a shared module: see :func:`runs_in_threads`), on
    several CPU threads where there are cores for them (:mod:`mtl_tutorial.task_threads`). All
    compute the same, up to floating-point rounding.
    """
    if not loop:
        return torch.vmap(fn)(*batched)

    def task(value: Any, t: int) -> Any:
        return {k: v[t] for k, v in value.items()} if isinstance(value, Mapping) else value[t]

    first = batched[0]
    sample = next(iter(first.values())) if isinstance(first, Mapping) else first
    tasks = len(sample)
    workers = task_workers(tasks, sample.device) if threads else 1  # side by side on the cores
    outputs = map_in_threads(lambda t: fn(*(task(value, t) for value in batched)), tasks, workers=workers)
    if isinstance(outputs[0], Mapping):
        return {k: torch.stack([out[k] for out in outputs]) for k in outputs[0]}
    return torch.stack(outputs)


def batched_sgd_adapt(model: nn.Module, params: Params, x: Tensor, y: Tensor, **kwargs) -> Params:
    """:func:`sgd_adapt` for a batch of tasks: ``x`` and ``y`` carry a leading task dimension.

    Keyword arguments are those of :func:`sgd_adapt`. Returns one set of adapted parameters per
    task, each tensor with a leading task dimension.
    """
    if kwargs.get("steps", 0) == 0:
        return {name: p.expand(x.shape[0], *p.shape) for name, p in params.items()}

    def one_task(x_t: Tensor, y_t: Tensor) -> Params:
        return sgd_adapt(model, params, x_t, y_t, **kwargs)

    return map_tasks(one_task, x, y, loop=loops_over_tasks(model), threads=runs_in_threads(model))


def batched_predict(model: nn.Module, params: Params, x: Tensor) -> Tensor:
    """Apply ``model`` with per-task parameters (leading task dimension) to per-task inputs."""
    forward = partial(apply_params, model)
    return map_tasks(forward, params, x, loop=loops_over_tasks(model), threads=runs_in_threads(model))
