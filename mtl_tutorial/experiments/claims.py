"""The source's claims as experiments (issue "Testing the claims"): rows behind each plot.

Each function trains its learners once and scores them on fixed, seeded test tasks, returning
rows ``{claim, benchmark, method, x, metric, value, ci95}``. Implemented so far:

- :func:`data_scarcity_sinusoid`: "meta-learning helps especially when data is scarce" — query
  MSE of MAML and of a pretrained network, both fine-tuned for the same steps, against the
  number of support points K.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._checks import check_int
from ..evaluation import mean_ci, query_mse
from ..meta import MAML
from ..models import MLP
from ..tasks import SinusoidTasks
from ..training import seed_everything
from ..transfer import FineTuning

SHOTS = (1, 2, 5, 10, 20, 50)


def data_scarcity_sinusoid(
    shots: Sequence[int] = SHOTS,
    *,
    iterations: int = 12_000,
    steps: int = 10,
    test_tasks: int = 600,
    seed: int = 0,
    device: str = "cpu",
) -> list[dict]:
    """MAML against pretraining + fine-tuning on sinusoids, as the support set shrinks.

    Both learners get ``iterations`` (default 12,000) meta-batches of 25 training tasks with
    K = 10 (the paper's setting); each is then fine-tuned for ``steps`` (default 10) gradient
    steps of size 0.01 on K support points of ``test_tasks`` (default 600) fixed test tasks,
    for each K in ``shots`` (default 1, 2, 5, 10, 20, 50), and scored on 100 query points.
    A mean over tasks where fine-tuning diverged is undefined; such rows have ``value=None``
    and the number of diverged tasks. Every row also gives the median, defined either way.
    """
    if len(shots) == 0:
        raise ValueError("shots must list at least one support-set size, got none")
    for k in shots:
        check_int("shots entry", k, minimum=1)
    check_int("iterations", iterations, minimum=1)
    check_int("steps", steps, minimum=0)
    check_int("test_tasks", test_tasks, minimum=2)
    train = SinusoidTasks()
    learners = {}
    seed_everything(seed)
    learners["maml"] = MAML(MLP(), device=device)
    learners["maml"].fit(train, iterations=iterations, meta_batch_size=25, seed=seed, progress=False)
    seed_everything(seed)
    learners["pretrained"] = FineTuning(MLP(), device=device)
    learners["pretrained"].fit(train, iterations=iterations, meta_batch_size=25, seed=seed, progress=False)
    rows = []
    for k in shots:
        tasks = SinusoidTasks(support_size=k, query_size=100).sample(test_tasks, seed=2017)
        for method, learner in learners.items():
            values = query_mse(learner, tasks, steps=(steps,))[0]
            diverged = int((~values.isfinite()).sum())
            summary = mean_ci(values) if diverged == 0 else None
            rows.append({
                "claim": "data_scarcity", "benchmark": "sinusoid", "method": method, "x": k,
                "metric": f"query_mse_after_{steps}_steps",
                "value": round(summary.mean, 4) if summary else None,
                "ci95": round(summary.ci95, 4) if summary else None,
                "diverged": diverged,
                "median": round(values.nanmedian().item(), 4),
            })  # fmt: skip
    return rows
