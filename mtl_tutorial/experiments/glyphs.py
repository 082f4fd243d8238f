"""Few-shot image classification on the rendered glyphs: every method, one protocol.

Every method gets the same Conv-4 backbone (64 channels), the same training budget in FLOPs
(each method runs as many iterations as the budget buys, by the package's FLOP counter, so the
results are the same on every machine; a budget in CPU-seconds is an explicit option) — or a fixed
number of iterations per method — and the same fixed list of test episodes from the test scripts;
it is scored by query accuracy with a 95% interval. Its cost is recorded in units that are the same
on every machine — training FLOPs (one iteration's, counted by
:func:`~mtl_tutorial.evaluation.count_flops`, times the iterations run), test FLOPs per episode and
peak tensor memory (one training step; one test batch) — and, for display only, in the seconds it
took on the machine that ran it.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from .._checks import check_int
from ..evaluation import (
    AdaptationCost,
    adaptation_cost,
    cpu_ms_per_task,
    episode_accuracy,
    sampled_training_step_cost,
    summarise,
)
from ..learner import Learner
from ..recipes import cached_call, trained
from ..registry import build_learner, glyph_learner
from ..tasks import FewShotTasks, GlyphConfig, load_glyphs
from ..training import seed_everything
from ..transfer import SupervisedPretraining, freeze_prefix

META_METHODS = ("protonet", "maml", "fomaml", "anil", "reptile")
TRANSFER_METHODS = ("centroid", "linear_probe", "baseline_pp", "finetune", "l2sp")
METHODS = META_METHODS + TRANSFER_METHODS


@dataclass(frozen=True)
class GlyphBudget:
    """How much each method gets. Defaults keep ``mtl-tutorial compare glyphs`` (1- and 5-shot,
    every method) near 15 minutes on 2 CPU cores; :meth:`scaled` multiplies the training
    budget (for a GPU, or a longer run).

    ``train_gflops`` (default 1,000: 268 pretraining steps of 64 images, close to the 300 of
    chapter 4's image comparison; 16–25 CPU-seconds per method on the book's 2-core development
    machine) is each method's training budget: a meta-learner runs
    ``train_gflops / (GFLOPs of one of its iterations)`` iterations, the pretraining that every
    transfer method shares as many steps as the budget buys. The iterations, hence the results,
    are the same on every machine. ``train_cpu_seconds`` (default ``None``) replaces it with a
    budget of CPU-seconds, whose results depend on the machine's speed and load.

    Small batches on purpose: on the CPU, tensors beyond glibc's 32 MB mmap threshold are
    mapped and unmapped at every step, and the page faults cost more than the arithmetic
    (a batch of 25 test episodes spent more time in the kernel than computing).
    """

    train_gflops: float = 1000.0
    train_cpu_seconds: float | None = None
    test_episodes: int = 600
    queries: int = 15
    ways: int = 5
    meta_batch_size: int = 2
    eval_batch: int = 2

    def scaled(self, factor: float) -> GlyphBudget:
        if not factor > 0:
            raise ValueError(f"factor must be > 0, got {factor}")
        seconds = None if self.train_cpu_seconds is None else self.train_cpu_seconds * factor
        return dataclasses.replace(self, train_gflops=self.train_gflops * factor, train_cpu_seconds=seconds)

    def __post_init__(self) -> None:
        if not self.train_gflops > 0:
            raise ValueError(f"train_gflops must be > 0, got {self.train_gflops}")
        if self.train_cpu_seconds is not None and not self.train_cpu_seconds > 0:
            raise ValueError(f"train_cpu_seconds must be > 0 or None, got {self.train_cpu_seconds}")

    def iterations_for(self, flops_per_iteration: int) -> int:
        """The iterations ``train_gflops`` buys at ``flops_per_iteration`` (at least 1)."""
        return max(1, int(self.train_gflops * 1e9 // flops_per_iteration))


def score_with_cost(
    learner: Learner, tasks: FewShotTasks, episodes, *, batch: int
) -> tuple[torch.Tensor, float, AdaptationCost]:
    """Per-episode query accuracy on the fixed ``episodes`` (scored ``batch`` at a time), the
    CPU-milliseconds per episode it took (this run, for display) and the cost of one adaptation
    (:func:`~mtl_tutorial.evaluation.adaptation_cost`, counted on the first batch)."""
    accuracy, ms = cpu_ms_per_task(
        lambda: episode_accuracy(learner, tasks, episodes, batch_size=batch)[0], len(episodes)
    )
    cost = adaptation_cost(learner, tasks.episode(episodes, slice(0, batch)), ways=tasks.ways)
    return accuracy, ms, cost


def compare_glyphs(
    methods: Sequence[str] = METHODS,
    *,
    shots: Sequence[int] = (1, 5),
    budget: GlyphBudget = GlyphBudget(),
    seed: int = 0,
    device: str = "cpu",
    glyphs: GlyphConfig | None = None,
    iterations: Mapping[str, int] | None = None,
    log: Callable[[str], None] = print,
) -> tuple[list[dict], dict[tuple[str, int], torch.Tensor]]:
    """Train and test every method for each number of shots; returns the rows and, per
    ``(method, shots)``, the per-episode accuracies (for paired comparisons).

    ``iterations`` (default ``None``: as many as ``budget.train_gflops`` buys, or training for
    ``budget.train_cpu_seconds`` when that is set) gives each meta method its number of
    meta-iterations and, under the key ``"pretraining"``, the steps of the pretraining that every
    transfer method shares. Except with ``train_cpu_seconds``, results depend only on the seed,
    not on how fast or busy the machine is; the rows still report the CPU-seconds each training
    took, and the ``iterations`` it ran.

    Each row holds ``method``, ``shots``, ``metric`` (``"accuracy"``), the mean ``value`` with its
    ``ci95`` and the rest of :meth:`~mtl_tutorial.evaluation.ScoreSummary.fields`; ``train_flops`` (FLOPs
    of one training iteration × the iterations run; for a transfer method, those of the pretraining it
    shares) and ``test_flops_per_episode``, which are the same on every machine; ``train_seconds``
    (CPU-seconds) and ``test_ms_per_episode`` (CPU-milliseconds), as measured in this run, for display;
    and ``train_peak_mib`` and ``test_peak_mib``.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; choose from {list(METHODS)}")
    if iterations is not None:
        needed = {m for m in methods if m in META_METHODS}
        if any(m in TRANSFER_METHODS for m in methods):
            needed.add("pretraining")
        missing = sorted(needed - set(iterations))
        if missing:
            raise ValueError(f"iterations has no entry for {missing}; got keys {sorted(iterations)}")
        for key in needed:
            check_int(f"iterations[{key!r}]", iterations[key], minimum=1)

    def training_length(key: str, flops_per_iteration: int) -> dict:
        if iterations is not None:
            return {"iterations": iterations[key], "max_seconds": None}
        if budget.train_cpu_seconds is not None:
            return {"iterations": 10**9, "max_seconds": budget.train_cpu_seconds}
        return {"iterations": budget.iterations_for(flops_per_iteration), "max_seconds": None}

    benchmark = load_glyphs(glyphs or GlyphConfig())
    train_classes, test_classes = benchmark.split("train"), benchmark.split("test")
    rows, per_episode = [], {}
    pretrained: SupervisedPretraining | None = None
    for k in shots:
        train = FewShotTasks(train_classes, ways=budget.ways, shots=k, queries=budget.queries)
        test = FewShotTasks(test_classes, ways=budget.ways, shots=k, queries=budget.queries)
        episodes = test.fixed_episodes(budget.test_episodes, seed=2017 + k)
        for method in methods:
            seed_everything(seed)
            if method in META_METHODS:
                learner = glyph_learner(method, ways=budget.ways, device=device)
                step = sampled_training_step_cost(learner, train, budget.meta_batch_size, seed)
                learner.fit(train, meta_batch_size=budget.meta_batch_size, seed=seed, progress=False,
                            **training_length(method, step.flops))  # fmt: skip
                train_seconds = learner.train_seconds
                train_iterations = len(learner.losses)
                train_flops = step.flops * train_iterations
                train_peak = step.peak_mib
            else:
                if pretrained is None:  # pretrained once; shared by every transfer baseline and shot count
                    pretrained = glyph_learner("pretraining", device=device)
                    pretraining_step = sampled_training_step_cost(pretrained, train, seed=seed)
                    length = training_length("pretraining", pretraining_step.flops)
                    pretrained.fit(train, seed=seed, progress=False, **length)
                learner = glyph_learner(method, pretrained=pretrained)
                train_seconds = pretrained.train_seconds
                train_iterations = len(pretrained.losses)
                train_flops = pretraining_step.flops * train_iterations
                train_peak = pretraining_step.peak_mib
            accuracy, ms, adaptation = score_with_cost(learner, test, episodes, batch=budget.eval_batch)
            test_flops = adaptation.flops_per_task
            summary = summarise(accuracy)
            per_episode[(method, k)] = accuracy
            rows.append({
                "method": method, "shots": k, "metric": "accuracy", **summary.fields(),
                "iterations": train_iterations,
                "train_flops": int(train_flops), "test_flops_per_episode": int(test_flops),
                "train_seconds": round(train_seconds, 1), "test_ms_per_episode": round(ms, 1),
                "train_peak_mib": round(train_peak, 1),
                "test_peak_mib": round(adaptation.peak_mib, 1),
            })  # fmt: skip
            log(f"{k}-shot {method:>12}: {summary.text()}  "
                f"(train {train_flops / 1e9:,.0f} GFLOPs, {train_seconds:.0f} CPU-s; "
                f"test {test_flops / 1e6:,.0f} MFLOPs, {ms:.0f} ms/episode)")  # fmt: skip
    return rows, per_episode


