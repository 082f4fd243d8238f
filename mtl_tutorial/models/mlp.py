"""Multi-layer perceptron, the MAML paper's sinusoid regressor by default."""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from .._checks import check_int


class MLP(nn.Module):
    """A fully connected ReLU network.

    Args:
        in_features: input width (default 1).
        hidden: widths of the hidden layers (default ``(40, 40)``, the MAML paper's 1–40–40–1).
        out_features: output width (default 1).

    Raises:
        ValueError: if a width is not an integer >= 1.
    """

    def __init__(self, in_features: int = 1, hidden: Sequence[int] = (40, 40), out_features: int = 1) -> None:
        super().__init__()
        widths = [check_int("in_features", in_features, minimum=1)]
        widths += [check_int(f"hidden[{i}]", h, minimum=1) for i, h in enumerate(hidden)]
        widths.append(check_int("out_features", out_features, minimum=1))
        layers: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            layers.append(nn.Linear(fan_in, fan_out))
            if i < len(widths) - 2:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)
        self.in_features = widths[0]
        self._linear_names = [
            (f"net.{i}.weight", f"net.{i}.bias") for i, m in enumerate(layers) if isinstance(m, nn.Linear)
        ]

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.in_features:
            raise ValueError(
                f"MLP expects inputs whose last dimension is {self.in_features}, got shape {tuple(x.shape)}"
            )
        return self.net(x)

    def functional_forward(self, params: dict[str, Tensor], x: Tensor) -> Tensor:
        """The forward pass with the parameters in ``params`` (as named by ``named_parameters``).

        Equal to ``torch.func.functional_call(self, params, (x,))``, and faster for small
        networks; the adaptation code uses it when a model offers it.
        """
        last = len(self._linear_names) - 1
        for i, (weight, bias) in enumerate(self._linear_names):
            x = F.linear(x, params[weight], params[bias])
            if i < last:
                x = F.relu(x)
        return x
