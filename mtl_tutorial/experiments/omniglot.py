"""The literature's Omniglot table from one command: Prototypical Networks and MAML at 5- and
20-way, 1- and 5-shot, on the field's protocol, beside the papers' numbers.

Protocol (``../shared/reference/literature.md``, "Evaluation protocol used by the field"): the
Vinyals split by whole alphabets (1,028 training, 172 validation, 423 test characters), each
character also rotated by 90°, 180° and 270° as three more classes, images resized to 28 × 28; a
separate model per setting, scored on ``test_episodes`` (600) fixed test episodes with 15 queries
per class, mean ± 95% interval. MAML: Conv-4 with 64 channels, inner step 0.4, one inner step in
training and three at test (Finn et al. 2017); Prototypical Networks: the same Conv-4 as an
embedding, trained on episodes of ``protonet_train_ways`` classes (Snell et al. 2017 train with
60).

The budget is the only thing that differs between a CPU smoke run and the papers' run:
:meth:`OmniglotBudget.smoke` (the default) trains for a few dozen steps, which shows that the
pipeline works, not what the methods reach; :meth:`OmniglotBudget.paper` uses the papers' stated
settings (meta-batch 32 for MAML, 60-way ProtoNet episodes) with iteration counts of our choosing
(the papers state none that we could verify), for a GPU.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._checks import check_int
from ..evaluation import episode_accuracy, mean_ci
from ..registry import glyph_learner
from ..tasks import FewShotTasks
from ..tasks.omniglot import load_omniglot
from ..training import seed_everything

METHODS = ("protonet", "maml")
SETTINGS = ((5, 1), (5, 5), (20, 1), (20, 5))
#: The papers' test accuracy (%) on Omniglot, by (ways, shots): Finn et al. 2017 (MAML), Snell et
#: al. 2017 (Prototypical Networks), as listed in the book's reference table.
PAPER = {
    "maml": {(5, 1): 98.7, (5, 5): 99.9, (20, 1): 95.8, (20, 5): 98.9},
    "protonet": {(5, 1): 98.8, (5, 5): 99.7, (20, 1): 96.0, (20, 5): 98.9},
}


@dataclass(frozen=True)
class OmniglotBudget:
    """What each model gets. Defaults: :meth:`smoke`'s."""

    #: Training steps (episodes for ProtoNet, meta-batches for MAML), by method.
    iterations: dict[str, int] = dataclasses.field(default_factory=lambda: {"protonet": 20, "maml": 10})
    #: Tasks per MAML meta-batch, and episodes per ProtoNet step (its paper takes one; a few
    #: let the step split between processes under ``torchrun``).
    maml_meta_batch_size: int = 2
    protonet_meta_batch_size: int = 2
    #: Classes per ProtoNet training episode (``None``: the test setting's ways).
    protonet_train_ways: int | None = None
    #: Query images per class in training episodes.
    train_queries: int = 5
    #: Fixed test episodes per setting, and their queries per class.
    test_episodes: int = 600
    test_queries: int = 15
    #: MAML's adaptation steps at test time.
    maml_test_steps: int = 3
    #: Conv-4 width.
    channels: int = 64

    @classmethod
    def smoke(cls) -> OmniglotBudget:
        """A few dozen steps per model: the whole pipeline on a CPU in minutes, far below what
        the methods reach."""
        return cls()

    @classmethod
    def paper(cls) -> OmniglotBudget:
        """The papers' settings — MAML with meta-batches of 32 tasks, 15 training queries per
        class, one inner step of 0.4 and three at test; ProtoNet on 60-way episodes — for 40,000
        MAML meta-batches and 20,000 ProtoNet steps of 4 episodes (our choices), for GPUs."""
        return cls(
            iterations={"protonet": 20_000, "maml": 40_000},
            maml_meta_batch_size=32,
            protonet_meta_batch_size=4,
            protonet_train_ways=60,
            train_queries=15,
        )


def _scored(learner: Any, tasks: FewShotTasks, budget: OmniglotBudget, seed: int, steps: int | None):
    episodes = tasks.fixed_episodes(budget.test_episodes, seed=seed)
    return episode_accuracy(learner, tasks, episodes, batch_size=5, steps=(steps,))[0]


