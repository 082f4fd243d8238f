"""Why MAML's sinusoid table breaks at 5 and 10 steps: the sharpness of each task's inner problem
at the meta-learned initialisation, tracked during meta-training against the limit ``2 / α``.

Fine-tuning takes plain gradient steps of the training step size ``α``; on a task whose
support-loss Hessian has an eigenvalue above ``2 / α`` at the initialisation, the first steps
overshoot along that direction. :func:`trace_sharpness` measures, at checkpoints of one
meta-training run, every test task's sharpness (:func:`~mtl_tutorial.evaluation.sharpness.support_sharpness`)
and its query error after each number of steps, so the two can be set side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from .._checks import check_int
from ..evaluation import diverged_tasks, query_mse
from ..evaluation.sharpness import learner_sharpness
from ..learner import GradientLearner
from ..tasks import Episode, SinusoidTasks, TaskSource
from ..training import seed_everything
from .sinusoid import reproduction_learner, training_tasks  # the reproduction's learners, set-ups


@dataclass(frozen=True)
class SharpnessTrace:
    """Sharpness and query errors of fixed test tasks at checkpoints of one meta-training run.

    Attributes:
        iterations: the meta-training iterations done at each checkpoint (the first is 0).
        sharpness: ``(checkpoints, tasks)``, the largest support-loss Hessian eigenvalue of each
            test task at the initialisation of that checkpoint.
        mse: ``(checkpoints, len(steps), tasks)``, each task's query MSE after each number of
            ``steps`` of fine-tuning with step size ``inner_lr``.
        before: ``(checkpoints, tasks)``, each task's query MSE before fine-tuning.
        steps: the numbers of fine-tuning steps scored.
        inner_lr: the step size ``α`` of fine-tuning (and of MAML's inner loop).
    """

    iterations: list[int]
    sharpness: Tensor
    mse: Tensor
    before: Tensor
    steps: tuple[int, ...]
    inner_lr: float

    @property
    def limit(self) -> float:
        """``2 / α``: gradient descent overshoots along directions sharper than this."""
        return 2 / self.inner_lr

    def above_limit(self) -> Tensor:
        """``(checkpoints, tasks)``: whether each task is sharper than :attr:`limit`."""
        return self.sharpness > self.limit

    def diverged(self, steps: int) -> Tensor:
        """``(checkpoints, tasks)``: whether fine-tuning with ``steps`` steps blew up (an error
        infinite, NaN or ten times the error before, its own and the median task's;
        :func:`~mtl_tutorial.evaluation.diverged_tasks`)."""
        if steps not in self.steps:
            raise ValueError(f"steps must be one of the scored {list(self.steps)}, got {steps}")
        return diverged_tasks(self.mse[:, self.steps.index(steps)], self.before)

    def rows(self) -> list[dict]:
        """One summary per checkpoint: sharpness quantiles, the share of tasks above the limit,
        diverged tasks and the median error after each number of steps (JSON-ready)."""
        out = []
        above = self.above_limit()
        for i, done in enumerate(self.iterations):
            sharp = self.sharpness[i].double()
            row = {
                "iteration": done,
                "sharpness_median": round(sharp.median().item(), 2),
                "sharpness_p90": round(sharp.quantile(0.9).item(), 2),
                "sharpness_max": round(sharp.max().item(), 2),
                "limit": round(self.limit, 2),
                "tasks_above_limit": int(above[i].sum()),
            }
            for j, s in enumerate(self.steps):
                errors = torch.nan_to_num(self.mse[i, j].double(), nan=float("inf"), posinf=float("inf"))
                row[f"diverged_{s}"] = int(self.diverged(s)[i].sum())
                median = errors.median().item()
                row[f"mse_median_{s}"] = round(median, 4) if median != float("inf") else None
            out.append(row)
        return out


def trace_sharpness(
    learner: GradientLearner,
    train_tasks: TaskSource,
    test_set: Episode,
    *,
    iterations: int,
    checkpoints: Sequence[int],
    meta_batch_size: int = 25,
    seed: int = 0,
    steps: Sequence[int] = (1, 5, 10),
    power_iterations: int = 50,
    progress: bool | None = None,
) -> SharpnessTrace:
    """Meta-train ``learner`` for ``iterations`` and measure the test tasks at ``checkpoints``.

    One uninterrupted run (the measurements happen in :meth:`~mtl_tutorial.learner.Learner.fit`'s
    callback, so training is exactly that of ``learner.fit(train_tasks, iterations=iterations,
    meta_batch_size=meta_batch_size, seed=seed)``), measured before training and after each
    iteration count in ``checkpoints``.

    Args:
        learner: a MAML-family learner with one scalar inner step size (MAML, first-order MAML,
            ANIL; for ANIL the Hessian is that of the head, the part it adapts).
        test_set: the fixed test tasks; their support sets define each inner problem.
        checkpoints: iteration counts at which to measure, each in ``1 … iterations``.
        power_iterations: Hessian-vector products per sharpness estimate (default 50).

    Raises:
        ValueError: for a learner with learned or per-parameter step sizes (Meta-SGD), whose
            stability limit is not ``2 / α``, or for checkpoints outside ``1 … iterations``.
    """
    check_int("iterations", iterations, minimum=1)
    adaptation = learner.adaptation_kwargs()
    if not isinstance(adaptation["lr"], float):
        raise ValueError(
            f"{type(learner).__name__} adapts with per-parameter step sizes: its stability limit is "
            "not 2 / alpha; trace a learner with one scalar step size (MAML, first-order MAML, ANIL)"
        )
    wanted = sorted(set(checkpoints))
    if not wanted or wanted[0] < 1 or wanted[-1] > iterations:
        raise ValueError(f"checkpoints must lie in 1 … {iterations}, got {list(checkpoints)}")
    steps = tuple(steps)
    done_at: list[int] = []
    sharpness: list[Tensor] = []
    errors: list[Tensor] = []

    def measure(done: int) -> None:
        done_at.append(done)
        sharpness.append(learner_sharpness(learner, test_set, iterations=power_iterations))
        errors.append(query_mse(learner, test_set, steps=(0, *steps)))

    def callback(done: int) -> None:
        if done in wanted:
            measure(done)

    measure(0)
    learner.fit(train_tasks, iterations=iterations, meta_batch_size=meta_batch_size, seed=seed,
                progress=progress, callback=callback)  # fmt: skip
    scores = torch.stack(errors)
    lr = adaptation["lr"]
    return SharpnessTrace(done_at, torch.stack(sharpness), scores[:, 1:], scores[:, 0], steps, lr)


def sinusoid_sharpness(
    method: str = "maml",
    *,
    iterations: int = 48_000,
    checkpoints: int = 12,
    test_tasks: int = 600,
    shots: int = 5,
    seed: int = 0,
    test_seed: int = 2017,
    compile: bool = True,
    device: str = "cpu",
    setup: str = "multi-step",
    progress: bool | None = None,
) -> SharpnessTrace:
    """:func:`trace_sharpness` for a learner of ``mtl-tutorial reproduce sinusoid``, trained as
    there (``method`` one of ``maml``, ``fomaml``, ``anil``; meta-batch 25; seed ``seed``) and
    measured at ``checkpoints`` evenly spaced points on the reproduction's test tasks
    (``test_tasks`` tasks of ``shots`` support and 100 query points, drawn with ``test_seed``).
    ``setup`` is the reproduction's (:data:`~mtl_tutorial.experiments.sinusoid.SETUPS`)."""
    if method not in ("maml", "fomaml", "anil"):
        raise ValueError(f"method must be one of maml, fomaml, anil (one scalar step size), got {method!r}")
    check_int("checkpoints", checkpoints, minimum=1)
    check_int("iterations", iterations, minimum=checkpoints)
    seed_everything(seed)
    learner = reproduction_learner(method, setup=setup, device=device, compile=compile and method == "maml")
    test_set = SinusoidTasks(support_size=check_int("shots", shots, minimum=1), query_size=100).sample(
        check_int("test_tasks", test_tasks, minimum=2), seed=test_seed
    )
    marks = [round(iterations * (i + 1) / checkpoints) for i in range(checkpoints)]
    return trace_sharpness(learner, training_tasks(method, setup), test_set, iterations=iterations,
                           checkpoints=marks, seed=seed, progress=progress)  # fmt: skip
