"""mtl_tutorial: the companion package of the book on meta-learning and transfer learning.

Data flows one way: task distribution -> episodes -> learner -> adapted predictor -> evaluation.
"""

from .evaluation import MeanCI, mean_ci, paired_difference, query_mse, results_table
from .learner import GradientLearner, Learner
from .meta import MAML
from .models import MLP
from .tasks import Episode, SinusoidTasks
from .training import TrainingDiverged, seed_everything
from .transfer import FineTuning

__version__ = "0.1.0"

__all__ = [
    "MAML",
    "MLP",
    "Episode",
    "FineTuning",
    "GradientLearner",
    "Learner",
    "MeanCI",
    "SinusoidTasks",
    "TrainingDiverged",
    "mean_ci",
    "paired_difference",
    "query_mse",
    "results_table",
    "seed_everything",
]
