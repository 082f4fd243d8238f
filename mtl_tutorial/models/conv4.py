"""The 4-block convolutional backbone of the few-shot literature (Vinyals et al. 2016; Finn et al.
2017; Snell et al. 2017), with per-example normalisation."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._checks import check_int


def conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """3×3 convolution, GroupNorm, 2×2 max-pooling, ReLU.

    The literature's order is ReLU, then pooling; max-pooling and ReLU commute (both the values
    and the gradients are the same, exactly), and pooling first applies the ReLU to a quarter of
    the elements: a training step of the Conv-4 is about 10% faster on the CPU.
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1),
        # The literature uses BatchNorm; with batch statistics one query's prediction depends on
        # the other queries (see mtl_tutorial.learner). GroupNorm normalises each example alone.
        nn.GroupNorm(groups_for(out_channels), out_channels),
        nn.MaxPool2d(2),
        nn.ReLU(),
    )


def groups_for(channels: int) -> int:
    """Groups of 8 channels where that divides evenly (8 groups for 64 channels), else one group."""
    return channels // 8 if channels % 8 == 0 else 1


class Conv4(nn.Module):
    """Four conv blocks (default 64 channels) and, optionally, a linear head.

    On 28×28 inputs the blocks give 64 × 1 × 1 features (28 → 14 → 7 → 3 → 1).

    Args:
        in_channels: image channels (default 1).
        channels: width of every block (default 64).
        num_classes: size of a linear classification head; ``None`` (default) returns features.
        image_size: side of the (square) input, to size the head (default 28).
    """

    def __init__(
        self, in_channels: int = 1, channels: int = 64, num_classes: int | None = None, image_size: int = 28
    ) -> None:
        super().__init__()
        check_int("in_channels", in_channels, minimum=1)
        check_int("channels", channels, minimum=1)
        self.features = nn.Sequential(
            conv_block(in_channels, channels),
            conv_block(channels, channels),
            conv_block(channels, channels),
            conv_block(channels, channels),
            nn.Flatten(),
        )
        side = check_int("image_size", image_size, minimum=16)
        for _ in range(4):
            side //= 2
        self.feature_dim = channels * side * side
        self.head = nn.Linear(self.feature_dim, num_classes) if num_classes is not None else None
        # Channels-last weights make the CPU's convolutions, GroupNorm and pooling run on NHWC
        # activations: a training step about 1.5 times faster (benchmarks/image_throughput.py).
        # Under torch.vmap GroupNorm cannot take them, so the learners loop over tasks instead
        # (mtl_tutorial.adaptation.loops_over_tasks).
        self.to(memory_format=torch.channels_last)

    def forward(self, x: Tensor) -> Tensor:
        features = self.features(x)
        return self.head(features) if self.head is not None else features

    def functional_forward(self, params: dict[str, Tensor], x: Tensor) -> Tensor:
        """``forward(x)`` with the weights in ``params`` (named as in ``named_parameters()``).

        The same operations as :meth:`forward`, without swapping the module's parameters as
        :func:`torch.func.functional_call` does: so several threads can apply different weights
        at once (:mod:`mtl_tutorial.task_threads`), and nothing is re-parametrised per call.
        """
        for i, block in enumerate(self.features[:4]):
            conv, norm = f"features.{i}.0.", f"features.{i}.1."
            x = F.conv2d(x, params[conv + "weight"], params[conv + "bias"], padding=1)
            groups, eps = block[1].num_groups, block[1].eps
            x = F.group_norm(x, groups, params[norm + "weight"], params[norm + "bias"], eps)
            x = F.relu(F.max_pool2d(x, 2))
        x = x.flatten(1)
        return F.linear(x, params["head.weight"], params["head.bias"]) if self.head is not None else x