def reproduce_omniglot(
    root: str | os.PathLike,
    *,
    methods: Sequence[str] = METHODS,
    settings: Sequence[tuple[int, int]] = SETTINGS,
    budget: OmniglotBudget | None = None,
    seed: int = 0,
    test_seed: int = 2017,
    device: str = "cpu",
    progress: bool | None = None,
) -> list[dict[str, Any]]:
    """Train and score a model per method and (ways, shots) setting on Omniglot under ``root``
    (the folders ``images_background`` and ``images_evaluation``).

    Returns:
        One row per model: ``method``, ``ways``, ``shots``, ``accuracy`` and ``ci95`` (fractions),
        ``paper`` (the paper's accuracy, a fraction), ``iterations``, ``test_episodes``.

    Raises:
        FileNotFoundError: when the Omniglot folders are missing (saying how to get them).
        ValueError: for an unknown method, or a setting with more ways than the split has classes.
    """
    budget = budget or OmniglotBudget.smoke()
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise ValueError(f"methods must be among {list(METHODS)}, got {unknown}")
    train = load_omniglot(root, split="vinyals-train", rotations=True)
    test = load_omniglot(root, split="vinyals-test", rotations=True)
    rows = []
    for ways, shots in settings:
        check_int("ways", ways, minimum=2)
        check_int("shots", shots, minimum=1)
        test_tasks = FewShotTasks(test, ways=ways, shots=shots, queries=budget.test_queries)
        for method in methods:
            seed_everything(seed)
            if method == "maml":
                learner = glyph_learner("maml", ways=ways, channels=budget.channels, device=device,
                                        adapt_steps=budget.maml_test_steps)  # fmt: skip
                train_ways, meta_batch = ways, budget.maml_meta_batch_size
            else:
                learner = glyph_learner("protonet", channels=budget.channels, device=device)
                train_ways = budget.protonet_train_ways or ways
                meta_batch = budget.protonet_meta_batch_size
            train_tasks = FewShotTasks(train, ways=train_ways, shots=shots, queries=budget.train_queries)
            learner.fit(train_tasks, iterations=budget.iterations[method], meta_batch_size=meta_batch,
                        seed=seed, progress=progress)  # fmt: skip
            accuracy = mean_ci(_scored(learner, test_tasks, budget, test_seed, None))
            rows.append({
                "method": method, "ways": ways, "shots": shots,
                "accuracy": accuracy.mean, "ci95": accuracy.ci95,
                "paper": PAPER[method][(ways, shots)] / 100,
                "iterations": len(learner.losses), "test_episodes": budget.test_episodes,
                "train_cpu_seconds": learner.train_seconds,
            })  # fmt: skip
    return rows


def omniglot_table(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as a Markdown table, each accuracy beside the paper's."""
    lines = ["| method | setting | accuracy (95% CI) | paper | iterations |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['method']} | {r['ways']}-way {r['shots']}-shot | {100 * r['accuracy']:.1f} ± "
            f"{100 * r['ci95']:.1f}% | {100 * r['paper']:.1f}% | {r['iterations']:,} |"
        )
    return "\n".join(lines)


def plot_omniglot(rows: Sequence[dict[str, Any]]):
    """Bars of each model's accuracy (with its 95% interval) beside a mark at the paper's."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    labels = [f"{r['method']}\n{r['ways']}w{r['shots']}s" for r in rows]
    xs = range(len(rows))
    ax.bar(xs, [100 * r["accuracy"] for r in rows], yerr=[100 * r["ci95"] for r in rows],
           color="#4c72b0", label="this run")  # fmt: skip
    ax.scatter(xs, [100 * r["paper"] for r in rows], marker="_", s=400, color="black", zorder=3,
               label="paper")  # fmt: skip
    ax.set_xticks(list(xs), labels)
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 100)
    ax.legend(loc="lower right")
    ax.set_title("Omniglot, Vinyals split with rotations")
    fig.tight_layout()
    return fig


__all__ = [
    "METHODS",
    "PAPER",
    "SETTINGS",
    "OmniglotBudget",
    "omniglot_table",
    "plot_omniglot",
    "reproduce_omniglot",
]
