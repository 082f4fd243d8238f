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
from .lora import LoRAFineTuning, LowRankUpdate, with_low_rank_updates
from .partial import (
    PartialFineTuning,
    count_blocks,
    freeze_prefix,
    split_backbone,
)
from .pretrained import SupervisedPretraining
from .ridge_probe import RidgeProbe

__all__ = [
    "CosineClassifier",
    "FineTuning",
    "FullFineTuning",
    "L2SPFineTuning",
    "LinearProbe",
    "LoRAFineTuning",
    "LowRankUpdate",
    "NearestCentroid",
    "PartialFineTuning",
    "RidgeProbe",
    "SupervisedPretraining",
    "TransferBaseline",
    "count_blocks",
    "freeze_prefix",
    "split_backbone",
    "with_low_rank_updates",
]
