"""Gradient-descent adaptation of a network's parameters to one task, written with torch.func.

The functions here act on one task; callers ``vmap`` them over the tasks of a batch. The network
itself is never copied: its parameters travel as a ``{name: tensor}`` dictionary and are applied
with :func:`torch.func.functional_call`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.func import functional_call, grad

Params = dict[str, Tensor]
LossFn = Callable[[Tensor, Tensor], Tensor]


def mse_loss(prediction: Tensor, target: Tensor) -> Tensor:
    """Mean squared error over all points of one task."""
    return ((prediction - target) ** 2).mean()


def sgd_adapt(
    model: nn.Module,
    params: Params,
    x: Tensor,
    y: Tensor,
    *,
    steps: int,
    lr: float,
    loss_fn: LossFn = mse_loss,
    first_order: bool = False,
) -> Params:
    """Take ``steps`` gradient-descent steps of size ``lr`` on ``loss_fn(model(x), y)``.

    The result stays a differentiable function of ``params``: backpropagating through it gives
    MAML's second-order meta-gradient. With ``first_order=True`` each step's gradient is
    detached, which drops the Hessian terms (first-order MAML).
    """

    def support_loss(p: Params) -> Tensor:
        return loss_fn(functional_call(model, p, (x,)), y)

    for _ in range(steps):
        grads = grad(support_loss)(params)
        params = {
            name: p - lr * (grads[name].detach() if first_order else grads[name])
            for name, p in params.items()
        }
    return params


def batched_sgd_adapt(
    model: nn.Module,
    params: Params,
    x: Tensor,
    y: Tensor,
    *,
    steps: int,
    lr: float,
    loss_fn: LossFn = mse_loss,
    first_order: bool = False,
) -> Params:
    """:func:`sgd_adapt` for a batch of tasks: ``x`` and ``y`` carry a leading task dimension.

    Returns one set of adapted parameters per task, each tensor with a leading task dimension.
    """

    def one_task(x_t: Tensor, y_t: Tensor) -> Params:
        return sgd_adapt(
            model, params, x_t, y_t, steps=steps, lr=lr, loss_fn=loss_fn, first_order=first_order
        )

    if steps == 0:
        return {name: p.expand(x.shape[0], *p.shape) for name, p in params.items()}
    return torch.vmap(one_task)(x, y)


def batched_predict(model: nn.Module, params: Params, x: Tensor) -> Tensor:
    """Apply ``model`` with per-task parameters (leading task dimension) to per-task inputs."""
    return torch.vmap(lambda p, x_t: functional_call(model, p, (x_t,)))(params, x)
