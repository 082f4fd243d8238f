"""Scoring learners on a fixed set of tasks: query MSE for regression, accuracy for classification."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor

from .._checks import check_int
from ..learner import Learner, check_ways
from ..tasks import Episode, EpisodeIndices, FewShotTasks
from .stats import summarise


def adapt_for_scoring(learner: Learner, episodes: Episode, steps: int | None):
    """``learner.adapt`` without the graph a meta-gradient would need, where that gives the same
    result (:attr:`~mtl_tutorial.learner.Learner.adapts_without_autograd`): scoring never
    differentiates through it."""
    quiet = torch.no_grad() if learner.adapts_without_autograd else contextlib.nullcontext()
    with quiet:
        return learner.adapt(episodes, steps=steps)


def fits_after_steps(
    learners: Mapping[str, Learner], task: Episode, x: Tensor, steps: Sequence[int] = (1, 10)
) -> dict[str, dict[int, Tensor]]:
    """Each learner's predictions at the inputs ``x`` after adapting to ``task``'s support set with
    each number of steps in ``steps`` (default ``(1, 10)``): what a fit plot draws.

    Args:
        learners: name -> learner.
        task: one task (an :class:`~mtl_tutorial.tasks.Episode` with a single task).
        x: inputs, shape ``(points,)`` for one input feature or ``(points, features)``.

    Returns:
        ``{name: {steps: predictions}}``, predictions of shape ``(points,)`` for one output (else
        ``(points, outputs)``), on the CPU.
    """
    if task.num_tasks != 1:
        raise ValueError(f"task must hold one task, got an episode of {task.num_tasks}")
    if not steps:
        raise ValueError("steps must list at least one number of adaptation steps, got none")
    grid = x.reshape(1, x.shape[0], -1).to(task.support_x)
    fits: dict[str, dict[int, Tensor]] = {}
    for name, learner in learners.items():
        fits[name] = {}
        for s in steps:
            adapted = adapt_for_scoring(learner, task, check_int("steps entry", s, minimum=0))
            with torch.no_grad():
                fits[name][s] = learner.predict(adapted, grid).cpu().reshape(x.shape[0], -1).squeeze(-1)
    return fits


def query_mse(learner: Learner, episodes: Episode, steps: Sequence[int] = (0, 1, 10)) -> Tensor:
    """Per-task query MSE after adapting with each number of steps in ``steps``.

    Every learner is scored on the same ``episodes``, so results can be compared pairwise.

    Returns:
        A tensor of shape ``(len(steps), tasks)``.
    """
    if len(steps) == 0:
        raise ValueError("steps must list at least one number of adaptation steps, got none")
    rows = []
    for s in steps:
        check_int("steps entry", s, minimum=0)
        adapted = adapt_for_scoring(learner, episodes, s)
        with torch.no_grad():
            prediction = learner.predict(adapted, episodes.query_x)
            target = episodes.query_y.to(prediction.device)
            rows.append(((prediction - target) ** 2).mean(dim=(1, 2)).cpu())
    return torch.stack(rows)


def query_accuracy(learner: Learner, episodes: Episode, steps: Sequence[int | None] = (None,)) -> Tensor:
    """Per-task query accuracy of a classifier after adapting with each entry of ``steps``.

    ``None`` means the learner's default (learners that take no gradient steps ignore it).

    Returns:
        A tensor of shape ``(len(steps), tasks)`` with values in ``[0, 1]``.
    """
    if not episodes.is_classification:
        raise ValueError("query_accuracy needs a classification episode (num_ways set); use query_mse")
    if len(steps) == 0:
        raise ValueError("steps must list at least one number of adaptation steps, got none")
    rows = []
    for s in steps:
        if s is not None:
            check_int("steps entry", s, minimum=0)
        adapted = adapt_for_scoring(learner, episodes, s)
        with torch.no_grad():
            logits = learner.predict(adapted, episodes.query_x)
            check_ways(logits, episodes)
            correct = logits.argmax(dim=-1).cpu() == episodes.query_y.cpu()
            rows.append(correct.double().mean(dim=1))
    return torch.stack(rows)


def episode_accuracy(
    learner: Learner,
    tasks: FewShotTasks,
    indices: EpisodeIndices,
    *,
    batch_size: int = 5,
    steps: Sequence[int | None] = (None,),
) -> Tensor:
    """:func:`query_accuracy` on a fixed list of episodes (``tasks.fixed_episodes``), built and
    scored ``batch_size`` (default 5) at a time so that memory stays small.

    Returns:
        A tensor of shape ``(len(steps), episodes)``.
    """
    check_int("batch_size", batch_size, minimum=1)
    return torch.cat(
        [
            query_accuracy(learner, tasks.episode(indices, slice(i, i + batch_size)), steps)
            for i in range(0, len(indices), batch_size)
        ],
        dim=1,
    )


def results_table(results: Mapping[str, Tensor], steps: Sequence[int | str]) -> str:
    """A Markdown table of mean ± 95% CI, one row per method and one column per step count.

    ``results`` maps a method's name to the output of :func:`query_mse` (or
    :func:`query_accuracy`) for ``steps``; an entry of ``steps`` that is a string is used as its
    column's heading as it is. Where some tasks diverged (infinite or NaN error) the mean is
    undefined, and the cell says how many tasks diverged and gives the median instead.
    """
    headings = [s if isinstance(s, str) else f"{s} step{'s' if s != 1 else ''}" for s in steps]
    header = "| method | " + " | ".join(headings) + " |"
    lines = [header, "|---" * (len(steps) + 1) + "|"]
    for name, values in results.items():
        if values.shape[0] != len(steps):
            raise ValueError(
                f"results[{name!r}] has {values.shape[0]} rows but steps has {len(steps)} entries"
            )
        lines.append(f"| {name} | " + " | ".join(summarise(row).text() for row in values) + " |")
    return "\n".join(lines)
