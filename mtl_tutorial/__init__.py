"""mtl_tutorial: the companion package of the book on meta-learning and transfer learning.

Data flows one way: task distribution -> episodes -> learner -> adapted predictor -> evaluation.
"""

from .evaluation import (
    MeanCI,
    count_diverged,
    diverged_tasks,
    fraction_better,
    mean_ci,
    paired_difference,
    query_accuracy,
    query_mse,
    results_table,
    summarise,
)
from .learner import GradientLearner, Learner
from .meta import ANIL, MAML, InContext, MetaSGD, ProtoMAML, ProtoNet, Reptile, TaskConditioned
from .models import MLP, FiLMNetwork, InContextTransformer
from .tasks import Episode, GaussianClusterTasks, SinusoidTasks
from .training import Checkpointing, TrainingDiverged, seed_everything
from .transfer import FineTuning

__version__ = "0.1.0"

__all__ = [
    "ANIL",
    "MAML",
    "MLP",
    "Checkpointing",
    "Episode",
    "FiLMNetwork",
    "FineTuning",
    "GaussianClusterTasks",
    "GradientLearner",
    "InContext",
    "InContextTransformer",
    "Learner",
    "MeanCI",
    "MetaSGD",
    "ProtoMAML",
    "ProtoNet",
    "Reptile",
    "SinusoidTasks",
    "TaskConditioned",
    "TrainingDiverged",
    "count_diverged",
    "diverged_tasks",
    "fraction_better",
    "mean_ci",
    "paired_difference",
    "query_accuracy",
    "query_mse",
    "results_table",
    "summarise",
    "seed_everything",
]
