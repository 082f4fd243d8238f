"""Training loop, seeding and the divergence guard."""

from .loop import TrainingDiverged, run_training, seed_everything

__all__ = ["TrainingDiverged", "run_training", "seed_everything"]
