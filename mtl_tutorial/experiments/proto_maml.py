"""Proto-MAML on the glyphs, started from the book's trained ProtoNet (the experiment of chapter 3's
section on Proto-MAML, for :func:`~mtl_tutorial.recipes.cached_call`)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from .._checks import check_int, check_positive_float
from ..evaluation import episode_accuracy
from ..meta import ProtoMAML
from ..recipes import trained
from ..tasks import Episode, FewShotTasks, GlyphConfig, load_glyphs
from ..training import seed_everything


def proto_maml_steps(
    *,
    shots: Sequence[int] = (1, 5),
    steps: Sequence[int] = (0, 1, 3),
    inner_lr: float = 0.01,
    meta_iterations: int = 0,
    outer_lr: float = 1e-4,
    ways: int = 5,
    queries: int = 10,
    episodes: int = 200,
    episode_seed: int = 2019,
    seed: int = 0,
    device: str = "cpu",
) -> dict[str, Any]:
    """Proto-MAML built on (a copy of) the encoder of the recipe ``glyph_protonet``, scored with
    each number of inner ``steps`` of size ``inner_lr`` beside the ProtoNet itself, on the same
    fixed ``ways``-way test episodes (test scripts, seed ``episode_seed``) at each number of shots.

    With ``meta_iterations`` > 0 it is first meta-trained, first-order, for that many 5-shot
    episodes of the training scripts (one per iteration, 5 queries per class, one inner step, Adam
    ``outer_lr``, seed ``seed``); with 0 (the default) the steps are taken from the ProtoNet's
    encoder as it is.

    Returns:
        ``{"accuracy": {shots: {"protonet": per-episode accuracy, steps: per-episode accuracy}},
        "support_loss": {shots: mean support cross-entropy at the start, before any step},
        "start_gradient": {shots: mean norm of the first step's gradient}}``.
    """
    check_positive_float("inner_lr", inner_lr)
    check_positive_float("outer_lr", outer_lr)
    for name, value in (("ways", ways), ("queries", queries), ("episodes", episodes)):
        check_int(name, value, minimum=1)
    check_int("meta_iterations", meta_iterations, minimum=0)
    protonet = trained("glyph_protonet", device=device)
    learner = ProtoMAML(copy.deepcopy(protonet.model), inner_lr=inner_lr, outer_lr=outer_lr, device=device)
    glyphs = load_glyphs(GlyphConfig())
    if meta_iterations:
        seed_everything(seed)
        training = FewShotTasks(glyphs.split("train"), ways, 5, 5)
        learner.fit(training, iterations=meta_iterations, meta_batch_size=1, seed=seed)
    out: dict[str, Any] = {"accuracy": {}, "support_loss": {}, "start_gradient": {}}
    for k in shots:
        tasks = FewShotTasks(glyphs.split("test"), ways, check_int("shots", k, minimum=1), queries)
        fixed = tasks.fixed_episodes(episodes, seed=episode_seed)
        scores = {"protonet": episode_accuracy(protonet, tasks, fixed)[0]}
        scores.update(zip(steps, episode_accuracy(learner, tasks, fixed, steps=tuple(steps)), strict=True))
        out["accuracy"][k] = scores
        out["support_loss"][k], out["start_gradient"][k] = _start(learner, tasks.episode(fixed, slice(0, 20)))
    return out


def _start(learner: ProtoMAML, episodes: Episode) -> tuple[float, float]:
    """Mean support loss, and mean norm of its gradient, at the prototype start of each task."""
    episodes = episodes.to(learner.device)
    losses, norms = [], []
    for t in range(episodes.num_tasks):
        x, y = episodes.support_x[t], episodes.support_y[t]
        one_hot = F.one_hot(y, episodes.num_ways).to(x.dtype)
        params = learner.task_params(dict(learner.model.named_parameters()), x, one_hot)
        params = {n: p.detach().requires_grad_() for n, p in params.items()}
        loss = F.cross_entropy(torch.func.functional_call(learner.model, params, (x,)), y)
        grads = torch.autograd.grad(loss, list(params.values()))
        losses.append(loss.item())
        norms.append(torch.sqrt(sum((g**2).sum() for g in grads)).item())
    return sum(losses) / len(losses), sum(norms) / len(norms)