def glyph_comparison(
    *,
    methods: Sequence[str],
    shots: Sequence[int],
    budget: Mapping[str, Any],
    iterations: Mapping[str, int],
    seed: int = 0,
    device: str = "cpu",
) -> dict[str, Any]:
    """:func:`compare_glyphs` with fixed iteration counts and JSON-serialisable arguments, for
    :func:`~mtl_tutorial.recipes.cached_call` (a chapter computes it once, then reads it).

    Args:
        budget: the fields of a :class:`GlyphBudget` (``dataclasses.asdict(GlyphBudget(...))``).
        methods, shots, iterations, seed, device: as for :func:`compare_glyphs`.

    Returns:
        ``{"rows": rows, "per_episode": per_episode, "log": lines}``: what :func:`compare_glyphs`
        returns, and the lines it logged (one per method and number of shots).
    """
    lines: list[str] = []
    rows, per_episode = compare_glyphs(
        list(methods), shots=tuple(shots), budget=GlyphBudget(**budget), seed=seed, device=device,
        glyphs=GlyphConfig(), iterations=dict(iterations), log=lines.append,
    )  # fmt: skip
    return {"rows": rows, "per_episode": per_episode, "log": lines}


def protonet_from_pretrained(
    *,
    iterations: int = 300,
    ways: int = 5,
    shots: int = 5,
    queries: int = 5,
    meta_batch_size: int = 1,
    lr: float = 1e-3,
    seed: int = 0,
    device: str = "cpu",
) -> dict[str, dict[str, torch.Tensor]]:
    """Pretraining, then meta-learning: Prototypical Networks meta-trained from (a copy of) the
    book's pretrained glyph backbone, the recipe ``glyph_backbone``.

    The meta-training is the recipe ``glyph_protonet``'s by default (``iterations`` Adam steps at
    ``lr``, each on ``meta_batch_size`` ``ways``-way ``shots``-shot episodes of the training
    scripts with ``queries`` queries per class, task seed ``seed``); only the starting weights
    differ. For :func:`~mtl_tutorial.recipes.cached_call`.

    Returns:
        the trained learner's ``state_dict()``; load it into
        ``ProtoNet(Conv4(channels=32))`` (the recipe's network).
    """
    check_int("iterations", iterations, minimum=1)
    pretrained = trained("glyph_backbone", device=device)
    tasks = FewShotTasks(load_glyphs(GlyphConfig()).split("train"), ways=ways, shots=shots, queries=queries)
    learner = build_learner("protonet", copy.deepcopy(pretrained.backbone), lr=lr, device=device)
    learner.fit(tasks, iterations=iterations, meta_batch_size=meta_batch_size, seed=seed, progress=False)
    return learner.state_dict()


