"""Low-rank adaptation (LoRA, Hu et al. 2022) of a pretrained backbone's last blocks.

A weight matrix ``W`` stays frozen; adaptation trains a low-rank update instead, so the layer
computes with ``W + (α / r) B A``, where ``B`` is ``out × r`` and ``A`` is ``r × in`` (Hu et al.
2022, eq. 3). ``B`` starts at zero, so before any step the adapted network *is* the pretrained
one; ``A`` starts random. A convolution's kernel ``(out, in, k, k)`` is treated as the matrix
``out × (in·k·k)`` it multiplies the unfolded input patches with, so its update is a rank-``r``
change of the whole 3×3 kernel — ``r · (out + in·k·k)`` numbers instead of ``out · in·k·k``.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._checks import check_int, check_positive_float
from .partial import PartialFineTuning
from .pretrained import SupervisedPretraining


class LowRankUpdate(nn.Module):
    """A frozen ``nn.Linear`` or ``nn.Conv2d`` plus a trainable low-rank update of its weight.

    The wrapped layer is shared, not copied, and never trained here: only ``lora_a`` (``rank ×
    fan-in``, drawn from ``N(0, 1/fan-in)``) and ``lora_b`` (``out × rank``, zeros) are parameters
    of this module's own. The output is the layer's, computed with weight
    ``W + (alpha / rank) · (lora_b @ lora_a)`` reshaped to ``W``'s shape.

    Args:
        layer: the frozen layer (``nn.Linear``, or ``nn.Conv2d`` with zero padding).
        rank: rank of the update, from 1 to ``min(out, fan-in)``.
        alpha: scale numerator (default: ``rank``, so the update is ``B A`` unscaled).
        generator: random numbers for ``lora_a`` (default: torch's global generator).

    Raises:
        ValueError: for another kind of layer, or a rank that is not an integer in range.
    """

    def __init__(
        self,
        layer: nn.Module,
        rank: int,
        *,
        alpha: float | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(layer, (nn.Linear, nn.Conv2d)):
            raise ValueError(f"a low-rank update needs an nn.Linear or nn.Conv2d, got {type(layer).__name__}")
        if isinstance(layer, nn.Conv2d) and layer.padding_mode != "zeros":
            raise ValueError(
                f"only zero-padded convolutions are supported, got padding_mode={layer.padding_mode!r}"
            )
        out, fan_in = layer.weight.shape[0], layer.weight[0].numel()
        check_int("rank", rank, minimum=1)
        if rank > min(out, fan_in):
            raise ValueError(
                f"rank must be an integer from 1 to min(out, fan-in) = min({out}, {fan_in}), got {rank}"
            )
        self.layer = layer
        self.rank = rank
        self.alpha = float(rank) if alpha is None else check_positive_float("alpha", alpha)
        weight = layer.weight
        a = torch.randn(rank, fan_in, generator=generator).to(weight) / math.sqrt(fan_in)
        self.lora_a = nn.Parameter(a)
        self.lora_b = nn.Parameter(torch.zeros(out, rank, dtype=weight.dtype, device=weight.device))

    def delta(self) -> Tensor:
        """The update ``(alpha / rank) · B A``, shaped like the frozen weight."""
        return (self.alpha / self.rank * (self.lora_b @ self.lora_a)).reshape(self.layer.weight.shape)

    def forward(self, x: Tensor) -> Tensor:
        layer = self.layer
        # in the frozen weight's memory layout (channels-last in the Conv-4), which decides the
        # convolution's algorithm: with a zero update the output is the original's, bit for bit
        weight = torch.empty_like(layer.weight).copy_(layer.weight + self.delta())
        if isinstance(layer, nn.Linear):
            return F.linear(x, weight, layer.bias)
        return F.conv2d(x, weight, layer.bias, layer.stride, layer.padding, layer.dilation, layer.groups)


def with_low_rank_updates(
    module: nn.Module, rank: int, *, alpha: float | None = None, generator: torch.Generator | None = None
) -> nn.Module:
    """A view of ``module`` in which every ``nn.Linear`` and ``nn.Conv2d`` is wrapped in a
    :class:`LowRankUpdate`. ``module`` itself is unchanged, and the view shares its weights."""
    if isinstance(module, (nn.Linear, nn.Conv2d)):
        return LowRankUpdate(module, rank, alpha=alpha, generator=generator)
    if not any(True for _ in module.children()):
        return module
    view = copy.copy(module)  # a new container over the same parameters
    view._modules = {
        name: with_low_rank_updates(child, rank, alpha=alpha, generator=generator)
        for name, child in module._modules.items()
    }
    return view


class LoRAFineTuning(PartialFineTuning):
    """Adapt a low-rank update of every linear and convolutional weight in the last ``blocks``
    blocks of the pretrained backbone, plus a new linear head; every pretrained tensor (the
    normalisation layers' too) stays frozen.

    Adaptation is :class:`~mtl_tutorial.transfer.partial.PartialFineTuning`'s: the head is first
    fitted as by the linear probe (``B = 0``, so the features are the pretrained ones, and with
    ``adapt_steps=0`` this learner is the linear probe), then the updates and the head take
    ``adapt_steps`` (default 20) Adam steps of learning rate ``adapt_lr`` (default 0.01). Every
    task starts from the same ``A``, drawn once from ``seed``.

    Args:
        pretrained: the shared pretraining (a sequential backbone, like Conv4).
        rank: rank ``r`` of each update (default 4).
        blocks: how many of the last blocks get updates (default 1).
        alpha: the update is scaled by ``alpha / rank`` (default: ``rank``, scale 1).
        adapt_steps: Adam steps on the updates and the head (default 20).
        adapt_lr: Adam's learning rate for those steps (default 0.01).
        seed: seed of the random ``A`` matrices (default 0).
        head_steps, head_lr: the linear probe that starts the head (defaults 100 and 0.1).

    Raises:
        ValueError: for a rank larger than some updated weight allows, or any bad argument.
    """

    name = "lora"

    def __init__(
        self,
        pretrained: SupervisedPretraining,
        *,
        rank: int = 4,
        blocks: int = 1,
        alpha: float | None = None,
        adapt_steps: int = 20,
        adapt_lr: float = 0.01,
        seed: int = 0,
        head_steps: int = 100,
        head_lr: float = 0.1,
    ) -> None:
        self.rank = check_int("rank", rank, minimum=1)
        self.alpha = None if alpha is None else check_positive_float("alpha", alpha)
        self.seed = check_int("seed", seed, minimum=0)
        super().__init__(
            pretrained, blocks=blocks, adapt_steps=adapt_steps, adapt_lr=adapt_lr, head_steps=head_steps,
            head_lr=head_lr,
        )

    def _tuned(self, suffix: nn.Sequential) -> nn.Module:
        generator = torch.Generator().manual_seed(self.seed)
        return with_low_rank_updates(suffix, self.rank, alpha=self.alpha, generator=generator)

    def _trainable_names(self) -> list[str]:
        return [
            name
            for name, _ in self.classifier.named_parameters()
            if name.endswith(".lora_a") or name.endswith(".lora_b")
        ]

    def config(self) -> dict[str, Any]:
        return {**super().config(), "rank": self.rank, "alpha": self.alpha, "seed": self.seed}
