"""Meta-learners: they learn, from many tasks, how to learn a new one.

One short module per method, all behind :class:`mtl_tutorial.learner.Learner`.
"""

from .anil import ANIL
from .film import TaskConditioned
from .in_context import InContext
from .maml import MAML
from .metasgd import MetaSGD
from .protomaml import ProtoMAML, PrototypeHead
from .protonet import ProtoNet
from .reptile import Reptile

__all__ = [
    "ANIL", "InContext", "MAML", "MetaSGD", "ProtoMAML", "ProtoNet", "PrototypeHead", "Reptile",
    "TaskConditioned",
]  # fmt: skip
