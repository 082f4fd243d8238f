"""Every learner by its name: the one place that builds them.

>>> from mtl_tutorial.registry import build_learner, sinusoid_learner
>>> maml = build_learner("maml", MLP(), inner_lr=0.01)    # any network, the class's defaults
>>> maml = sinusoid_learner("maml")                        # the book's sinusoid settings
>>> probe = glyph_learner("linear_probe", pretrained=p)   # the book's glyph settings

A name is the class's ``name`` attribute, except ``"fomaml"``, which is MAML with
``first_order=True``. The runners, the command line, the tests and the chapters all build their
learners here, so "maml" on the sinusoids or "finetune" on the glyphs is one class with one set of
settings everywhere. Layering: this module sits on :mod:`.meta`, :mod:`.transfer` and
:mod:`.models`; :mod:`.experiments`, :mod:`.recipes` and :mod:`.cli` sit on it.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from .learner import GradientLearner, Trainable
from .meta import ANIL, MAML, InContext, MetaSGD, ProtoMAML, ProtoNet, Reptile, TaskConditioned
from .models import MLP, Conv4, FiLMNetwork, InContextTransformer
from .transfer import (
    CosineClassifier,
    FineTuning,
    FullFineTuning,
    L2SPFineTuning,
    LinearProbe,
    LoRAFineTuning,
    NearestCentroid,
    PartialFineTuning,
    RidgeProbe,
    SupervisedPretraining,
)


@dataclass(frozen=True)
class LearnerEntry:
    """One registered learner.

    Attributes:
        cls: the class :func:`build_learner` instantiates.
        fixed: keyword arguments the name implies (``"fomaml"``: ``first_order=True``).
        builds_on: ``"network"`` (the class wraps an ``nn.Module``) or ``"pretraining"`` (it adapts
            the backbone of a trained :class:`~mtl_tutorial.transfer.SupervisedPretraining`).
    """

    cls: type[Trainable]
    fixed: Mapping[str, Any] = field(default_factory=dict)
    builds_on: str = "network"


def _entries() -> dict[str, LearnerEntry]:
    on_network = (MAML, ANIL, MetaSGD, Reptile, ProtoNet, ProtoMAML, TaskConditioned, InContext, FineTuning,
                  RidgeProbe, SupervisedPretraining)  # fmt: skip
    on_pretraining = (NearestCentroid, LinearProbe, CosineClassifier, FullFineTuning, L2SPFineTuning,
                      PartialFineTuning, LoRAFineTuning)  # fmt: skip
    out = {cls.name: LearnerEntry(cls) for cls in on_network}
    out.update({cls.name: LearnerEntry(cls, builds_on="pretraining") for cls in on_pretraining})
    out["fomaml"] = LearnerEntry(MAML, {"first_order": True})
    return out


#: Every learner the package offers, by name.
LEARNERS: dict[str, LearnerEntry] = _entries()


def check_name(name: str, among: Mapping[str, object] | tuple[str, ...] | None = None) -> str:
    """``name`` if it is a registered learner (and one of ``among``, when given), else
    ``ValueError`` listing the choices."""
    choices = sorted(LEARNERS if among is None else among)
    if name not in choices:
        raise ValueError(f"unknown learner {name!r}; choose from {choices}")
    return name


def build_learner(name: str, source: nn.Module | SupervisedPretraining, **options: Any) -> Trainable:
    """The learner called ``name``, built on ``source`` with the class's defaults and ``options``.

    Args:
        name: a key of :data:`LEARNERS`.
        source: the network the learner wraps or, for a learner that builds on pretraining
            (``LEARNERS[name].builds_on == "pretraining"``), the trained
            :class:`~mtl_tutorial.transfer.SupervisedPretraining`.
        options: keyword arguments of the class (e.g. ``inner_lr=0.4``).

    Raises:
        ValueError: for an unknown name, or an option the class does not take.
    """
    entry = LEARNERS[check_name(name)]
    clash = sorted(set(entry.fixed) & set(options))
    if clash:
        raise ValueError(f"{name!r} fixes {clash} to {dict(entry.fixed)}; build {entry.cls.name!r} instead")
    accepted = options_of(entry.cls)
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise ValueError(f"{entry.cls.__name__} ({name!r}) takes no {unknown}; it takes {sorted(accepted)}")
    return entry.cls(source, **entry.fixed, **options)


def options_of(cls: type) -> set[str]:
    """The keyword arguments ``cls(source, ...)`` takes, following ``**kwargs`` up the classes it
    forwards them to."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        parameters = list(inspect.signature(vars(klass)["__init__"]).parameters.values())[2:]
        names |= {p.name for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
        if not any(p.kind is p.VAR_KEYWORD for p in parameters):
            break
    return names


# -- the book's two benchmarks ------------------------------------------------------------------

#: The book's settings on the sinusoids where they differ from the class's defaults: the MAML
#: paper's (one inner step of 0.01, Adam 1e-3) are the defaults; Reptile takes ten inner steps of
#: 0.02 (the inner step of Nichol et al. 2018's sine demo) where its class defaults to five.
SINUSOID_SETTINGS: dict[str, dict[str, Any]] = {
    "maml": {}, "fomaml": {}, "metasgd": {}, "anil": {},
    "reptile": {"inner_lr": 0.02, "inner_steps": 10},
    "film": {}, "in_context": {}, "pretrained": {}, "ridge_probe": {},
}  # fmt: skip

#: The book's settings on the glyph images, the Omniglot settings of the papers where they exist
#: (MAML: inner step 0.4, one step in training); one adaptation step at test time keeps 600
#: episodes of a gradient-based learner within a CPU budget. Transfer learners fine-tune for two
#: steps (more overfit the five shots at this step size).
GLYPH_SETTINGS: dict[str, dict[str, Any]] = {
    "protonet": {},
    "protomaml": {"inner_lr": 0.1, "adapt_steps": 1},
    "maml": {"inner_lr": 0.4, "adapt_steps": 1},
    "fomaml": {"inner_lr": 0.4, "adapt_steps": 1},
    "anil": {"inner_lr": 0.4, "adapt_steps": 1},
    "reptile": {"inner_lr": 0.1, "inner_steps": 3, "adapt_steps": 3, "outer_lr": 1.0},
    "centroid": {}, "linear_probe": {}, "baseline_pp": {},
    "finetune": {"adapt_steps": 2}, "l2sp": {"adapt_steps": 2},
    "partial": {}, "lora": {}, "pretraining": {},
}  # fmt: skip


def sinusoid_learner(method: str, *, hidden: tuple[int, ...] = (40, 40), **options: Any) -> Trainable:
    """A learner of :data:`SINUSOID_SETTINGS` on a fresh 1-hidden-hidden-1 network.

    The network is an :class:`~mtl_tutorial.MLP` with ``hidden`` widths (default ``(40, 40)``, the
    MAML paper's), or for ``"film"`` a default :class:`~mtl_tutorial.FiLMNetwork` and for
    ``"in_context"`` a default :class:`~mtl_tutorial.InContextTransformer`; ``options``
    (``device=`` included) override the book's settings. The weights are drawn from torch's
    global generator: seed it first for reproducible ones.
    """
    check_name(method, SINUSOID_SETTINGS)
    special = {TaskConditioned: FiLMNetwork, InContext: InContextTransformer}  # they read support sets
    cls = LEARNERS[method].cls
    network = special[cls]() if cls in special else MLP(hidden=tuple(hidden))
    return build_learner(method, network, **{**SINUSOID_SETTINGS[method], **options})


def glyph_learner(
    method: str,
    *,
    ways: int = 5,
    channels: int = 64,
    pretrained: SupervisedPretraining | None = None,
    device: str | None = None,
    **options: Any,
) -> Trainable:
    """A learner of :data:`GLYPH_SETTINGS` for ``ways``-way glyph episodes.

    Meta-learners get a fresh :class:`~mtl_tutorial.models.Conv4` of ``channels`` channels (with
    a ``ways``-way head for those that fine-tune one; ProtoNet's and pretraining's embed), on ``device``;
    transfer learners build on ``pretrained``, which they need. ``options`` override the book's
    settings.
    """
    check_name(method, GLYPH_SETTINGS)
    entry = LEARNERS[method]
    settings = {**GLYPH_SETTINGS[method], **options}
    if entry.builds_on == "pretraining":
        if pretrained is None:
            raise ValueError(f"{method!r} adapts a pretrained backbone: pass pretrained=")
        return build_learner(method, pretrained, **settings)
    # ProtoNet, Proto-MAML (its layer comes from the prototypes) and pretraining embed
    head = ways if issubclass(entry.cls, GradientLearner) and entry.cls is not ProtoMAML else None
    return build_learner(method, Conv4(channels=channels, num_classes=head), device=device, **settings)
