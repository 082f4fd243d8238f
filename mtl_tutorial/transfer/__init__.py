"""Transfer learners: pretrain on source tasks, then adapt to the target task."""

from .baselines import (
    CosineClassifier,
    FullFineTuning,
    L2SPFineTuning,
    LinearProbe,
    NearestCentroid,
    TransferBaseline,
)
from .finetune import FineTuning
from .pretrained import SupervisedPretraining

__all__ = [
    "CosineClassifier",
    "FineTuning",
    "FullFineTuning",
    "L2SPFineTuning",
    "LinearProbe",
    "NearestCentroid",
    "SupervisedPretraining",
    "TransferBaseline",
]
