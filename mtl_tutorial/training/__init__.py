"""Training loop, seeding, checkpoints and the divergence guard."""

from .checkpoint import Checkpointing, GeneratorState, exclusive_lock, load_checkpoint, save_atomically
from .loop import TrainingDiverged, run_training, seed_everything

__all__ = [
    "Checkpointing",
    "GeneratorState",
    "TrainingDiverged",
    "load_checkpoint",
    "run_training",
    "exclusive_lock",
    "save_atomically",
    "seed_everything",
]
