"""Training loop, seeding, checkpoints and the divergence guard."""

from .checkpoint import Checkpointing, GeneratorState, load_checkpoint, save_atomically
from .loop import TrainingDiverged, run_training, seed_everything

__all__ = [
    "Checkpointing",
    "GeneratorState",
    "TrainingDiverged",
    "load_checkpoint",
    "run_training",
    "save_atomically",
    "seed_everything",
]