#: The learners :func:`transfer_scores` builds, by the name a specification gives as ``"learner"``.
TRANSFER_VARIANTS = ("centroid", "linear_probe", "lora", "partial", "protonet")


def _check_variant(spec: Mapping[str, Any]) -> None:
    """``ValueError`` unless ``spec`` is a learner specification of :func:`transfer_scores`."""
    kind = spec.get("learner")
    if kind not in TRANSFER_VARIANTS:
        raise ValueError(f"unknown learner {kind!r}; choose from {list(TRANSFER_VARIANTS)}")
    if kind == "protonet":
        settings = set(spec) - {"learner"}
        if settings not in ({"recipe"}, {"from_pretrained"}):
            raise ValueError(f"a protonet needs 'recipe' or 'from_pretrained', got {sorted(settings)}")
    elif spec.get("input", "features") not in ("features", "images"):
        raise ValueError(f"input must be 'features' or 'images', got {spec['input']!r}")


def _transfer_variant(
    spec: Mapping[str, Any], pretrained: SupervisedPretraining, top: SupervisedPretraining, device: str
) -> tuple[Learner, str]:
    """The learner of one (checked) specification of :func:`transfer_scores`, and the input it reads."""
    settings = {k: v for k, v in spec.items() if k not in ("learner", "input")}
    if spec["learner"] == "protonet":
        if "recipe" in settings:
            return trained(settings["recipe"], device=device), "images"
        learner = build_learner("protonet", copy.deepcopy(pretrained.backbone), device=device)  # same network
        learner.load_state_dict(cached_call("transfer_protonet_from_pretrained", protonet_from_pretrained,
                                            **settings["from_pretrained"], device=device))  # fmt: skip
        return learner, "images"
    source = spec.get("input", "features")
    return build_learner(spec["learner"], top if source == "features" else pretrained, **settings), source


