"""Meta-SGD (Li et al. 2017): MAML that also meta-learns one inner step size per weight."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .._checks import check_positive_float
from ..adaptation import Params
from ..tasks import Episode
from .maml import MAML


class LearningRates(nn.Module):
    """One learnable step size per entry of each parameter of ``model``, initialised to ``value``.

    Parameter names contain dots, which modules do not allow in their own names, so each is
    stored under the name with ``.`` replaced by ``__``.
    """

    def __init__(self, model: nn.Module, value: float) -> None:
        super().__init__()
        self.rates = nn.ParameterDict(
            {
                name.replace(".", "__"): nn.Parameter(torch.full_like(p, value))
                for name, p in model.named_parameters()
            }
        )

    def as_dict(self) -> Params:
        """The step sizes keyed by the model's parameter names."""
        return {name.replace("__", "."): rate for name, rate in self.rates.items()}


class MetaSGD(MAML):
    """Meta-SGD: the inner update is φ = θ − α ∘ ∇L_support(θ), with α learned like θ.

    The learned vector α is the *meta-strategy* of the source's §3.1.1 made concrete: it says,
    per weight, how far and in which direction to step (entries may become negative).

    Args are those of :class:`MAML`; ``inner_lr`` initialises every entry of α, and
    ``learn_rates=False`` freezes α at that value, which makes Meta-SGD exactly MAML.
    ``rates_lr`` is Adam's learning rate for α (default ``None``: ``outer_lr``, as in Li et al.).
    Adam moves each entry by about its learning rate per step whatever the gradient's size, so
    with the default 1e-3 a step size of 0.01 can change by a tenth in one outer step; a smaller
    ``rates_lr`` moves α in proportion to its size.

    ``max_rate`` (default ``None``: unbounded, as in Li et al.) projects α onto
    ``[0, max_rate]`` after every outer step. Li et al. train α for one inner step, and one step
    tolerates entries that repeated steps do not: a negative entry climbs the support loss along
    its weight, a large one overshoots. On the book's sinusoids, unbounded rates make fine-tuning
    blow up on many test tasks after 5 or 10 steps; ``max_rate=0.05`` removed every blow-up, for
    six training seeds and three test-task seeds (``benchmarks/results/remedy_runs/``).
    """

    name = "metasgd"

    def __init__(
        self,
        model: nn.Module,
        *,
        learn_rates: bool = True,
        rates_lr: float | None = None,
        max_rate: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(model, **kwargs)
        self.rates_lr = None if rates_lr is None else check_positive_float("rates_lr", rates_lr)
        self.max_rate = None if max_rate is None else check_positive_float("max_rate", max_rate)
        if self.max_rate is not None and self.inner_lr > self.max_rate:
            raise ValueError(
                f"inner_lr initialises the step sizes and must be at most max_rate={self.max_rate}, "
                f"got {self.inner_lr}"
            )
        self.learning_rates = LearningRates(self.model, self.inner_lr).to(self.device)
        self.learning_rates.requires_grad_(learn_rates)
        self.learn_rates = bool(learn_rates)

    def trainable_modules(self) -> dict[str, nn.Module]:
        return {"model": self.model, "learning_rates": self.learning_rates}

    def parameter_groups(self) -> list[dict[str, Any]]:
        """The network at ``outer_lr`` and the step sizes at ``rates_lr``, if given."""
        if self.rates_lr is None:
            return super().parameter_groups()
        return [
            {"params": list(self.model.parameters())},
            {"params": list(self.learning_rates.parameters()), "lr": self.rates_lr},
        ]

    def training_step(self, episode: Episode, *, iteration: int = 0, iterations: int = 1) -> float:
        """Adam's step on the network and α, then α projected onto ``[0, max_rate]`` if set."""
        loss = super().training_step(episode)
        if self.max_rate is not None:
            with torch.no_grad():
                for rate in self.learning_rates.parameters():
                    rate.clamp_(0.0, self.max_rate)
        return loss

    def adaptation_kwargs(self) -> dict[str, Any]:
        return {"lr": self.learning_rates.as_dict()}

    def config(self) -> dict[str, Any]:
        out = {**super().config(), "learn_rates": self.learn_rates}
        if self.rates_lr is not None:  # only when set, so checkpoints of earlier runs resume
            out["rates_lr"] = self.rates_lr
        if self.max_rate is not None:
            out["max_rate"] = self.max_rate
        return out
