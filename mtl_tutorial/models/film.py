"""A task-conditioned network: a set encoder reads the support set and modulates a base MLP."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._checks import check_int
from .mlp import MLP


class FiLMNetwork(nn.Module):
    """A base MLP whose hidden layers are scaled and shifted per task (FiLM, Perez et al. 2018).

    :meth:`encode` embeds every support pair ``(x, y)`` with a small MLP, averages the embeddings
    over the support set (so the result ignores the order of the examples), and maps the average
    to one scale ``γ`` and one shift ``β`` per hidden unit of the base network. :meth:`forward`
    then computes each hidden layer as ``(1 + γ) ⊙ relu(W h + b) + β``. The output layer of the
    encoder starts at zero, so an untrained network is the plain base MLP.

    Args:
        in_features: width of one input (default 1).
        out_features: width of the output: 1 for regression, the number of ways for
            classification (default 1).
        hidden: widths of the base network's hidden layers (default ``(40, 40)``).
        encoder_hidden: widths of the support-pair encoder's hidden layers (default ``(40, 40)``).
        num_classes: for classification, the number of ways; targets are then one-hot encoded
            for the encoder. ``None`` (default) treats targets as real vectors of
            ``target_features`` entries.
        target_features: width of a regression target (default 1).
    """

    def __init__(
        self,
        in_features: int = 1,
        out_features: int = 1,
        hidden: Sequence[int] = (40, 40),
        *,
        encoder_hidden: Sequence[int] = (40, 40),
        num_classes: int | None = None,
        target_features: int = 1,
    ) -> None:
        super().__init__()
        self.in_features = check_int("in_features", in_features, minimum=1)
        self.num_classes = None if num_classes is None else check_int("num_classes", num_classes, minimum=2)
        target_width = self.num_classes or check_int("target_features", target_features, minimum=1)
        widths = [self.in_features] + [check_int(f"hidden[{i}]", h, minimum=1) for i, h in enumerate(hidden)]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True))
        self.head = nn.Linear(widths[-1], check_int("out_features", out_features, minimum=1))
        self.hidden_widths = widths[1:]
        if len(encoder_hidden) == 0:
            raise ValueError("encoder_hidden must list at least one width, got ()")
        *encoder_layers, last = encoder_hidden
        self.pair_encoder = MLP(self.in_features + target_width, tuple(encoder_layers), last)
        self.to_film = nn.Linear(last, 2 * sum(self.hidden_widths))
        nn.init.zeros_(self.to_film.weight)
        nn.init.zeros_(self.to_film.bias)

    def encode(self, support_x: Tensor, support_y: Tensor) -> Tensor:
        """FiLM parameters of shape ``(tasks, 2 · hidden units)`` from support sets."""
        if self.num_classes is not None:
            targets = F.one_hot(support_y, self.num_classes).to(support_x.dtype)
        else:
            targets = support_y.reshape(*support_y.shape[:2], -1)
        pairs = torch.cat([support_x.reshape(*support_x.shape[:2], -1), targets], dim=-1)
        return self.to_film(torch.relu(self.pair_encoder(pairs)).mean(dim=1))

    def forward(self, x: Tensor, film: Tensor) -> Tensor:
        """Outputs ``(tasks, points, out_features)`` for inputs ``(tasks, points, in_features)``."""
        gammas, betas = film.unsqueeze(1).split(sum(self.hidden_widths), dim=-1)
        h = x
        start = 0
        for layer, width in zip(self.layers, self.hidden_widths, strict=True):
            gamma, beta = gammas[..., start : start + width], betas[..., start : start + width]
            h = (1 + gamma) * torch.relu(layer(h)) + beta
            start += width
        return self.head(h)
