"""Transfer learners: pretrain on source tasks, then adapt to the target task."""

from .finetune import FineTuning

__all__ = ["FineTuning"]
