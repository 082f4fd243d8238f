"""Transfer baselines for few-shot classification: a pretrained backbone, adapted per episode.

Each baseline shares one :class:`~mtl_tutorial.transfer.pretrained.SupervisedPretraining` and
differs only in how it uses the support set (Chen et al. 2019; Tian et al. 2020; Li et al. 2018):

- :class:`NearestCentroid`: class means of the frozen features; nearest mean wins.
- :class:`LinearProbe`: logistic regression on the frozen features.
- :class:`CosineClassifier`: Baseline++, a classifier on cosine similarities of frozen features.
- :class:`FullFineTuning`: every weight fine-tuned, with a new head started at the class means.
- :class:`L2SPFineTuning`: the same, pulled towards the pretrained weights (L2-SP).

All adapt the tasks of an episode together (batched weights, ``vmap``, or a loop over tasks).
"""

from __future__ import annotations

import inspect
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call, grad

from .._checks import check_int, check_nonnegative_float, check_positive_float
from ..adaptation import apply_params, loops_over_tasks, map_tasks
from ..learner import Learner, Trainable
from ..tasks import Episode, FewShotTasks
from .pretrained import SupervisedPretraining


class TransferBaseline(Learner):
    """Base of the image baselines: :meth:`fit` pretrains (once, shared), :meth:`adapt` uses the
    support set. ``adapt_steps`` and ``adapt_lr`` set the optimisation of those that take steps
    (``adapt(episode, steps)`` overrides the count), as they do for every learner."""

    uses_optimizer = False

    def __init__(
        self, pretrained: SupervisedPretraining, *, adapt_steps: int = 100, adapt_lr: float = 0.1
    ) -> None:
        if not isinstance(pretrained, SupervisedPretraining):
            raise ValueError(f"pretrained must be a SupervisedPretraining, got {type(pretrained).__name__}")
        super().__init__(pretrained.backbone, device=pretrained.device)
        self.pretrained = pretrained
        self.adapt_steps = check_int("adapt_steps", adapt_steps, minimum=0)
        self.adapt_lr = check_positive_float("adapt_lr", adapt_lr)

    def fit(self, tasks: FewShotTasks, **options: Any) -> list[float]:
        """Pretrain the shared backbone, unless that was done already (then a no-op); returns
        the pretraining's losses.

        ``options`` are the keywords of every learner's ``fit``
        (:meth:`Trainable.fit <mtl_tutorial.learner.Trainable.fit>`) and go on to the pretraining,
        ``checkpointing`` included; ``meta_batch_size`` is ignored there (pretraining draws
        ``pretrained.batch_size`` images per step, not tasks). Any other keyword is a
        ``TypeError``, pretrained or not.
        """
        inspect.signature(Trainable.fit).bind(self, tasks, **options)
        if not self.pretrained.fitted:
            self.pretrained.fit(tasks, **options)
        return self.pretrained.losses

    def _support(self, episode: Episode) -> tuple[Tensor, Tensor, int]:
        if not episode.is_classification:
            raise ValueError(f"{type(self).__name__} classifies: the episode has regression targets")
        return (
            self.pretrained.features(episode.support_x),
            episode.support_y.to(self.device),
            episode.num_ways,
        )


def class_means(features: Tensor, labels: Tensor, ways: int) -> Tensor:
    """``(tasks, ways, dim)`` means of the features of each class."""
    one_hot = F.one_hot(labels, ways).to(features.dtype)
    return one_hot.transpose(1, 2) @ features / one_hot.sum(1).unsqueeze(-1).clamp_min(1)


class NearestCentroid(TransferBaseline):
    """Nearest class mean of the frozen pretrained features (squared Euclidean distance)."""

    name = "centroid"

    def adapt(self, episode: Episode, steps: int | None = None) -> Tensor:
        features, labels, ways = self._support(episode)
        return class_means(features, labels, ways)

    def adapted_parameters(self, ways: int = 5) -> int:
        """0: the class means are computed, not trained."""
        return 0

    def predict(self, adapted: Tensor, x: Tensor) -> Tensor:
        return -(self.pretrained.features(x).unsqueeze(2) - adapted.unsqueeze(1)).pow(2).sum(-1)


