"""Model-Agnostic Meta-Learning (Finn, Abbeel & Levine 2017), vectorised over tasks where that is faster."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .._checks import check_int, check_positive_float
from ..adaptation import (
    LossFn,
    apply_params,
    loops_over_tasks,
    map_tasks,
    runs_in_threads,
    sgd_adapt,
    task_loss,
)
from ..learner import GradientLearner, check_ways
from ..task_threads import map_in_threads, task_workers
from ..tasks import Episode


class MAML(GradientLearner):
    """Meta-learn an initialisation from which a few gradient steps fit a new task.

    Each meta-training iteration samples a meta-batch of tasks, adapts the shared
    initialisation θ to each task's support set with ``inner_steps`` steps of size ``inner_lr``,
    and moves θ with Adam (``outer_lr``) to lower the mean query loss of the adapted parameters.
    The inner loop is differentiated through (second order) unless ``first_order=True``.

    Args:
        model: the network whose initial parameters are meta-learned.
        inner_lr: inner-loop step size α, used in training and adaptation (default 0.01).
        inner_steps: inner steps during meta-training (default 1, as in the paper).
        adapt_steps: inner steps at test time, when not given to :meth:`adapt` (default 10).
        first_order: drop second-order terms (first-order MAML) (default False).
        outer_lr: Adam's learning rate for the meta-update (default 1e-3).
        loss_fn: per-task loss (default: cross-entropy for labels, else mean squared error).
        device: where to train (default: the model's device).
        compile: run meta-training through ``torch.compile`` (default False): a one-off
            compilation of tens of seconds, then faster iterations; needs a C++ compiler on CPU.
            Not for convolutional networks (``ValueError``): see ``loop_over_tasks``.
        multi_step_loss: meta-train on the query losses after each of the ``inner_steps``
            inner steps, not only after the last (default False): the multi-step loss of MAML++
            (Antoniou et al. 2019). ``True`` weighs the steps equally; a sequence of
            ``inner_steps`` non-negative weights (normalised to sum to 1) weighs them as given.
            Training then penalises initialisations from which further steps overshoot.
        accumulate_per_task: in :meth:`training_step`, take each task's meta-gradient as soon
            as its query loss is computed, and sum them. The meta-gradient is the same, up to
            rounding; peak memory holds the inner-loop graphs of the tasks in progress (one per
            CPU thread: :mod:`mtl_tutorial.task_threads`) instead of the whole meta-batch's, so
            it no longer grows with the meta-batch. Default ``None``: for networks whose tasks
            run in a loop (convolutional ones: ``loop_over_tasks``), where it is faster and at
            meta-batch 16 needs a fraction of the memory (benchmarks/image_throughput.py); not
            under ``vmap``, which batches the tasks' backward passes.

    Raises:
        ValueError: for a learning rate that is not > 0, a step count below 0, or
            ``compile=True`` with a convolutional network.
    """

    name = "maml"

    def __init__(
        self,
        model: nn.Module,
        *,
        inner_lr: float = 0.01,
        inner_steps: int = 1,
        adapt_steps: int = 10,
        first_order: bool = False,
        outer_lr: float = 1e-3,
        loss_fn: LossFn = task_loss,
        device: str | torch.device | None = None,
        compile: bool = False,
        multi_step_loss: bool | Sequence[float] = False,
        accumulate_per_task: bool | None = None,
    ) -> None:
        inner_lr = check_positive_float("inner_lr", inner_lr)  # named as the caller knows it
        outer_lr = check_positive_float("outer_lr", outer_lr)
        super().__init__(
            model, adapt_lr=inner_lr, adapt_steps=adapt_steps, lr=outer_lr, loss_fn=loss_fn, device=device
        )
        self.inner_steps = check_int("inner_steps", inner_steps, minimum=0)
        self.first_order = bool(first_order)
        #: Weights of the query losses after each inner step, or None: the last step's only.
        self.step_weights = _step_weights(multi_step_loss, self.inner_steps)
        if self.first_order:
            self.name = "fomaml"
        #: Whether meta-training runs the tasks of a batch one after another instead of under
        #: ``vmap``: for convolutional networks, faster on the CPU.
        self.loop_over_tasks = loops_over_tasks(self.model)
        if compile and self.loop_over_tasks:
            # torch 2.13 compiles a loop of torch.func.grad calls into a wrong meta-gradient (off
            # by a factor of thousands); compiled, the vmap path was slower than the eager loop
            # on the glyph Conv-4 and off by up to 2e-3 (benchmarks/image_throughput.py).
            raise ValueError(
                "compile=True is for networks without convolutions: for convolutional networks "
                "MAML loops over the tasks, which torch.compile does not yet differentiate correctly"
            )
        # torch.compile traces the whole inner and outer computation once (tens of seconds),
        # then runs each iteration about 1.5x faster: worth it for long runs only.
        self.compile = bool(compile)
        self._compiled_task_losses = torch.compile(self._task_losses) if self.compile else None
        self.accumulate_per_task = (
            self.loop_over_tasks if accumulate_per_task is None else bool(accumulate_per_task)
        )

    @property
    def inner_lr(self) -> float:
        """Inner-loop step size α (the same one :meth:`adapt` uses)."""
        return self.adapt_lr

    @property
    def outer_lr(self) -> float:
        """Adam's learning rate for the meta-update."""
        return self.lr

    def meta_loss(self, episode: Episode) -> torch.Tensor:
        """Mean query loss after adapting to each support set: the outer objective.

        Differentiable with respect to the model's parameters (and Meta-SGD's step sizes); its
        gradient is the meta-gradient, second or first order as configured.
        """
        episode = episode.to(self.device)
        params = self.initial_params()
        if episode.is_classification:  # one tiny forward pass to check the output width
            check_ways(apply_params(self.model, params, episode.query_x[:1, 0]).unsqueeze(0), episode)
        task_losses = self._compiled_task_losses or self._task_losses
        losses = task_losses(params, episode.support_x, episode.support_y, episode.query_x, episode.query_y)
        return losses.mean()

    def _task_losses(self, params, support_x, support_y, query_x, query_y) -> torch.Tensor:
        """Query loss of each task after its inner loop. Adaptation and query loss are mapped
        over the tasks together (one ``vmap`` costs fewer batching passes than two), or looped over
        when ``loop_over_tasks`` (see :func:`~mtl_tutorial.adaptation.loops_over_tasks`)."""
        kwargs = self.adaptation_kwargs()

        def one_task(sx, sy, qx, qy):
            if self.step_weights is not None:  # the query loss after every step
                adapted, loss = params, 0.0
                for weight in self.step_weights:
                    adapted = sgd_adapt(self.model, adapted, sx, sy, steps=1, loss_fn=self.loss_fn,
                                        first_order=self.first_order, **kwargs)  # fmt: skip
                    if weight:
                        loss = loss + weight * self.loss_fn(apply_params(self.model, adapted, qx), qy)
                return loss
            adapted = sgd_adapt(
                self.model, params, sx, sy, steps=self.inner_steps, loss_fn=self.loss_fn,
                first_order=self.first_order, **kwargs,
            )  # fmt: skip
            return self.loss_fn(apply_params(self.model, adapted, qx), qy)

        return map_tasks(one_task, support_x, support_y, query_x, query_y, loop=self.loop_over_tasks,
                         threads=runs_in_threads(self.model))  # fmt: skip

    training_loss = meta_loss

    def training_computation(self, episode: Episode) -> float:
        """The meta-gradient of a batch of tasks, at once or task by task (see
        ``accumulate_per_task``); returns the meta-loss."""
        if not self.accumulate_per_task:
            return super().training_computation(episode)
        episode = episode.to(self.device)
        tasks = episode.num_tasks
        optimized = [p for group in self.optimizer.param_groups for p in group["params"]]

        def task_gradient(t: int) -> tuple[float, tuple[torch.Tensor | None, ...]]:
            # each task's graph is freed once its gradient is taken
            loss = self.meta_loss(episode[t : t + 1]) / tasks
            return loss.item(), torch.autograd.grad(loss, optimized, allow_unused=True)

        # the tasks side by side on the CPU's cores; summed in task order, as one by one
        workers = task_workers(tasks, self.device) if runs_in_threads(self.model) else 1
        results = map_in_threads(task_gradient, tasks, workers=workers)
        for i, p in enumerate(optimized):
            grads = [g[i] for _, g in results if g[i] is not None]
            if grads:
                total = grads[0].clone()
                for g in grads[1:]:
                    total += g
                p.grad = total if p.grad is None else p.grad + total
        return sum(loss for loss, _ in results)

    def config(self) -> dict[str, Any]:
        out = {**super().config(), "inner_steps": self.inner_steps, "first_order": self.first_order}
        if self.step_weights is not None:  # only when set, so checkpoints of earlier runs resume
            equal = len(set(self.step_weights)) == 1
            out["multi_step_loss"] = True if equal else list(self.step_weights)
        return out

    @property
    def multi_step_loss(self) -> bool:
        """Whether meta-training weighs the query losses after every inner step."""
        return self.step_weights is not None


def _step_weights(multi_step_loss: bool | Sequence[float], inner_steps: int) -> tuple[float, ...] | None:
    """The normalised per-step weights that ``MAML(multi_step_loss=...)`` asks for, or None."""
    if isinstance(multi_step_loss, bool):
        return (1.0 / inner_steps,) * inner_steps if multi_step_loss and inner_steps > 1 else None
    weights = [float(w) for w in multi_step_loss]
    if len(weights) != inner_steps or any(not w >= 0 for w in weights) or not sum(weights) > 0:
        raise ValueError(
            f"multi_step_loss must be a bool or {inner_steps} non-negative weights (one per inner "
            f"step) that do not all vanish, got {list(multi_step_loss)}"
        )
    if weights[-1] == 0:  # the steps after the last weighted one would only cost time
        raise ValueError(f"the last inner step's weight must be > 0, got {weights}")
    total = sum(weights)
    return tuple(w / total for w in weights)
