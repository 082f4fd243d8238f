"""The interface every learner, meta or transfer, implements.

A learner answers three questions:

- :meth:`Learner.fit`: learn from a source of tasks (meta-training, or pretraining);
- :meth:`Learner.adapt`: adapt to the support sets of new tasks;
- :meth:`Learner.predict`: predict on inputs of those tasks (their query sets).

That is all evaluation code needs to know, which is what lets the book put MAML next to
fine-tuning on identical episodes.

**Normalisation policy.** No learner computes a statistic across examples at prediction time:
networks with BatchNorm are refused (:func:`check_no_batch_norm`), and backbones normalise each
example on its own (LayerNorm, GroupNorm). A query's prediction therefore depends only on that
query, the support set and the learned parameters, never on the other queries in its batch —
the transductive leak that BatchNorm in training mode causes in two peer libraries' examples.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch
from torch import Tensor, nn

from . import distributed
from ._checks import check_int, check_positive_float
from .adaptation import LossFn, Params, batched_predict, batched_sgd_adapt, task_loss
from .tasks import Episode, TaskSource
from .training import Checkpointing, GeneratorState, run_training


def check_no_batch_norm(model: nn.Module) -> None:
    """Refuse networks with BatchNorm layers (see the module's normalisation policy)."""
    for name, module in model.named_modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            raise ValueError(
                f"{name or 'the model'} is a {type(module).__name__}: batch statistics would let "
                "one query's prediction depend on the other queries. Use a per-example "
                "normalisation (nn.LayerNorm, nn.GroupNorm) instead."
            )


def resolve_device(device: str | torch.device | None, model: nn.Module) -> torch.device:
    """The device to train on: ``device`` if given (CUDA only when available), else the model's."""
    if device is None:
        first = next(model.parameters(), None)
        return first.device if first is not None else torch.device("cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(device)!r} was asked for, but CUDA is not available here; use 'cpu'")
    return device


def check_ways(logits: Tensor, episode: Episode) -> None:
    """Refuse logits whose width is not the episode's number of ways (a silent mismatch otherwise)."""
    if episode.is_classification and logits.shape[-1] != episode.num_ways:
        raise ValueError(
            f"the model gives {logits.shape[-1]} logits per example but the episode is "
            f"{episode.num_ways}-way; build the model's output layer with {episode.num_ways} outputs"
        )


class Trainable:
    """Anything :meth:`fit` trains: the package's one training loop.

    A subclass supplies the pieces of one step; :meth:`fit` does the rest (seeding, progress
    bar, checkpoints and resuming, the divergence guard, the CPU-time limit, the callback):

    - :meth:`trainable_modules`: what it trains and checkpoints, by name;
    - :meth:`sample_training_batch`: one step's data (default: ``meta_batch_size`` fresh tasks);
    - :meth:`training_step`: one update on it (default: an Adam step on :meth:`training_loss`);
    - :meth:`prepare_training` (optional): set-up that needs the training data.

    Subclasses set ``self.lr`` (Adam's rate, or the outer step size when ``uses_optimizer`` is
    false) and ``self.device``.
    """

    #: Short name used by the command-line tool, progress bars and result files.
    name: str = "learner"
    #: Whether :meth:`training_step` steps Adam (Reptile moves parameters itself); if so, the
    #: optimiser's state is checkpointed with the modules.
    uses_optimizer: bool = True
    #: Tasks per training step when :meth:`fit` is not told.
    default_meta_batch_size: int = 25

    lr: float
    device: torch.device
    _optimizer: torch.optim.Optimizer | None = None
    #: CPU seconds (``time.process_time``) of the last :meth:`fit`, 0 before any.
    train_seconds: float = 0.0
    #: The training losses of the last :meth:`fit` (or of the cached run it was loaded from).
    losses: list[float]

    def fit(
        self,
        tasks: TaskSource,
        *,
        iterations: int,
        meta_batch_size: int | None = None,
        seed: int = 0,
        progress: bool | None = None,
        checkpointing: Checkpointing | None = None,
        max_seconds: float | None = None,
        callback: Callable[[int], None] | None = None,
    ) -> list[float]:
        """Train for ``iterations`` steps, each on a fresh batch from ``tasks``.

        Args:
            tasks: the training distribution.
            iterations: number of training steps (>= 1).
            meta_batch_size: tasks per step (default: ``default_meta_batch_size``, 25 unless the
                learner says otherwise); learners that draw something else than tasks (supervised
                pretraining draws images) ignore it.
            seed: seeds the sampling of training batches (default 0).
            progress: show a progress bar; ``None`` (default) only on a terminal.
            checkpointing: save the state at intervals and resume from it, ending exactly where
                an uninterrupted run would (default: off).
            max_seconds: stop early once training has used this much CPU time (default: none).
            callback: ``callback(done)`` after every step (see
                :func:`~mtl_tutorial.training.run_training`).

        Returns:
            The training loss of every step.
        """
        if meta_batch_size is None:
            meta_batch_size = self.default_meta_batch_size
        check_int("meta_batch_size", meta_batch_size, minimum=1)
        check_int("iterations", iterations, minimum=1)
        generator = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
        rank, processes = distributed.world()
        if processes > 1:  # under torchrun: each process takes an equal share of every batch
            split = self.split_batch_size(meta_batch_size)
            distributed.check_divisible(self.batch_description, split, processes)
        self.prepare_training(tasks)
        if processes > 1:  # the same start everywhere, whatever each process was seeded with
            distributed.broadcast_parameters(trainable_parameters(self.trainable_modules()))

        def step(i: int) -> float:
            # every process draws the whole batch (the single-process run's data), keeps its share
            batch = self.sample_training_batch(tasks, meta_batch_size, generator)
            batch = distributed.shard(batch, rank, processes)
            return self.training_step(batch, iteration=i, iterations=iterations)

        state: dict[str, Any] = dict(self.trainable_modules())
        if self.uses_optimizer:
            state["optimizer"] = self.optimizer
        state["tasks"] = GeneratorState(generator)
        started = time.process_time()
        try:
            self.losses = run_training(
                step,
                iterations,
                description=self.name,
                progress=progress,
                state=state,
                checkpointing=checkpointing,
                config={**self.config(), "meta_batch_size": meta_batch_size, "seed": seed},
                max_seconds=max_seconds,
                callback=callback,
            )
        finally:
            self.train_seconds = time.process_time() - started
        if self.uses_optimizer:  # leave no gradients behind (a backbone may be shared)
            self.optimizer.zero_grad(set_to_none=True)
        return self.losses

    # -- the pieces of a training step ---------------------------------------------------------

    #: What :meth:`split_batch_size` counts, for the error when it does not split evenly.
    batch_description: str = "meta_batch_size"

    def split_batch_size(self, meta_batch_size: int) -> int:
        """The size that data-parallel training splits between processes (default: the
        meta-batch's tasks; supervised pretraining splits its images)."""
        return meta_batch_size

    def prepare_training(self, tasks: TaskSource) -> None:
        """Called once by :meth:`fit` before its first step (default: nothing)."""

    def sample_training_batch(
        self, tasks: TaskSource, meta_batch_size: int, generator: torch.Generator
    ) -> Any:
        """One training step's data: ``meta_batch_size`` tasks drawn with ``generator``, on
        the learner's device."""
        return tasks.sample(meta_batch_size, generator=generator).to(self.device)

    def training_loss(self, batch: Any) -> Tensor:
        """The differentiable loss :meth:`training_step` lowers on one batch."""
        raise NotImplementedError(f"{type(self).__name__} defines neither training_loss nor training_step")

    def training_computation(self, batch: Any) -> float:
        """The computation of one training step, short of the update: the gradients of
        :meth:`training_loss`, left in ``.grad``; returns the loss. What :meth:`training_step`
        runs, and what :func:`~mtl_tutorial.evaluation.training_step_cost` measures."""
        loss = self.training_loss(batch)
        loss.backward()
        return loss.item()

    def training_step(self, batch: Any, *, iteration: int = 0, iterations: int = 1) -> float:
        """One Adam step on the gradients of :meth:`training_computation`; returns the loss.

        ``iteration`` of ``iterations`` is where the run stands, for learners whose update
        follows a schedule (Reptile's annealed outer step).
        """
        self.optimizer.zero_grad()
        loss = self.training_computation(batch)
        if distributed.world()[1] > 1:  # the mean over processes: the whole batch's gradient
            optimized = [p for group in self.optimizer.param_groups for p in group["params"]]
            loss = distributed.average_gradients(optimized, loss)
        self.optimizer.step()
        return loss

    # -- state ---------------------------------------------------------------------------------

    def trainable_modules(self) -> dict[str, nn.Module]:
        """Modules whose parameters :meth:`fit` trains and checkpoints save, by name."""
        raise NotImplementedError

    def parameter_groups(self) -> list[dict[str, Any]]:
        """Adam's parameter groups (default: one, every trainable module at ``lr``); a learner
        whose parameters train at different rates returns several."""
        return [{"params": list(trainable_parameters(self.trainable_modules()))}]

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        """Adam over :meth:`parameter_groups`, created on first use."""
        if self._optimizer is None:
            groups = self.parameter_groups()
            try:  # the fused kernel is faster for the many small tensors of these networks
                self._optimizer = torch.optim.Adam(groups, lr=self.lr, fused=True)
            except RuntimeError:  # older torch, or a device without it
                self._optimizer = torch.optim.Adam(groups, lr=self.lr)
        return self._optimizer

    def state_dict(self) -> dict[str, dict[str, Tensor]]:
        """The learned state: each trainable module's ``state_dict``, by name (see
        :meth:`trainable_modules`); what the trained-model cache stores."""
        return {name: module.state_dict() for name, module in self.trainable_modules().items()}

    def load_state_dict(self, state: Mapping[str, Mapping[str, Tensor]]) -> None:
        """Restore what :meth:`state_dict` returned, into a learner built with the same settings.

        Raises:
            ValueError: when the modules' names differ from this learner's.
        """
        modules = self.trainable_modules()
        if set(state) != set(modules):
            raise ValueError(f"state holds modules {sorted(state)}, this learner has {sorted(modules)}")
        for name, module in modules.items():
            module.load_state_dict(state[name])

    def config(self) -> dict[str, Any]:
        """The learner's settings, stored with checkpoints to refuse resuming a different run."""
        return {"learner": type(self).__name__, "lr": self.lr}


class Learner(Trainable, ABC):
    """Fit on a source of tasks, adapt to support sets, predict on query inputs.

    Subclasses implement :meth:`adapt`, :meth:`predict` and :meth:`training_loss` (the loss
    :meth:`fit` minimises on a batch of training tasks with Adam), or :meth:`training_step`.

    Args:
        model: the network the learner trains; moved to ``device``.
        lr: Adam's learning rate in :meth:`fit` (default 1e-3).
        device: where to train and predict; default the model's device. ``"cuda"`` raises
            ``ValueError`` when no GPU is available.
    """

    #: Whether :meth:`adapt` gives the same result under ``torch.no_grad()``, for scoring, where
    #: nothing is differentiated through it: true where adaptation uses ``torch.func`` transforms
    #: (they compute their inner gradients all the same) or no gradients at all. Scoring then
    #: records no graph for a meta-gradient (MAML on glyphs: test-time adaptation 3x faster).
    adapts_without_autograd: bool = False

    def __init__(
        self, model: nn.Module, *, lr: float = 1e-3, device: str | torch.device | None = None
    ) -> None:
        if not isinstance(model, nn.Module):
            raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        check_no_batch_norm(model)
        self.device = resolve_device(device, model)
        self.model = model.to(self.device)
        self.lr = check_positive_float("lr", lr)
        self._optimizer = None
        self.losses = []

    # -- the three questions ------------------------------------------------------------------

    @abstractmethod
    def adapt(self, episode: Episode, steps: int | None = None) -> Any:
        """Adapt to each task's support set; return a per-task state for :meth:`predict`.

        ``steps`` is the number of gradient steps for learners that take them; others ignore it.
        """

    @abstractmethod
    def predict(self, adapted: Any, x: Tensor) -> Tensor:
        """Predict for inputs ``x`` of shape ``(tasks, points, ...)`` from :meth:`adapt`'s state."""

    def trainable_modules(self) -> dict[str, nn.Module]:
        """Modules whose parameters :meth:`fit` trains and checkpoints save, by name."""
        return {"model": self.model}

    def adapted_parameters(self, ways: int = 5) -> int:
        """How many numbers :meth:`adapt` trains on the support set of one task (``ways``-way,
        where the head is built per task); 0 for learners that compute their per-task state
        (prototypes, FiLM parameters) rather than train it."""
        raise NotImplementedError(f"{type(self).__name__} does not count its adapted parameters")


class GradientLearner(Learner):
    """A learner that adapts by gradient descent from an initialisation it holds.

    Subclasses decide how :meth:`fit` learns that initialisation (MAML meta-learns it; transfer
    learning pretrains it; an unfitted learner starts from random weights).

    Args:
        model: the network; its current parameters are the initialisation.
        adapt_lr: step size of gradient descent on the support set (default 0.01).
        adapt_steps: number of adaptation steps when :meth:`adapt` is not told (default 10).
        lr: Adam's learning rate in :meth:`fit` (default 1e-3).
        loss_fn: loss of one task's predictions (default: cross-entropy for class labels,
            mean squared error otherwise).
        device: where to train and predict (default: the model's device).
    """

    adapts_without_autograd = True  # adaptation by torch.func.grad

    def __init__(
        self,
        model: nn.Module,
        *,
        adapt_lr: float = 0.01,
        adapt_steps: int = 10,
        lr: float = 1e-3,
        loss_fn: LossFn = task_loss,
        device: str | torch.device | None = None,
    ) -> None:
        super().__init__(model, lr=lr, device=device)
        self.adapt_lr = check_positive_float("adapt_lr", adapt_lr)
        self.adapt_steps = check_int("adapt_steps", adapt_steps, minimum=0)
        self.loss_fn = loss_fn

    def initial_params(self) -> Params:
        """The initialisation adaptation starts from, as a ``{name: tensor}`` dictionary."""
        return dict(self.model.named_parameters())

    def adaptation_kwargs(self) -> dict[str, Any]:
        """How :meth:`adapt` steps: overridden by Meta-SGD (learned rates) and ANIL (head only)."""
        return {"lr": self.adapt_lr}

    def adapt(self, episode: Episode, steps: int | None = None) -> Params:
        """Take ``steps`` (default ``adapt_steps``) gradient steps on each task's support set.

        Returns per-task parameters, each tensor with a leading task dimension.
        """
        steps = self.adapt_steps if steps is None else check_int("steps", steps, minimum=0)
        episode = episode.to(self.device)
        return batched_sgd_adapt(
            self.model,
            self.initial_params(),
            episode.support_x,
            episode.support_y,
            steps=steps,
            loss_fn=self.loss_fn,
            **self.adaptation_kwargs(),
        )

    def adapted_parameters(self, ways: int = 5) -> int:
        """Every parameter that :meth:`adapt` steps (those named in ``adaptation_kwargs()``'s
        ``adapted``, else all of the model's); the output layer is the model's own, so ``ways``
        does not matter."""
        names = self.adaptation_kwargs().get("adapted")
        params = self.initial_params()
        return sum(p.numel() for name, p in params.items() if names is None or name in names)

    def predict(self, adapted: Params, x: Tensor) -> Tensor:
        """Predict with per-task parameters from :meth:`adapt` for inputs ``x``."""
        return batched_predict(self.model, adapted, x.to(self.device))

    def config(self) -> dict[str, Any]:
        return {**super().config(), "adapt_lr": self.adapt_lr, "adapt_steps": self.adapt_steps}


def trainable_parameters(modules: Mapping[str, nn.Module]) -> Iterable[Tensor]:
    """Every parameter of ``modules`` that requires a gradient."""
    return (p for m in modules.values() for p in m.parameters() if p.requires_grad)
