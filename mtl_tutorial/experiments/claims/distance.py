"""How far a test task lies from the training tasks, measured without any learner.

- Sinusoids: the root-mean-square difference, on the input range, between the task's function
  and the nearest function the training distribution can produce (a grid over its amplitude and
  phase ranges). Tasks inside the training ranges are at distance ~0.
- Glyph scripts: for each class, one minus the largest cosine similarity between its mean image
  and the mean image of any training class; a script's distance is the mean over its classes.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from ..._checks import check_int
from ...tasks import ImageClasses, SinusoidTasks


def sinusoid_distance(
    amplitude: Tensor, phase: Tensor, train: SinusoidTasks | None = None, *, grid: int = 100
) -> Tensor:
    """RMS distance from each task ``A·sin(x − φ)`` to the nearest training sinusoid.

    Args:
        amplitude, phase: one entry per task, shape ``(tasks,)``.
        train: the training distribution (default :class:`~mtl_tutorial.tasks.SinusoidTasks`'s,
            amplitudes 0.1–5 and phases 0–π); its input range is where functions are compared.
        grid: points per axis of the amplitude × phase grid of training functions (default 100).

    Returns:
        ``(tasks,)`` distances, in the units of the outputs. The grid's spacing bounds the error:
        with the defaults, a task inside the training ranges is within about 0.04 of zero.
    """
    amplitude, phase = torch.as_tensor(amplitude).double(), torch.as_tensor(phase).double()
    if amplitude.dim() != 1 or amplitude.shape != phase.shape:
        raise ValueError(
            f"amplitude and phase must be 1-D with one entry per task, got {tuple(amplitude.shape)} "
            f"and {tuple(phase.shape)}"
        )
    check_int("grid", grid, minimum=2)
    train = train or SinusoidTasks()
    x = torch.linspace(*train.x_range, 200, dtype=torch.float64)
    a = torch.linspace(*train.amplitude_range, grid, dtype=torch.float64)
    p = torch.linspace(*train.phase_range, grid, dtype=torch.float64)
    a, p = torch.meshgrid(a, p, indexing="ij")
    reference = a.reshape(-1, 1) * torch.sin(x - p.reshape(-1, 1))  # (grid², points)
    tasks = amplitude[:, None] * torch.sin(x - phase[:, None])
    nearest = [
        torch.cdist(chunk, reference).min(dim=1).values for chunk in tasks.split(256)
    ]  # bounded memory
    return torch.cat(nearest) / x.numel() ** 0.5


def class_distance(
    classes: ImageClasses, train: ImageClasses, *, features: Callable[[Tensor], Tensor] | None = None
) -> Tensor:
    """Per class of ``classes``: 1 − the largest cosine similarity between its mean image and a
    training class's mean image. 0 means an identical mean image in training.

    ``features`` (default ``None``: the pixels) maps a batch of images, ``(N, C, H, W)`` floats in
    [0, 1], to feature vectors, ``(N, D)``: the distance is then between mean features, in the
    space a network sees the classes in (e.g. a pretrained backbone's ``features``).
    """

    def mean_images(c: ImageClasses) -> Tensor:
        if features is None:
            means = c.as_float(c.images).mean(dim=1).flatten(1)
        else:
            with torch.no_grad():
                means = torch.stack([features(c.as_float(images)).mean(dim=0).cpu() for images in c.images])
        return torch.nn.functional.normalize(means, dim=1)

    return 1 - (mean_images(classes) @ mean_images(train).T).max(dim=1).values


def script_distance(
    classes: ImageClasses, train: ImageClasses, *, features: Callable[[Tensor], Tensor] | None = None
) -> dict[str, float]:
    """Mean :func:`class_distance` of each script (``classes.groups``), nearest script first."""
    if classes.groups is None:
        raise ValueError("classes has no groups (scripts); build it with groups=[script of each class]")
    per_class = class_distance(classes, train, features=features)
    scripts = sorted(set(classes.groups))
    means = {s: per_class[[i for i, g in enumerate(classes.groups) if g == s]].mean().item() for s in scripts}
    return dict(sorted(means.items(), key=lambda item: item[1]))
