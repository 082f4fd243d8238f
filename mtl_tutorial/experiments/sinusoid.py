"""The MAML paper's sinusoid experiment (Finn et al. 2017, Appendix C, Table 2), every learner."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from .._checks import check_int
from ..evaluation import diverged_tasks, mean_ci, query_mse
from ..learner import Learner
from ..meta import ANIL, MAML, MetaSGD, Reptile, TaskConditioned
from ..models import MLP, FiLMNetwork
from ..tasks import SinusoidTasks
from ..training import seed_everything
from ..transfer import FineTuning

#: Mean squared error after fine-tuning on K = 5 points, by gradient steps (the paper's Table 2).
PAPER_SINUSOID_K5 = {"maml": {1: 0.67, 5: 0.38, 10: 0.35}, "pretrained": {1: 2.41, 5: 2.23, 10: 2.19}}

#: Methods in the order the table lists them, as the command-line tool names them.
METHODS = ("maml", "fomaml", "metasgd", "anil", "reptile", "film", "pretrained", "scratch")


#: Methods whose meta-gradient ``reproduce_sinusoid(compile=True)`` compiles: ~1.8x the eager
#: speed after a one-off compilation, worth it for MAML's 48,000 iterations.
COMPILED_METHODS = ("maml",)


def _learner(method: str, device: str, compile: bool) -> Learner:
    factories: dict[str, Callable[[], Learner]] = {
        "maml": lambda: MAML(MLP(), device=device, compile=compile),
        "fomaml": lambda: MAML(MLP(), first_order=True, device=device),
        "metasgd": lambda: MetaSGD(MLP(), device=device),
        "anil": lambda: ANIL(MLP(), device=device),
        "reptile": lambda: Reptile(MLP(), inner_lr=0.02, inner_steps=10, device=device),
        "film": lambda: TaskConditioned(FiLMNetwork(), device=device),
        "pretrained": lambda: FineTuning(MLP(), device=device),
        "scratch": lambda: FineTuning(MLP(), device=device),
    }
    return factories[method]()


@dataclass(frozen=True)
class SinusoidBudget:
    """Training iterations per method. The defaults fit about two minutes on 2 CPU cores; the
    paper meta-trains MAML for 70,000 iterations (``SinusoidBudget.paper()``)."""

    iterations: dict[str, int] = field(
        default_factory=lambda: {
            "maml": 48_000,
            "fomaml": 3_000,
            "metasgd": 3_000,
            "anil": 3_000,
            "reptile": 1_000,
            "film": 3_000,
            "pretrained": 20_000,
            "scratch": 0,
        }
    )

    @classmethod
    def paper(cls) -> SinusoidBudget:
        """70,000 iterations for every trained method, as in the paper."""
        return cls({m: (0 if m == "scratch" else 70_000) for m in METHODS})

    def scaled(self, factor: float) -> SinusoidBudget:
        """Every iteration count multiplied by ``factor`` (at least 1 for trained methods)."""
        if not factor > 0:
            raise ValueError(f"factor must be > 0, got {factor}")
        return SinusoidBudget(
            {m: (max(1, round(n * factor)) if n else 0) for m, n in self.iterations.items()}
        )


def reproduce_sinusoid(
    methods: Sequence[str] = METHODS,
    *,
    budget: SinusoidBudget | None = None,
    steps: Sequence[int] = (1, 5, 10),
    test_tasks: int = 600,
    shots: int = 5,
    seed: int = 0,
    test_seed: int = 2017,
    device: str = "cpu",
    compile: bool = True,
    progress: bool | None = None,
    log: Callable[[str], None] = print,
) -> tuple[list[dict], dict[str, torch.Tensor]]:
    """Train each method with the paper's set-up and score it on fixed test tasks.

    Meta-training uses the paper's settings: tasks with 10 support and 10 query points, meta-batch
    25, inner step 0.01 and one inner step for MAML and its variants, Adam 1e-3. Every method is
    then scored on the same ``test_tasks`` tasks (drawn with ``test_seed``, default 2017) with
    ``shots`` support points and 100 query points, after each number of gradient steps in
    ``steps``. ``seed`` seeds the initialisation and the stream of training tasks.

    ``compile`` (default ``True``) compiles the meta-gradient of the methods in
    :data:`COMPILED_METHODS`; the compiled and the eager code give the same results up to
    floating-point rounding.

    Returns:
        The rows ``{method, shots, steps, mse, ci95, median, diverged, compiled, train_seconds,
        iterations}``: ``diverged`` counts the tasks fine-tuning blew up on (an error infinite, NaN
        or ten times the error before adapting, its own and the median task's; see
        :func:`~mtl_tutorial.evaluation.diverged_tasks`);
        ``mse`` and ``ci95`` are ``None`` when an error is infinite or NaN; ``median``, the (lower)
        median over all tasks, diverged ones included, is ``None`` only if half of them diverged;
        and, per method, the per-task MSE tensor of shape ``(len(steps), test_tasks)``.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; choose from {list(METHODS)}")
    check_int("test_tasks", test_tasks, minimum=2)
    budget = budget or SinusoidBudget()
    train_tasks = SinusoidTasks()
    test_set = SinusoidTasks(support_size=check_int("shots", shots, minimum=1), query_size=100).sample(
        test_tasks, seed=test_seed
    )
    rows, per_task = [], {}
    for method in methods:
        seed_everything(seed)
        compiled = compile and method in COMPILED_METHODS
        learner = _learner(method, device, compiled)
        iterations = budget.iterations.get(method, 0)
        started = time.perf_counter()
        if iterations:
            learner.fit(train_tasks, iterations=iterations, seed=seed, progress=progress)
        seconds = time.perf_counter() - started
        scores = query_mse(learner, test_set, steps=(0, *steps))  # 0 steps: the error before adapting
        before, per_task[method] = scores[0], scores[1:]
        for s, values in zip(steps, per_task[method], strict=True):
            # a task whose fine-tuning diverged can have an infinite error (no mean then) or a
            # finite one that swamps the mean: the row counts them, and gives the median too
            diverged = int(diverged_tasks(values, before).sum())
            summary = mean_ci(values) if torch.isfinite(values).all() else None
            finite_or_inf = torch.nan_to_num(values.double(), nan=float("inf"), posinf=float("inf"))
            rows.append(
                {
                    "method": method,
                    "shots": shots,
                    "steps": s,
                    "mse": round(summary.mean, 4) if summary else None,
                    "ci95": round(summary.ci95, 4) if summary else None,
                    "median": _round_or_none(finite_or_inf.median().item()),
                    "diverged": diverged,
                    "compiled": compiled,
                    "train_seconds": round(seconds, 1),
                    "iterations": iterations,
                }
            )
        log(f"{method:>10}: {iterations:>6} iterations in {seconds:6.1f} s")
    return rows, per_task


def _round_or_none(value: float) -> float | None:
    """``value`` to 4 decimals, or ``None`` if infinite (JSON has no infinity)."""
    return round(value, 4) if math.isfinite(value) else None
