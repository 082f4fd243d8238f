"""The MAML paper's sinusoid experiment (Finn et al. 2017, Appendix C, Table 2), every learner."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from .._checks import check_int
from ..evaluation import query_mse, summarise
from ..evaluation.sharpness import learner_sharpness
from ..learner import GradientLearner, Learner
from ..registry import sinusoid_learner
from ..tasks import Episode, SinusoidTasks
from ..training import seed_everything

#: Mean squared error after fine-tuning on K = 5 points, by gradient steps (the paper's Table 2).
PAPER_SINUSOID_K5 = {"maml": {1: 0.67, 5: 0.38, 10: 0.35}, "pretrained": {1: 2.41, 5: 2.23, 10: 2.19}}

#: Methods in the order the table lists them, as the command-line tool names them.
METHODS = ("maml", "fomaml", "metasgd", "anil", "reptile", "film", "pretrained", "scratch")


#: Methods whose meta-gradient ``reproduce_sinusoid(compile=True)`` compiles: ~1.8x the eager
#: speed after a one-off compilation, worth it for MAML's 48,000 iterations.
COMPILED_METHODS = ("maml",)


#: How the reproduction trains the learners whose fine-tuning can blow up, by ``setup``:
#: ``{method: keyword arguments of its class, plus "support_size" of its training tasks}``.
#: ``"paper"``: as in the paper, one inner step and the query loss after it, 10 support points.
#: ``"multi-step"`` (the default): MAML with five inner steps and the query losses after each,
#: the first weighing 0.5 and the other four 0.125 each (a weighted form of MAML++'s multi-step
#: loss, Antoniou et al. 2019); ANIL with the ten steps and the 5 support points of the test,
#: the loss after the first step weighing 0.5 and the other nine sharing the rest. In the paper's
#: set-up a few test tasks blow up after 5 or 10 steps, on some machines and seeds: one step is
#: all that training asks for (book, section 5.4; ``mtl-tutorial sharpness sinusoid``). Each
#: iteration of the multi-step set-up costs about five (MAML) or ten (ANIL) times the FLOPs.
#: Meta-SGD keeps Li et al.'s one-step training, its learned step sizes held in [0, 0.05]
#: (``MetaSGD(max_rate=0.05)``): unbounded, they blow up on many test tasks after 5 or 10
#: steps; bounded, on none (six training seeds, three test seeds), at the same FLOPs.
SETUPS: dict[str, dict[str, dict[str, Any]]] = {
    "paper": {},
    "multi-step": {
        "maml": {"inner_steps": 5, "multi_step_loss": (0.5, 0.125, 0.125, 0.125, 0.125)},
        "anil": {"inner_steps": 10, "multi_step_loss": (0.5,) + (0.5 / 9,) * 9, "support_size": 5},
        "metasgd": {"max_rate": 0.05},
    },
}


def check_setup(setup: str) -> str:
    """``setup`` if it names one of :data:`SETUPS`, else ``ValueError``."""
    if setup not in SETUPS:
        raise ValueError(f"setup must be one of {list(SETUPS)}, got {setup!r}")
    return setup


#: The learner each method of the table is; ``"scratch"`` is the fine-tuner left untrained.
LEARNER_OF = {**{m: m for m in METHODS}, "scratch": "pretrained"}


def reproduction_learner(
    method: str, *, setup: str = "paper", device: str = "cpu", compile: bool = False
) -> Learner:
    """The learner ``method`` of :data:`METHODS` as the reproduction trains it in ``setup``: the
    book's sinusoid settings (:data:`~mtl_tutorial.registry.SINUSOID_SETTINGS`) with the set-up's
    (:data:`SETUPS`) on top; ``compile`` compiles MAML's meta-gradient."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {list(METHODS)}")
    options = {k: v for k, v in SETUPS[check_setup(setup)].get(method, {}).items() if k != "support_size"}
    if compile:
        options["compile"] = True
    return sinusoid_learner(LEARNER_OF[method], device=device, **options)


def training_tasks(method: str, setup: str = "paper") -> SinusoidTasks:
    """The sinusoid tasks ``method`` meta-trains on in ``setup``: 10 support points unless the
    set-up says otherwise, 10 query points."""
    return SinusoidTasks(support_size=SETUPS[check_setup(setup)].get(method, {}).get("support_size", 10))