def fit_linear_heads(
    features: Tensor, labels: Tensor, ways: int, *, steps: int, lr: float, cosine: bool = False,
    scale: float = 1.0,
) -> tuple[Tensor, Tensor]:
    """A linear head per task on frozen ``features`` ``(tasks, points, dim)``: logistic regression
    (or, with ``cosine``, a cosine classifier with logits ``scale`` × cosine), ``steps`` Adam steps
    of size ``lr`` on the summed loss — tasks do not interact, so this is each task's own
    optimisation. Returns the weights ``(tasks, ways, dim)`` and biases ``(tasks, ways)``."""
    tasks, _, dim = features.shape
    weight = torch.zeros(tasks, ways, dim, device=features.device, requires_grad=True)
    bias = torch.zeros(tasks, ways, device=features.device, requires_grad=True)
    if cosine:  # start at the class means, which a cosine classifier is scale-free about
        with torch.no_grad():
            weight.copy_(class_means(features, labels, ways))
    optimizer = torch.optim.Adam([weight, bias], lr=lr)
    with torch.enable_grad():
        for _ in range(steps):
            logits = head_logits(features, weight, bias, cosine=cosine, scale=scale)
            loss = (
                F.cross_entropy(logits.reshape(-1, ways), labels.reshape(-1), reduction="sum")
                / labels.shape[1]
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return weight.detach(), bias.detach()


def head_logits(
    features: Tensor, weight: Tensor, bias: Tensor, *, cosine: bool = False, scale: float = 1.0
) -> Tensor:
    """Logits of the per-task heads of :func:`fit_linear_heads` for ``features``."""
    if cosine:
        return scale * F.normalize(features, dim=-1) @ F.normalize(weight, dim=-1).transpose(1, 2)
    return features @ weight.transpose(1, 2) + bias.unsqueeze(1)


class LinearProbe(TransferBaseline):
    """Logistic regression on the frozen features (``adapt_steps`` Adam steps of size ``adapt_lr``; defaults
    100 and 0.1)."""

    name = "linear_probe"
    cosine = False
    scale = 1.0

    def adapt(self, episode: Episode, steps: int | None = None) -> tuple[Tensor, Tensor]:
        features, labels, ways = self._support(episode)
        steps = self.adapt_steps if steps is None else check_int("steps", steps, minimum=0)
        return fit_linear_heads(features, labels, ways, steps=steps, lr=self.adapt_lr, cosine=self.cosine,
                                scale=self.scale)  # fmt: skip

    def adapted_parameters(self, ways: int = 5) -> int:
        """The ``ways × (dim + 1)`` head (Baseline++: ``ways × dim``, its logits ignore the bias)."""
        check_int("ways", ways, minimum=2)
        return ways * (self.pretrained.feature_dim + (0 if self.cosine else 1))

    def predict(self, adapted: tuple[Tensor, Tensor], x: Tensor) -> Tensor:
        weight, bias = adapted
        return head_logits(self.pretrained.features(x), weight, bias, cosine=self.cosine, scale=self.scale)


class CosineClassifier(LinearProbe):
    """Baseline++ (Chen et al. 2019): logits are ``scale`` (default 10) times the cosine between a
    query's features and each class weight, the weights trained on the support set."""

    name = "baseline_pp"
    cosine = True

    def __init__(self, pretrained: SupervisedPretraining, *, scale: float = 10.0, **kwargs: Any) -> None:
        super().__init__(pretrained, **kwargs)
        self.scale = check_positive_float("scale", scale)


class FullFineTuning(TransferBaseline):
    """Fine-tune every weight of the backbone plus a new linear head on the support set.

    The head starts at ``2 c_k, −‖c_k‖²`` from the class means ``c_k`` (the nearest-centroid
    classifier as a linear layer), so step 0 equals :class:`NearestCentroid`; then ``adapt_steps``
    (default 20) steps of gradient descent of size ``adapt_lr`` (default 0.001; with 0.01 the large
    initial logits wreck the features) on all weights, for every task
    of the episode (``vmap``; a loop for convolutional backbones). ``l2sp`` (default 0) adds
    ``l2sp/2 · ‖θ − θ₀‖²``, pulling the backbone towards its pretrained weights θ₀ (Li et al. 2018).
    """

    name = "finetune"

    def __init__(self, pretrained: SupervisedPretraining, *, adapt_steps: int = 20, adapt_lr: float = 0.001,
                 l2sp: float = 0.0) -> None:  # fmt: skip
        super().__init__(pretrained, adapt_steps=adapt_steps, adapt_lr=adapt_lr)
        self.l2sp = check_nonnegative_float("l2sp", l2sp)

    def adapt(self, episode: Episode, steps: int | None = None) -> dict[str, Tensor]:
        features, labels, ways = self._support(episode)
        steps = self.adapt_steps if steps is None else check_int("steps", steps, minimum=0)
        means = class_means(features, labels, ways)
        start = {f"backbone.{k}": v.detach() for k, v in self.pretrained.backbone.named_parameters()}
        x = episode.support_x.to(self.device)
        model, lr, l2sp = BackboneWithHead(self.pretrained.backbone), self.adapt_lr, self.l2sp

        def one_task(x_t: Tensor, y_t: Tensor, means_t: Tensor) -> dict[str, Tensor]:
            params = {**start, "weight": 2 * means_t, "bias": -(means_t**2).sum(-1)}

            def loss(p: dict[str, Tensor]) -> Tensor:
                value = F.cross_entropy(functional_call(model, p, (x_t,)), y_t)
                if l2sp:
                    value = value + l2sp / 2 * sum(((p[k] - start[k]) ** 2).sum() for k in start)
                return value

            for _ in range(steps):
                g = grad(loss)(params)
                params = {k: v - lr * g[k] for k, v in params.items()}
            return params

        return map_tasks(one_task, x, labels, means, loop=loops_over_tasks(model))

    def adapted_parameters(self, ways: int = 5) -> int:
        """Every backbone weight plus the ``ways × (dim + 1)`` head."""
        check_int("ways", ways, minimum=2)
        backbone = sum(p.numel() for p in self.pretrained.backbone.parameters())
        return backbone + ways * (self.pretrained.feature_dim + 1)

    def predict(self, adapted: dict[str, Tensor], x: Tensor) -> Tensor:
        model = BackboneWithHead(self.pretrained.backbone)
        with torch.no_grad():
            forward = partial(apply_params, model)
            return map_tasks(forward, adapted, x.to(self.device), loop=loops_over_tasks(model))

    def config(self) -> dict[str, Any]:
        return {**super().config(), "adapt_steps": self.adapt_steps, "adapt_lr": self.adapt_lr,
                "l2sp": self.l2sp}  # fmt: skip


class L2SPFineTuning(FullFineTuning):
    """:class:`FullFineTuning` with the L2-SP pull towards the pretrained weights (default 0.01)."""

    name = "l2sp"

    def __init__(self, pretrained: SupervisedPretraining, *, l2sp: float = 0.01, **kwargs: Any) -> None:
        super().__init__(pretrained, l2sp=l2sp, **kwargs)


class BackboneWithHead(nn.Module):
    """Backbone plus a linear head. The head's ``weight`` and ``bias`` are empty placeholders:
    :func:`~torch.func.functional_call` supplies each task's own, whatever its number of ways."""

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.weight = nn.Parameter(torch.empty(0))
        self.bias = nn.Parameter(torch.empty(0))

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(self.backbone(x), self.weight, self.bias)
