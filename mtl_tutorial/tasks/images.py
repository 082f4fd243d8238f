"""Image classes and N-way K-shot episodes drawn from them."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from .._checks import check_int
from .episode import Episode, task_generator


class ImageClasses:
    """A labelled image collection, one row per class: ``images`` is
    ``(classes, images per class, channels, height, width)``, uint8 (0–255) or float.

    ``names`` names each class; ``groups`` optionally says which alphabet (script) each class
    belongs to.
    """

    def __init__(self, images: torch.Tensor, names: list[str], groups: list[str] | None = None) -> None:
        if images.dim() != 5:
            raise ValueError(
                "images must be (classes, images per class, channels, height, width), "
                f"got {tuple(images.shape)}"
            )
        if len(names) != images.shape[0]:
            raise ValueError(f"names has {len(names)} entries for {images.shape[0]} classes")
        self.images = images
        self.names = list(names)
        self.groups = list(groups) if groups is not None else None

    @property
    def num_classes(self) -> int:
        return self.images.shape[0]

    @property
    def images_per_class(self) -> int:
        return self.images.shape[1]

    def __len__(self) -> int:
        return self.num_classes

    def as_float(self, images: torch.Tensor) -> torch.Tensor:
        """Pixels in [0, 1], in torch's default floating-point dtype (float32 unless changed)."""
        dtype = torch.get_default_dtype()
        return images.to(dtype) / 255.0 if images.dtype == torch.uint8 else images.to(dtype)

    def flat(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Every image with its class index: ``(N, C, H, W)`` floats and ``(N,)`` labels."""
        c, n = self.images.shape[:2]
        x = self.as_float(self.images.reshape(c * n, *self.images.shape[2:]))
        return x, torch.arange(c).repeat_interleave(n)


@dataclass(frozen=True)
class EpisodeIndices:
    """Which classes and images make up each of a fixed list of episodes; small, so it can be
    saved and every method evaluated on exactly the same episodes."""

    classes: torch.Tensor  # (episodes, ways), class indices
    images: torch.Tensor  # (episodes, ways, shots + queries), image indices within each class
    shots: int

    def save(self, path: str | os.PathLike) -> None:
        torch.save({"classes": self.classes, "images": self.images, "shots": self.shots}, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> EpisodeIndices:
        saved = torch.load(path, weights_only=True)
        return cls(saved["classes"], saved["images"], int(saved["shots"]))

    def __len__(self) -> int:
        return self.classes.shape[0]


class FewShotTasks:
    """N-way K-shot classification tasks from :class:`ImageClasses`.

    Each task draws ``ways`` classes and, from each, ``shots`` support and ``queries`` query
    images, all distinct; labels are remapped to ``0 … ways - 1`` in the order the classes were
    drawn. Sampling is seeded (``seed``, or a ``generator`` for a stream).

    Raises:
        ValueError: for more ways than there are classes, or more shots plus queries than a class
            has images, naming both numbers and what to change.
    """

    def __init__(self, classes: ImageClasses, ways: int = 5, shots: int = 1, queries: int = 15) -> None:
        self.classes = classes
        self.ways = check_int("ways", ways, minimum=2)
        self.shots = check_int("shots", shots, minimum=1)
        self.queries = check_int("queries", queries, minimum=1)
        if ways > classes.num_classes:
            raise ValueError(
                f"asked for {ways}-way tasks but there are only {classes.num_classes} classes; "
                f"use at most {classes.num_classes} ways or a split with more classes"
            )
        if shots + queries > classes.images_per_class:
            raise ValueError(
                f"asked for {shots} shots + {queries} queries = {shots + queries} images per class, but "
                f"each class has {classes.images_per_class}; lower shots or queries so they sum to at most "
                f"{classes.images_per_class}"
            )

    def sample_indices(
        self, num_tasks: int, *, seed: int | None = None, generator: torch.Generator | None = None
    ) -> EpisodeIndices:
        """Draw the classes and images of ``num_tasks`` tasks."""
        check_int("num_tasks", num_tasks, minimum=1)
        generator = task_generator(seed, generator)
        c, n = self.classes.num_classes, self.classes.images_per_class
        classes = torch.rand(num_tasks, c, generator=generator).argsort(dim=1)[:, : self.ways]
        images = torch.rand(num_tasks, self.ways, n, generator=generator).argsort(dim=2)
        return EpisodeIndices(classes, images[..., : self.shots + self.queries], self.shots)

    def episode(self, indices: EpisodeIndices, which: slice | torch.Tensor | None = None) -> Episode:
        """The :class:`Episode` (a batch of tasks) for ``indices``, or the tasks ``which`` of it."""
        classes, images = indices.classes, indices.images
        if which is not None:
            classes, images = classes[which], images[which]
        t, w, m = images.shape
        picked = self.classes.images[classes.unsqueeze(-1).expand(-1, -1, m), images]  # (t, w, m, C, H, W)
        picked = self.classes.as_float(picked)
        k = indices.shots
        labels = torch.arange(w).view(1, w, 1)
        support_x = picked[:, :, :k].reshape(t, w * k, *picked.shape[3:])
        query_x = picked[:, :, k:].reshape(t, w * (m - k), *picked.shape[3:])
        return Episode(
            support_x,
            labels.expand(t, w, k).reshape(t, w * k),
            query_x,
            labels.expand(t, w, m - k).reshape(t, w * (m - k)),
            num_ways=w,
        )

    def sample(
        self, num_tasks: int, *, seed: int | None = None, generator: torch.Generator | None = None
    ) -> Episode:
        """``num_tasks`` fresh tasks as one :class:`Episode` (the task-source protocol)."""
        return self.episode(self.sample_indices(num_tasks, seed=seed, generator=generator))

    def fixed_episodes(self, num_tasks: int = 600, *, seed: int = 2017) -> EpisodeIndices:
        """A fixed list of test episodes (600 by default, the field's protocol)."""
        return self.sample_indices(num_tasks, seed=seed)