def transfer_scores(
    *,
    learners: Mapping[str, Mapping[str, Any]],
    ways: int = 5,
    shots: int = 5,
    queries: int = 10,
    episodes: int = 200,
    episode_seed: int = 2019,
    frozen_blocks: int = 2,
    batch: int = 10,
    device: str = "cpu",
) -> dict[str, dict[str, Any]]:
    """Score transfer learners built on the book's glyph backbone (recipe ``glyph_backbone``), and
    ProtoNets, on the same fixed test episodes; chapter 5's comparisons, for
    :func:`~mtl_tutorial.recipes.cached_call`.

    The episodes are ``episodes`` fixed ``ways``-way ``shots``-shot episodes of the test scripts
    with ``queries`` queries per class, drawn with ``episode_seed``. Learners that never change
    the backbone's first ``frozen_blocks`` blocks read those blocks' output, computed once per
    test image (:func:`~mtl_tutorial.transfer.freeze_prefix`); episodes drawn from it with the
    same indices are the same episodes.

    Args:
        learners: by name, a specification: ``{"learner": kind, **settings}``, with ``kind``
            ``"centroid"`` (:class:`~mtl_tutorial.transfer.NearestCentroid`), ``"linear_probe"``
            (:class:`~mtl_tutorial.transfer.LinearProbe`), ``"lora"``
            (:class:`~mtl_tutorial.transfer.LoRAFineTuning`) or ``"partial"``
            (:class:`~mtl_tutorial.transfer.PartialFineTuning`), whose settings are the class's
            keyword arguments, built on the frozen blocks' output (``"input": "features"``, the
            default) or on the whole backbone (``"input": "images"``); or ``"protonet"``, which
            reads images, with the key ``"recipe"`` (the name of a trained recipe) or the key
            ``"from_pretrained"`` (a dict of the arguments of :func:`protonet_from_pretrained`).
        batch: episodes per evaluation batch; the FLOPs are counted on the first ``batch``.

    Returns:
        A dict of four dicts, each by learner name: ``"accuracy"``, the per-episode query
        accuracy; ``"flops"``, the FLOPs of adapting to and classifying one episode (see
        :func:`~mtl_tutorial.evaluation.adaptation_cost`); ``"seconds"``, the CPU-seconds of
        scoring all episodes, as
        measured in this call; ``"parameters"``, the numbers trained per task
        (each learner's ``adapted_parameters``), for the transfer learners.
    """
    for name, value in (("ways", ways), ("shots", shots), ("queries", queries), ("episodes", episodes),
                        ("batch", batch)):  # fmt: skip
        check_int(name, value, minimum=1)
    for spec in learners.values():
        _check_variant(spec)
    pretrained = trained("glyph_backbone", device=device)
    test_classes = load_glyphs(GlyphConfig()).split("test")
    top, test_features = freeze_prefix(pretrained, blocks=frozen_blocks, classes=test_classes)
    tasks = {
        "images": FewShotTasks(test_classes, ways, shots, queries),
        "features": FewShotTasks(test_features, ways, shots, queries),
    }
    fixed = tasks["images"].fixed_episodes(episodes, seed=episode_seed)
    out: dict[str, dict[str, Any]] = {"accuracy": {}, "flops": {}, "seconds": {}, "parameters": {}}
    for name, spec in learners.items():
        learner, source = _transfer_variant(spec, pretrained, top, device)
        out["accuracy"][name], ms, cost = score_with_cost(learner, tasks[source], fixed, batch=batch)
        out["seconds"][name] = ms * episodes / 1000
        out["flops"][name] = cost.flops_per_task
        if spec["learner"] != "protonet":
            out["parameters"][name] = cost.adapted_parameters
    return out
