"""The linear probe for regression: keep a pretrained network's hidden layers, refit its last layer.

The classification probe (:class:`~mtl_tutorial.transfer.LinearProbe`) trains a new softmax head
on frozen features. For regression the new head has a closed form: ridge regression of the
support targets on the frozen features, solved exactly per task, with no step size or step count
to tune.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .._checks import check_positive_float
from ..tasks import Episode
from .finetune import FineTuning


class RidgeProbe(FineTuning):
    """Pretrain like :class:`FineTuning`; adapt by refitting only the last linear layer, in closed form.

    Per task, with ``F`` the frozen features of the support points (the output of every layer
    but the last, plus a constant 1 for the bias), the new last layer is
    ``W = (FᵀF + ridge·I)⁻¹ Fᵀy``: the least-squares fit, shrunk towards zero so that it is
    defined even when there are fewer support points than features.

    Args:
        model: a network whose last module is an ``nn.Linear`` (an :class:`~mtl_tutorial.MLP`,
            or an ``nn.Sequential``).
        ridge: the penalty on the new layer's squared weights (default 0.1).
        **kwargs: passed to :class:`FineTuning` (``pretrain_lr``, ``device``, ...).

    Raises:
        ValueError: for a model whose last module is not linear, or a ridge that is not > 0.
    """

    name = "ridge_probe"

    def __init__(self, model: nn.Module, *, ridge: float = 0.1, **kwargs) -> None:
        layers = getattr(model, "net", model)
        if not isinstance(layers, nn.Sequential) or not isinstance(layers[-1], nn.Linear):
            raise ValueError(
                "RidgeProbe needs a model whose last module is an nn.Linear (an MLP or an "
                f"nn.Sequential), got {type(model).__name__}"
            )
        super().__init__(model, **kwargs)
        self.ridge = check_positive_float("ridge", ridge)
        self._body, self._head = layers[:-1], layers[-1]

    def features(self, x: Tensor) -> Tensor:
        """Frozen features with a trailing constant 1: ``(tasks, points, hidden + 1)``."""
        with torch.no_grad():
            h = self._body(x.to(self.device))
        return torch.cat([h, torch.ones_like(h[..., :1])], dim=-1)

    def adapt(self, episode: Episode, steps: int | None = None) -> Tensor:
        """Per-task weights ``(tasks, hidden + 1, outputs)`` of the new last layer (``steps``: ignored)."""
        # in double precision: ReLU features of a 1-D input are nearly collinear, and the normal
        # equations square their condition number
        f = self.features(episode.support_x).double()
        y = episode.support_y.to(self.device).double()
        gram = f.transpose(1, 2) @ f + self.ridge * torch.eye(f.shape[-1], device=f.device, dtype=f.dtype)
        dtype = next(self.model.parameters()).dtype
        return torch.linalg.solve(gram, f.transpose(1, 2) @ y).to(dtype)

    def adapted_parameters(self, ways: int = 5) -> int:
        """The last linear layer's weights and biases, refitted per task."""
        return sum(p.numel() for p in self._head.parameters())

    def predict(self, adapted: Tensor, x: Tensor) -> Tensor:
        return self.features(x) @ adapted

    def config(self) -> dict:
        return {**super().config(), "ridge": self.ridge}
