"""Meta-learners: they learn, from many tasks, how to learn a new one."""

from .maml import MAML

__all__ = ["MAML"]
