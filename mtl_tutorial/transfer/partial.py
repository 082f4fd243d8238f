"""Partial fine-tuning: freeze the first blocks of a pretrained backbone, fine-tune the last ones.

How many blocks to fine-tune is the oldest knob of parameter-efficient transfer (Yosinski et al.
2014 measured how transferable each layer is). Here the backbone is split into a frozen prefix
and a tuned suffix (:func:`split_backbone`); per episode, the prefix's output is computed once
(it never changes), and only the suffix and a new linear head are trained on the support set.

:class:`PartialFineTuning` is also the engine of :class:`~mtl_tutorial.transfer.lora.LoRAFineTuning`,
which trains a low-rank update of the suffix's weights instead of the weights themselves.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call

from .._checks import check_int, check_positive_float
from ..tasks import Episode, ImageClasses
from .baselines import (
    BackboneWithHead,
    TransferBaseline,
    fit_linear_heads,
)
from .pretrained import SupervisedPretraining


def backbone_layers(backbone: nn.Module) -> nn.Sequential:
    """The sequence of layers of a backbone: ``backbone.features`` for a headless
    :class:`~mtl_tutorial.models.Conv4`, or the backbone itself if it is an ``nn.Sequential``.

    Raises:
        ValueError: for a backbone with a classification head, or one that is not sequential.
    """
    if getattr(backbone, "head", None) is not None:
        raise ValueError(
            "the backbone has a classification head; pretrain a headless backbone (features only)"
        )
    layers = getattr(backbone, "features", backbone)
    if not isinstance(layers, nn.Sequential):
        raise ValueError(
            f"cannot split a {type(backbone).__name__} into blocks: use an nn.Sequential backbone, "
            "or one whose .features is an nn.Sequential (like Conv4)"
        )
    return layers


def count_blocks(backbone: nn.Module) -> int:
    """Number of blocks with parameters in the backbone (4 for :class:`~mtl_tutorial.models.Conv4`)."""
    return sum(1 for layer in backbone_layers(backbone) if any(True for _ in layer.parameters()))


def split_backbone(backbone: nn.Module, blocks: int) -> tuple[nn.Sequential, nn.Sequential]:
    """Split a backbone into a frozen prefix and a suffix holding its last ``blocks`` blocks.

    Blocks are the layers of :func:`backbone_layers` that have parameters; parameter-free layers
    after the last of them (a ``Flatten``) go with the suffix. The two parts share the backbone's
    modules (nothing is copied), so they follow it if it is trained later.

    Raises:
        ValueError: if ``blocks`` is not an integer between 1 and the number of blocks.
    """
    layers = list(backbone_layers(backbone))
    with_params = [i for i, layer in enumerate(layers) if any(True for _ in layer.parameters())]
    check_int("blocks", blocks, minimum=1)
    if blocks > len(with_params):
        raise ValueError(f"blocks must be at most the backbone's {len(with_params)} blocks, got {blocks}")
    cut = with_params[-blocks]
    return nn.Sequential(*layers[:cut]), nn.Sequential(*layers[cut:])


def freeze_prefix(
    pretrained: SupervisedPretraining, blocks: int, classes: ImageClasses, *, batch_size: int = 256
) -> tuple[SupervisedPretraining, ImageClasses]:
    """Run the frozen first blocks once on every image, for learners that never change them.

    A learner that trains at most the last ``blocks`` blocks sees the first ones only through
    their outputs. Computing those once per image, rather than once per episode and learner,
    saves most of the work of evaluating many such learners on many episodes.

    Returns:
        The pretraining of the last ``blocks`` blocks (sharing the backbone's modules and the
        pretraining head, so it counts as fitted), and ``classes`` with each image replaced by
        the first blocks' output. Episodes drawn from these with the same
        :class:`~mtl_tutorial.tasks.EpisodeIndices` are the same episodes as from the images.

    Raises:
        ValueError: if ``pretrained`` is not fitted, or ``blocks`` is out of range.
    """
    if not pretrained.fitted:
        raise ValueError("the backbone is not pretrained yet: call fit() first")
    prefix, suffix = split_backbone(pretrained.backbone, blocks)
    check_int("batch_size", batch_size, minimum=1)
    top = SupervisedPretraining(
        suffix, lr=pretrained.lr, batch_size=pretrained.batch_size, device=pretrained.device
    )
    top.head, top.losses, top.train_seconds = pretrained.head, pretrained.losses, pretrained.train_seconds
    images, _ = classes.flat()
    with torch.no_grad():
        outputs = torch.cat([
            prefix(images[i : i + batch_size].to(pretrained.device)).cpu()
            for i in range(0, len(images), batch_size)
        ])  # fmt: skip
    shape = (classes.num_classes, classes.images_per_class, *outputs.shape[1:])
    return top, ImageClasses(outputs.reshape(shape), classes.names, classes.groups)


class PartialFineTuning(TransferBaseline):
    """Fine-tune the last ``blocks`` blocks of the pretrained backbone and a new linear head;
    the earlier blocks stay frozen.

    Adaptation has two stages ("linear probe, then fine-tune"):

    1. the head is fitted on the frozen features exactly as by
       :class:`~mtl_tutorial.transfer.baselines.LinearProbe` (``head_steps`` Adam steps of size
       ``head_lr`` from zero weights; defaults 100 and 0.1), so with ``steps=0`` this learner
       *is* the linear probe;
    2. the tuned blocks and the head then take ``adapt_steps`` (default 20) Adam steps of learning
       rate ``adapt_lr`` (default 0.001) on the support loss.

    Starting the head at the probe's solution means the tuned blocks receive useful gradients
    from the first step, and any difference from the linear probe is due to the extra
    parameters. Every task of the episode is adapted in parallel: the tasks' losses are summed,
    and since Adam acts on each element separately each task follows its own optimisation.
    With ``blocks`` equal to :func:`count_blocks` of the backbone, every weight is fine-tuned.

    Args:
        pretrained: the shared pretraining (its backbone must be sequential, see
            :func:`backbone_layers`).
        blocks: how many of the last blocks to fine-tune (default 1).
        adapt_steps: Adam steps on the tuned blocks and the head (default 20).
        adapt_lr: Adam's learning rate for those steps (default 0.001).
        head_steps: Adam steps of the linear probe that starts the head (default 100).
        head_lr: Adam's learning rate for the probe (default 0.1).
    """

    name = "partial"

    def __init__(
        self,
        pretrained: SupervisedPretraining,
        *,
        blocks: int = 1,
        adapt_steps: int = 20,
        adapt_lr: float = 0.001,
        head_steps: int = 100,
        head_lr: float = 0.1,
    ) -> None:
        super().__init__(pretrained, adapt_steps=adapt_steps, adapt_lr=adapt_lr)
        self.blocks = check_int("blocks", blocks, minimum=1)
        self.head_steps = check_int("head_steps", head_steps, minimum=0)
        self.head_lr = check_positive_float("head_lr", head_lr)
        self.frozen, suffix = split_backbone(pretrained.backbone, blocks)
        self.classifier = BackboneWithHead(self._tuned(suffix))

    # -- what is trained: overridden by LoRA ---------------------------------------------------

    def _tuned(self, suffix: nn.Sequential) -> nn.Module:
        """The module the head sits on (the suffix itself here)."""
        return suffix

    def _trainable_names(self) -> list[str]:
        """Names (in ``self.classifier``) of the backbone tensors adaptation trains."""
        return [name for name, _ in self.classifier.named_parameters() if name.startswith("backbone.")]

    def adapted_parameters(self, ways: int = 5) -> int:
        """How many numbers adaptation trains for one ``ways``-way task: the tuned tensors plus
        the head's ``ways × (feature dim + 1)``."""
        check_int("ways", ways, minimum=2)
        named = dict(self.classifier.named_parameters())
        tuned = sum(named[name].numel() for name in self._trainable_names())
        return tuned + ways * (self.pretrained.feature_dim + 1)

    # -- the learner interface -----------------------------------------------------------------

    def _prefix(self, x: Tensor) -> Tensor:
        """Output of the frozen blocks, ``(tasks, points, ...)``, computed without gradients."""
        tasks, points = x.shape[:2]
        with torch.no_grad():
            flat = self.frozen(x.to(self.device).reshape(tasks * points, *x.shape[2:]))
        return flat.reshape(tasks, points, *flat.shape[1:])

    def adapt(self, episode: Episode, steps: int | None = None) -> dict[str, Tensor]:
        """Per-task trained tensors (each with a leading task dimension), for :meth:`predict`."""
        if not episode.is_classification:
            raise ValueError(f"{type(self).__name__} classifies: the episode has regression targets")
        if not self.pretrained.fitted:
            raise ValueError("the backbone is not pretrained yet: call fit() first")
        steps = self.adapt_steps if steps is None else check_int("steps", steps, minimum=0)
        h = self._prefix(episode.support_x)
        labels, ways = episode.support_y.to(self.device), episode.num_ways
        tasks, points = h.shape[:2]
        with torch.no_grad():
            flat = self.classifier.backbone(h.reshape(tasks * points, *h.shape[2:]))
        features = flat.reshape(tasks, points, -1)
        weight, bias = fit_linear_heads(features, labels, ways, steps=self.head_steps, lr=self.head_lr)
        named = dict(self.classifier.named_parameters())
        params = {
            name: named[name].detach().expand(tasks, *named[name].shape).clone().requires_grad_()
            for name in self._trainable_names()
        }
        params["weight"], params["bias"] = weight.requires_grad_(), bias.requires_grad_()
        optimizer = torch.optim.Adam(params.values(), lr=self.adapt_lr)
        with torch.enable_grad():
            for _ in range(steps):
                logits = self._logits(params, h)
                loss = F.cross_entropy(logits.reshape(-1, ways), labels.reshape(-1), reduction="sum") / points
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        return {name: value.detach() for name, value in params.items()}

    def _logits(self, params: dict[str, Tensor], h: Tensor) -> Tensor:
        """Logits ``(tasks, points, ways)`` of each task's own tensors on its prefix outputs.

        The frozen tensors are passed detached, so no gradient ever reaches the pretrained
        weights. A loop over the tasks: on the CPU, ``vmap`` turns convolutions with per-task
        weights into grouped convolutions, about 1.4 times slower here."""
        frozen = {
            name: value.detach() for name, value in self.classifier.named_parameters() if name not in params
        }
        return torch.stack([
            functional_call(self.classifier, {**frozen, **{k: v[t] for k, v in params.items()}}, (h[t],))
            for t in range(h.shape[0])
        ])  # fmt: skip

    def predict(self, adapted: dict[str, Tensor], x: Tensor) -> Tensor:
        with torch.no_grad():
            return self._logits(adapted, self._prefix(x))

    def config(self) -> dict[str, Any]:
        return {
            **super().config(),
            "adapt_steps": self.adapt_steps,
            "blocks": self.blocks,
            "head_steps": self.head_steps,
            "head_lr": self.head_lr,
        }
