"""Proto-MAML (Triantafillou et al. 2020): MAML whose output layer starts at the prototypes."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from .._checks import check_int
from ..adaptation import Params, apply_params, map_tasks, sgd_adapt
from ..tasks import Episode
from .maml import MAML
from .protonet import support_one_hot


class PrototypeHead(nn.Module):
    """An encoder followed by a linear layer whose weights each task supplies.

    The layer's weight and bias are buffers, not parameters: :class:`ProtoMAML` computes them
    from each task's support set and passes them in with the encoder's parameters.
    """

    def __init__(self, encoder: nn.Module, features: int, ways: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(features, ways)
        for name in ("weight", "bias"):  # the task supplies them; nothing trains them here
            value = getattr(self.head, name).detach()
            delattr(self.head, name)
            self.head.register_buffer(name, value)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.encoder(x))


class ProtoMAML(MAML):
    """MAML on a Prototypical Network's encoder, with the output layer initialised, for each task,
    at the layer that the prototypes define.

    A ProtoNet's logits ``−‖f(x) − c_k‖²`` are, up to a term the same for every class, the linear
    layer ``W_k = 2 c_k``, ``b_k = −‖c_k‖²`` on the embedding ``f(x)``. Proto-MAML starts each
    task there, a classifier that is already as good as the ProtoNet's, and then takes MAML's
    inner steps on the encoder and that layer together. The meta-gradient reaches the encoder
    twice: through the adapted encoder, and through the prototypes the layer started from.
    Triantafillou et al. (2020) train it first-order (``first_order=True``, the default here):
    the inner steps' gradients are not differentiated, the path through the prototypes is kept.
    It is the bridge between the two families of meta-learners: with ``inner_steps=0`` and
    ``adapt_steps=0`` it *is* a ProtoNet (its predictions differ by a per-query constant only).

    Args:
        encoder: maps one example to an embedding of ``features`` numbers.
        features: the embedding's width (default: the encoder's ``feature_dim``, as a
            :class:`~mtl_tutorial.models.Conv4` has).
        first_order: drop the inner loop's second-order terms (default True, as in the paper).
        **kwargs: the other arguments of :class:`MAML` (defaults: ``inner_lr`` 0.01,
            ``inner_steps`` 1, ``adapt_steps`` 10, ``outer_lr`` 1e-3); not ``compile`` or
            ``multi_step_loss``.
    """

    name = "protomaml"

    def __init__(
        self, encoder: nn.Module, *, features: int | None = None, first_order: bool = True, **kwargs: Any
    ) -> None:
        features = getattr(encoder, "feature_dim", None) if features is None else features
        if not isinstance(features, int) or isinstance(features, bool) or features < 1:
            raise ValueError(
                f"features must be the width of the encoder's embedding, an int >= 1 (the encoder has "
                f"no feature_dim to read it from), got {features!r}"
            )
        for option in ("compile", "multi_step_loss"):
            if kwargs.get(option):
                raise ValueError(f"ProtoMAML does not take {option}=True")
        # the head's width is a placeholder: each task brings its own number of ways
        super().__init__(PrototypeHead(encoder, features, ways=1), first_order=first_order, **kwargs)
        self.name = "protomaml"  # not MAML's "fomaml": first order is this method's default
        self.features = features

    def task_params(self, params: Params, support_x: Tensor, one_hot: Tensor) -> Params:
        """The encoder's ``params`` and one task's output layer at its prototypes ``c_k``, for
        support inputs ``support_x`` and their labels as ``one_hot`` ``(support, ways)``:
        ``head.weight`` ``2 c_k`` of shape ``(ways, features)``, ``head.bias`` ``−‖c_k‖²``."""
        encoder = {n[len("encoder."):]: p for n, p in params.items() if n.startswith("encoder.")}
        embeddings = apply_params(self.model.encoder, encoder, support_x)  # (support, features)
        if embeddings.shape[-1] != self.features or embeddings.dim() != 2:
            raise ValueError(
                f"the encoder must map one example to {self.features} features, got shape "
                f"{tuple(embeddings.shape[1:])}"
            )
        prototypes = one_hot.T @ embeddings / one_hot.sum(0).unsqueeze(-1)
        return {**params, "head.weight": 2 * prototypes, "head.bias": -(prototypes**2).sum(-1)}

    def adapt(self, episode: Episode, steps: int | None = None) -> Params:
        """Per-task parameters (leading task dimension): the output layer at the prototypes,
        then ``steps`` (default ``adapt_steps``) gradient steps on the support set."""
        steps = self.adapt_steps if steps is None else check_int("steps", steps, minimum=0)
        episode = episode.to(self.device)
        one_hot, params = support_one_hot(episode, "Proto-MAML"), self.initial_params()

        def one_task(sx: Tensor, sy: Tensor, labels: Tensor) -> Params:
            start = self.task_params(params, sx, labels)
            return sgd_adapt(self.model, start, sx, sy, steps=steps, loss_fn=self.loss_fn, lr=self.adapt_lr)

        return map_tasks(one_task, episode.support_x, episode.support_y, one_hot, loop=self.loop_over_tasks)

    def adapted_parameters(self, ways: int = 5) -> int:
        """The encoder's parameters and an output layer of ``ways`` classes."""
        return sum(p.numel() for p in self.initial_params().values()) + ways * (self.features + 1)

    def meta_loss(self, episode: Episode) -> Tensor:
        """Mean query loss after each task's inner loop from its prototype layer."""
        episode = episode.to(self.device)
        one_hot, params = support_one_hot(episode, "Proto-MAML"), self.initial_params()

        def one_task(sx: Tensor, sy: Tensor, labels: Tensor, qx: Tensor, qy: Tensor) -> Tensor:
            start = self.task_params(params, sx, labels)
            adapted = sgd_adapt(self.model, start, sx, sy, steps=self.inner_steps, loss_fn=self.loss_fn,
                                lr=self.adapt_lr, first_order=self.first_order)  # fmt: skip
            return self.loss_fn(apply_params(self.model, adapted, qx), qy)

        losses = map_tasks(one_task, episode.support_x, episode.support_y, one_hot, episode.query_x,
                           episode.query_y, loop=self.loop_over_tasks)  # fmt: skip
        return losses.mean()

    training_loss = meta_loss

    def config(self) -> dict[str, Any]:
        return {**super().config(), "features": self.features}