@dataclass(frozen=True)
class SinusoidBudget:
    """Training iterations per method. The defaults fit about two minutes on 2 CPU cores; the
    MAML authors' released code defaults to 70,000 meta-iterations (``SinusoidBudget.paper()``); the
    paper does not say how long it trains."""

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
        """70,000 iterations for every trained method: the default of the MAML authors' code."""
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
    more_test_seeds: Sequence[int] = (),
    device: str = "cpu",
    compile: bool = True,
    setup: str = "multi-step",
    progress: bool | None = None,
    log: Callable[[str], None] = print,
) -> tuple[list[dict], dict[str, torch.Tensor]]:
    """Train each method with the paper's set-up and score it on fixed test tasks.

    Meta-training uses the paper's settings: tasks with 10 support and 10 query points, meta-batch
    25, inner step 0.01 and one inner step for MAML's variants, Adam 1e-3, except where ``setup``
    says otherwise (:data:`SETUPS`): by default (``"multi-step"``) MAML and ANIL train several
    inner steps with a weighted multi-step loss, from which 5 and 10 fine-tuning steps do not
    blow up; ``"paper"`` trains them as the paper does. Every method is
    then scored on the same ``test_tasks`` tasks (drawn with ``test_seed``, default 2017) with
    ``shots`` support points and 100 query points, after each number of gradient steps in
    ``steps``. ``seed`` seeds the initialisation and the stream of training tasks. Each seed of
    ``more_test_seeds`` adds a set of test tasks on which the same trained learners are scored
    too (rows of their own).

    ``compile`` (default ``True``) compiles the meta-gradient of the methods in
    :data:`COMPILED_METHODS`; the compiled and the eager code give the same results up to
    floating-point rounding.

    Returns:
        The rows ``{method, test_seed, shots, steps, metric ("mse"), value, ci95, median, diverged, tasks,
        compiled, sharpness_median, above_limit, limit, train_seconds, iterations}`` (``value`` …
        ``tasks``: :meth:`~mtl_tutorial.evaluation.ScoreSummary.fields`): ``sharpness_median`` is the
        median over the test tasks of the largest support-loss Hessian eigenvalue at the start of
        fine-tuning and ``above_limit`` the number of tasks where it exceeds ``limit``, ``2 / α`` for the
        learner's fine-tuning step ``α`` (all three ``None`` for learners without one scalar step size);
        ``diverged`` counts the tasks fine-tuning blew up on (an error infinite, NaN or ten times the
        error before adapting, its own and the median task's; see
        :func:`~mtl_tutorial.evaluation.diverged_tasks`); ``value`` (the mean MSE) and ``ci95`` are
        ``None`` when a task diverged; ``median``, the (lower) median over all tasks, diverged ones
        included, is ``None`` only if half of them diverged; and, per method, the per-task MSE tensor of
        shape ``(len(steps), test_tasks)`` on the tasks of ``test_seed``.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; choose from {list(METHODS)}")
    check_int("test_tasks", test_tasks, minimum=2)
    check_setup(setup)
    budget = budget or SinusoidBudget()
    test_tasks_of = SinusoidTasks(support_size=check_int("shots", shots, minimum=1), query_size=100)
    seeds = dict.fromkeys([test_seed, *more_test_seeds])  # in order, each once
    test_sets = {ts: test_tasks_of.sample(test_tasks, seed=ts) for ts in seeds}
    rows, per_task = [], {}
    for method in methods:
        seed_everything(seed)
        compiled = compile and method in COMPILED_METHODS
        learner = reproduction_learner(method, setup=setup, device=device, compile=compiled)
        iterations = budget.iterations.get(method, 0)
        started = time.perf_counter()
        if iterations:
            learner.fit(training_tasks(method, setup), iterations=iterations, seed=seed, progress=progress)
        seconds = time.perf_counter() - started
        for ts, test_set in test_sets.items():
            scores = query_mse(learner, test_set, steps=(0, *steps))  # 0 steps: before adapting
            if ts == test_seed:
                per_task[method] = scores[1:]
            rows += _score_rows(learner, test_set, scores, steps, method=method, test_seed=ts, shots=shots,
                                compiled=compiled, seconds=seconds, iterations=iterations)  # fmt: skip
        log(f"{method:>10}: {iterations:>6} iterations in {seconds:6.1f} s")
    return rows, per_task


def _score_rows(
    learner: Learner, test_set: Episode, scores: torch.Tensor, steps: Sequence[int], **fields: Any
) -> list[dict]:
    """One row per step count from ``scores`` (``query_mse`` at 0 and at ``steps``)."""
    before = scores[0]
    # sharpness of each test task's inner problem at the start, against 2 / alpha (for the
    # learners that fine-tune with one scalar step size)
    sharp = learner_sharpness(learner, test_set) if isinstance(learner, GradientLearner) else None
    limit = 2 / learner.adapt_lr if sharp is not None else None
    rows = []
    for s, values in zip(steps, scores[1:], strict=True):
        rows.append({
            "method": fields["method"], "test_seed": fields["test_seed"], "shots": fields["shots"],
            "steps": s, "metric": "mse", **summarise(values, before).fields(),
            "compiled": fields["compiled"],
            "sharpness_median": None if sharp is None else round(sharp.median().item(), 2),
            "above_limit": None if sharp is None else int((sharp > limit).sum()),
            "limit": limit,
            "train_seconds": round(fields["seconds"], 1),
            "iterations": fields["iterations"],
        })  # fmt: skip
    return rows

