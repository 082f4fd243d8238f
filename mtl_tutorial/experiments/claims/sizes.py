"""How big each claims run is: the full-size sweep of ``mtl-tutorial claims``, the book's
smaller version that fits a notebook's time budget on 2 CPU cores, and a tiny one for tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..._checks import check_int
from ...tasks import GlyphConfig

#: The support-set sizes K of the data-scarcity experiment.
SHOTS = (1, 2, 5, 10, 20, 50)


def check_shots(shots: Sequence[int]) -> None:
    """``ValueError`` unless ``shots`` lists at least one support-set size, each an int >= 1."""
    if len(shots) == 0:
        raise ValueError("shots must list at least one support-set size, got none")
    for k in shots:
        check_int("shots entry", k, minimum=1)


@dataclass(frozen=True)
class ClaimsSize:
    """Keyword arguments of :func:`.sinusoid.sinusoid_claims` and :func:`.glyphs.glyph_claims`."""

    sinusoid: dict[str, Any] = field(default_factory=dict)
    glyphs: dict[str, Any] = field(default_factory=dict)


SIZES: dict[str, ClaimsSize] = {
    # every K of the issue; glyphs with 65 images per class so that K = 50 leaves 15 queries.
    # About 1.5 minutes (sinusoid) and 15 minutes (glyphs) on one CPU thread; a GPU gains little,
    # since these small networks and batches of 2 episodes are bound by per-step latency.
    "full": ClaimsSize(
        sinusoid=dict(iterations=20_000, shots=SHOTS, test_tasks=1000, dissimilarity_tasks=5000,
                      validation_tasks=300, checkpoints=20),
        glyphs=dict(iterations={"protonet": 1000, "maml": 500, "pretraining": 2000}, shots=SHOTS,
                    queries=15, test_episodes=300, script_episodes=100, validation_episodes=100,
                    checkpoints=5, channels=32, glyphs=GlyphConfig(images_per_class=65)),
    ),
    # the chapter's version, within a notebook's 90 s on one CPU thread. MAML is left out on
    # glyphs: at a budget this small it stays far from trained (60 iterations: 30-45 points
    # below every other method), so comparing with it would say nothing about the claims.
    "book": ClaimsSize(
        sinusoid=dict(iterations=6000, shots=SHOTS, test_tasks=600, dissimilarity_tasks=2000,
                      validation_tasks=100, checkpoints=20),
        glyphs=dict(methods=("protonet", "linear_probe", "finetune"),
                    iterations={"protonet": 100, "pretraining": 300}, shots=(1, 2, 5, 10),
                    queries=5, test_episodes=50, script_episodes=20, validation_episodes=30,
                    checkpoints=5, channels=32),
    ),
    "tiny": ClaimsSize(
        sinusoid=dict(iterations=20, shots=(1, 10), test_tasks=20, dissimilarity_tasks=200,
                      validation_tasks=10, checkpoints=2),
        glyphs=dict(iterations={"protonet": 2, "maml": 2, "pretraining": 3}, shots=(1, 2), queries=2,
                    test_episodes=4, script_episodes=2, validation_episodes=2, checkpoints=1,
                    channels=4),
    ),
}  # fmt: skip
