"""In-context learning on the sinusoids: how the support sizes seen in training shape the learner
(the experiment of the book's in-context chapter, for :func:`~mtl_tutorial.recipes.cached_call`)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from .._checks import check_int
from ..evaluation import query_mse
from ..registry import sinusoid_learner
from ..tasks import SinusoidTasks
from ..training import seed_everything


def in_context_by_support_size(
    *,
    min_support: int | None,
    shots: Sequence[int] = (2, 5, 10, 20),
    iterations: int = 3_000,
    meta_batch_size: int = 25,
    lr: float = 1e-3,
    seed: int = 0,
    tasks: int = 600,
    task_seed: int = 2017,
    device: str = "cpu",
) -> dict[int, Tensor]:
    """Meta-train an :class:`~mtl_tutorial.InContext` learner as the recipe ``sinusoid_in_context``
    does (the same defaults, seed included), but with ``min_support`` (``None``: the recipe
    itself), and score it on ``tasks`` fixed test tasks (seed ``task_seed``, 100 queries) at each
    support size in ``shots``.

    Returns:
        ``{K: per-task query MSE}``, one tensor of ``tasks`` errors per support size.
    """
    for name, value in (("iterations", iterations), ("meta_batch_size", meta_batch_size), ("tasks", tasks)):
        check_int(name, value, minimum=1)
    shots = [check_int("shots", k, minimum=1) for k in shots]
    seed_everything(seed)
    learner = sinusoid_learner("in_context", lr=lr, min_support=min_support, device=device)
    learner.fit(SinusoidTasks(), iterations=iterations, meta_batch_size=meta_batch_size, seed=seed)
    return {
        k: query_mse(learner, SinusoidTasks(support_size=k, query_size=100).sample(tasks, seed=task_seed),
                     steps=(0,))[0]  # fmt: skip
        for k in shots
    }
