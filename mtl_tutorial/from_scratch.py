"""MAML and Prototypical Networks in plain PyTorch, with none of the package's machinery.

Chapter 3 shows this code before it uses the package's learners, and checks (as
``tests/test_from_scratch.py`` does) that it computes the same meta-gradients, the same
predictions and, trained on the same tasks, the same weights as :class:`~mtl_tutorial.MAML` and
:class:`~mtl_tutorial.ProtoNet`. It imports nothing but ``torch``, on purpose: it is what a reader
would write, a few dozen lines, and the reference that the package's faster code must agree with.

Every function takes batches of tasks as tensors shaped ``(tasks, points, features)``; targets
are ``(tasks, points, 1)`` for regression and ``(tasks, points)`` class indices for
classification. There are no input checks: the package's learners have them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call


def maml_adapt(
    model: nn.Module, support_x: Tensor, support_y: Tensor, *, inner_lr: float, steps: int,
    create_graph: bool = False,
) -> dict[str, Tensor]:  # fmt: skip
    """``steps`` gradient steps of size ``inner_lr`` on one task's support MSE, from the model's
    weights; returns the adapted weights by name. With ``create_graph=True`` the steps stay
    differentiable, so a loss at the adapted weights can be backpropagated to the initial ones
    (second-order MAML)."""
    fast = dict(model.named_parameters())
    for _ in range(steps):
        loss = F.mse_loss(functional_call(model, fast, (support_x,)), support_y)
        grads = torch.autograd.grad(loss, list(fast.values()), create_graph=create_graph)
        fast = {name: w - inner_lr * g for (name, w), g in zip(fast.items(), grads, strict=True)}
    return fast


def maml_meta_loss(
    model: nn.Module, support_x: Tensor, support_y: Tensor, query_x: Tensor, query_y: Tensor, *,
    inner_lr: float, inner_steps: int,
) -> Tensor:  # fmt: skip
    """Second-order MAML's meta-loss: the query MSE after ``inner_steps`` differentiable inner
    steps, averaged over the tasks of the batch, one task at a time."""
    losses = []
    for xs, ys, xq, yq in zip(support_x, support_y, query_x, query_y, strict=True):
        fast = maml_adapt(model, xs, ys, inner_lr=inner_lr, steps=inner_steps, create_graph=True)
        losses.append(F.mse_loss(functional_call(model, fast, (xq,)), yq))
    return torch.stack(losses).mean()


def protonet_logits(
    encoder: nn.Module, support_x: Tensor, support_y: Tensor, query_x: Tensor, ways: int
) -> Tensor:
    """Negative squared distances from each query's embedding to each class prototype (the mean
    embedding of the class's support examples), shaped ``(tasks, queries, ways)``."""
    one_hot = F.one_hot(support_y, ways).to(support_x.dtype)  # (tasks, support, ways)
    prototypes = one_hot.transpose(1, 2) @ encoder(support_x) / one_hot.sum(dim=1).unsqueeze(-1)
    return -(encoder(query_x).unsqueeze(2) - prototypes.unsqueeze(1)).pow(2).sum(dim=-1)


def protonet_loss(
    encoder: nn.Module, support_x: Tensor, support_y: Tensor, query_x: Tensor, query_y: Tensor, ways: int
) -> Tensor:
    """Cross-entropy of the query labels under :func:`protonet_logits`, over every query of every task."""
    logits = protonet_logits(encoder, support_x, support_y, query_x, ways)
    return F.cross_entropy(logits.reshape(-1, ways), query_y.reshape(-1))


def train(
    parameters: Iterable[Tensor], loss_of_batch: Callable[..., Tensor], batches: Iterable[tuple], *,
    lr: float = 1e-3,
) -> list[float]:  # fmt: skip
    """One Adam step (rate ``lr``, default 1e-3) on ``loss_of_batch(*batch)`` for each batch;
    returns the losses. The outer loop of both methods."""
    optimizer = torch.optim.Adam(list(parameters), lr=lr)
    losses = []
    for batch in batches:
        optimizer.zero_grad()
        loss = loss_of_batch(*batch)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
