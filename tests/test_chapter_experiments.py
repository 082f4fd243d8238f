"""The chapters' cached computations: the same results as the chapters' own code, and cached."""

import math

import pytest
import torch

from mtl_tutorial import MAML, MLP, FineTuning, SinusoidTasks, query_mse, seed_everything
from mtl_tutorial.experiments import chapters
from mtl_tutorial.recipes import cached_call


def same(a, b):
    """Equal tensors, or equal nested dicts and lists of them (a learner's ``state_dict()``)."""
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@pytest.fixture
def tiny_recipe(monkeypatch):
    """A stand-in for the recipes: a small MAML, trained for 3 iterations."""
    seed_everything(0)
    maml = MAML(MLP(hidden=(8,)), inner_lr=0.01)
    maml.fit(SinusoidTasks(), iterations=3, progress=False)
    monkeypatch.setattr(chapters, "trained", lambda name, **kwargs: maml)
    return maml


def test_query_mse_equals_the_direct_calls(tiny_recipe):
    test_set = SinusoidTasks(support_size=5, query_size=10).sample(7, seed=3)
    specs = {"scratch": {"scratch": 0, "adapt_lr": 0.01}, "maml": {"recipe": "any"},
             "tuned": {"recipe": "any", "adapt_lr": 0.05}}  # fmt: skip
    got = chapters.sinusoid_query_mse(learners=specs, steps=[0, 2], query_size=10, tasks=7, seed=3)
    seed_everything(0)
    scratch = FineTuning(MLP(), adapt_lr=0.01)
    tuned = FineTuning(tiny_recipe.model, adapt_lr=0.05)
    for name, learner in (("scratch", scratch), ("maml", tiny_recipe), ("tuned", tuned)):
        assert torch.equal(got[name], query_mse(learner, test_set, steps=(0, 2)))


def test_bad_specs_are_refused():
    with pytest.raises(ValueError, match="spec"):
        chapters.sinusoid_recipe_learner({"method": "maml"})


def test_support_and_query_mse_of_the_first_tasks():
    support, query = chapters.sinusoid_support_and_query_mse(
        learner={"scratch": 0, "adapt_lr": 0.02}, steps=3, first=4, query_size=10, tasks=6, seed=1
    )
    seed_everything(0)
    learner = FineTuning(MLP(), adapt_lr=0.02)
    subset = SinusoidTasks(support_size=5, query_size=10).sample(6, seed=1)[:4]
    expected = chapters.support_and_query_mse(learner, subset, 3)
    assert support.shape == query.shape == (4,)
    assert torch.equal(support, expected[0]) and torch.equal(query, expected[1])


def test_one_task_transfer_is_cached_and_deterministic(tmp_path, monkeypatch):
    kwargs = dict(amplitude_range=[2.55, 2.55 + 1e-6], phase_range=[math.pi / 2, math.pi / 2 + 1e-6],
                  iterations=2, meta_batch_size=3, steps=[0, 1], query_size=10, tasks=5)  # fmt: skip
    first = cached_call("one", chapters.one_task_transfer, cache_dir=tmp_path, **kwargs)
    assert first["mse"]["maml"].shape == first["mse"]["pretrained"].shape == (2, 5)

    def refuse(*args, **kwargs):
        raise AssertionError("recomputed")

    monkeypatch.setattr(chapters, "seed_everything", refuse)  # a second computation would fail
    again = cached_call("one", chapters.one_task_transfer, cache_dir=tmp_path, **kwargs)
    monkeypatch.undo()
    for part in ("maml", "pretrained"):
        assert torch.equal(first["mse"][part], again["mse"][part])
        assert same(first["states"][part], again["states"][part])
    # and the weights are those of the training it describes: a trained MAML, loadable
    source = SinusoidTasks(
        amplitude_range=tuple(kwargs["amplitude_range"]), phase_range=tuple(kwargs["phase_range"])
    )
    seed_everything(0)
    maml = MAML(MLP(), inner_lr=0.01, inner_steps=1, outer_lr=1e-3)
    maml.fit(source, iterations=2, meta_batch_size=3, seed=0, progress=False)
    assert same(first["states"]["maml"], maml.state_dict())


def test_protonet_accuracy_is_per_episode(monkeypatch):
    from mtl_tutorial import ProtoNet
    from mtl_tutorial.models import Conv4

    seed_everything(0)
    protonet = ProtoNet(Conv4(channels=4))
    monkeypatch.setattr(chapters, "trained", lambda name, **kwargs: protonet)
    monkeypatch.setattr(chapters, "untrained", lambda name, **kwargs: protonet)
    accuracy = chapters.glyph_protonet_accuracy(episodes=4, batch_size=3)
    assert accuracy["trained"].shape == (4,) and torch.equal(accuracy["trained"], accuracy["untrained"])
    assert ((0 <= accuracy["trained"]) & (accuracy["trained"] <= 1)).all()


def test_recipe_accuracy_scores_the_recipes_learner_after_each_step_count(monkeypatch):
    from mtl_tutorial.evaluation import episode_accuracy
    from mtl_tutorial.models import Conv4
    from mtl_tutorial.tasks import FewShotTasks, GlyphConfig, load_glyphs

    seed_everything(0)
    maml = MAML(Conv4(channels=4, num_classes=5), inner_lr=0.4, adapt_steps=1)
    maml.losses, maml.train_seconds = [1.0, 0.5, 0.25], 12.5  # as a recipe loaded from the cache
    asked = []
    monkeypatch.setattr(chapters, "trained", lambda name, **kwargs: asked.append(name) or maml)
    result = chapters.glyph_recipe_accuracy("glyph_maml", steps=[0, 1], episodes=4, queries=2, batch_size=3)
    assert asked == ["glyph_maml"] and result["iterations"] == 3 and result["train_seconds"] == 12.5
    accuracy = result["accuracy"]
    assert accuracy.shape == (2, 4) and ((0 <= accuracy) & (accuracy <= 1)).all()
    test = FewShotTasks(load_glyphs(GlyphConfig()).split("test"), ways=5, shots=1, queries=2)
    expected = episode_accuracy(maml, test, test.fixed_episodes(4, seed=2017), steps=(0, 1))
    assert torch.equal(accuracy, expected)  # the test scripts' fixed episodes, seed 2017
    with pytest.raises(ValueError, match="episodes"):
        chapters.glyph_recipe_accuracy("glyph_maml", episodes=0)
