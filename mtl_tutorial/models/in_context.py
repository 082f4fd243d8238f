"""A sequence model that learns a task from the examples in its input: in-context learning."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .._checks import check_int


class InContextTransformer(nn.Module):
    """A small transformer that predicts a query's target from the support pairs it is given.

    Every support pair ``(x, y)`` and every query ``x`` becomes one token: the pair's entries
    (``y`` set to zero for a query) and a flag that says which it is, mapped linearly to
    ``width`` numbers. ``depth`` pre-norm transformer layers follow, whose attention lets every
    token look at the support tokens and at itself only: queries never see one another, so a
    prediction depends on the support set and its own ``x`` alone, and the support set's order does
    not matter (there is no position encoding). A linear head reads each query token. It has no
    inner loop and no per-task weights: learning a task is one forward pass over its examples.

    Args:
        in_features: width of one input (default 1).
        target_features: width of one target, which is also the output width (default 1).
        width: token width (default 64).
        depth: transformer layers (default 2).
        heads: attention heads per layer; must divide ``width`` (default 4).
    """

    def __init__(
        self,
        in_features: int = 1,
        target_features: int = 1,
        *,
        width: int = 64,
        depth: int = 2,
        heads: int = 4,
    ) -> None:
        super().__init__()
        self.in_features = check_int("in_features", in_features, minimum=1)
        self.target_features = check_int("target_features", target_features, minimum=1)
        check_int("width", width, minimum=1)
        check_int("depth", depth, minimum=1)
        check_int("heads", heads, minimum=1)
        if width % heads:
            raise ValueError(f"heads must divide width, got width={width} and heads={heads}")
        self.embed = nn.Linear(self.in_features + self.target_features + 1, width)
        layer = nn.TransformerEncoderLayer(width, heads, dim_feedforward=4 * width, dropout=0.0,
                                           batch_first=True, norm_first=True)  # fmt: skip
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, self.target_features)

    def context(self, support_x: Tensor, support_y: Tensor) -> Tensor:
        """The support pairs as one tensor ``(tasks, support, in_features + target_features)``:
        all a task's adaptation amounts to."""
        return torch.cat([support_x, support_y], dim=-1)

    def forward(self, context: Tensor, query_x: Tensor) -> Tensor:
        """Predictions ``(tasks, queries, target_features)`` for queries ``(tasks, queries,
        in_features)`` given a :meth:`context` ``(tasks, support, in_features + target_features)``."""
        tasks, support, _ = context.shape
        queries = query_x.shape[1]
        ones = context.new_ones(tasks, support, 1)
        blank = query_x.new_zeros(tasks, queries, self.target_features + 1)
        tokens = torch.cat([torch.cat([context, ones], -1), torch.cat([query_x, blank], -1)], dim=1)
        # True = may not attend: every token sees the support tokens and itself, nothing else
        length = support + queries
        blocked = torch.ones(length, length, dtype=torch.bool, device=context.device)
        blocked[:, :support] = False
        blocked.fill_diagonal_(False)
        h = self.encoder(self.embed(tokens), mask=blocked)
        return self.head(self.norm(h[:, support:]))
