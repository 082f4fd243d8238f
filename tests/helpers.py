"""Small shared fixtures for the learner tests."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import torch

import mtl_tutorial
from mtl_tutorial import Episode
from mtl_tutorial.learner import Trainable


def flat_params(module: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in module.parameters()])


def as_double(episode: Episode) -> Episode:
    return Episode(
        episode.support_x.double(),
        episode.support_y if not episode.support_y.is_floating_point() else episode.support_y.double(),
        episode.query_x.double(),
        episode.query_y if not episode.query_y.is_floating_point() else episode.query_y.double(),
        num_ways=episode.num_ways,
    )


class FixedTasks:
    """A task source that always returns the same episode (for hand-computed cases)."""

    def __init__(self, episode: Episode) -> None:
        self.episode = episode

    def sample(self, num_tasks, *, seed=None, generator=None) -> Episode:
        return self.episode


class InterruptAfter:
    """Wraps a task source and raises KeyboardInterrupt on the (n + 1)-th draw: a killed run."""

    def __init__(self, tasks, n: int) -> None:
        self.tasks, self.remaining = tasks, n

    def sample(self, num_tasks, *, seed=None, generator=None) -> Episode:
        if self.remaining == 0:
            raise KeyboardInterrupt
        self.remaining -= 1
        return self.tasks.sample(num_tasks, seed=seed, generator=generator)


def run_at_once(target, args, processes: int = 3) -> list[int]:
    """Start ``processes`` forked processes running ``target(*args)`` together; their exit codes."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=target, args=args) for _ in range(processes)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    return [worker.exitcode for worker in workers]


def concrete_trainables() -> set[type]:
    """Every class of the package that can be trained: concrete subclasses of ``Trainable``."""
    for module in pkgutil.walk_packages(mtl_tutorial.__path__, "mtl_tutorial."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    found, todo = set(), [Trainable]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if not inspect.isabstract(sub) and sub.__module__.startswith("mtl_tutorial."):
                found.add(sub)
    return found
