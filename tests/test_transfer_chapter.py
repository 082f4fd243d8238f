"""Chapter 5's glyph experiments: protonet_from_pretrained ("pretrained, then ProtoNet", from the
glyph backbone) and transfer_scores (every learner on the same fixed test episodes)."""

import pytest
import torch

from mtl_tutorial import ProtoNet, seed_everything
from mtl_tutorial.experiments import glyphs
from mtl_tutorial.models import Conv4
from mtl_tutorial.tasks import FewShotTasks, GlyphConfig, load_glyphs
from mtl_tutorial.transfer import SupervisedPretraining


@pytest.fixture
def tiny_backbone(monkeypatch):
    """A stand-in for the glyph_backbone recipe: the same network, pretrained for 2 steps."""
    seed_everything(0)
    pretrained = SupervisedPretraining(Conv4(channels=32), lr=3e-3)
    pretrained.fit(FewShotTasks(load_glyphs(GlyphConfig()).split("train")), iterations=2, progress=False)
    asked = []

    def trained(name, **kwargs):
        asked.append(name)
        if name == "glyph_protonet":  # a stand-in for the ProtoNet recipe: never trained
            seed_everything(0)
            return ProtoNet(Conv4(channels=32))
        return pretrained

    monkeypatch.setattr(glyphs, "trained", trained)
    return pretrained, asked


def test_it_meta_trains_a_copy_of_the_glyph_backbone(tiny_backbone):
    pretrained, asked = tiny_backbone
    before = {k: v.clone() for k, v in pretrained.backbone.state_dict().items()}
    one, again, two = (glyphs.protonet_from_pretrained(iterations=n, queries=2) for n in (1, 1, 2))
    assert asked == ["glyph_backbone"] * 3
    # the recipe's backbone is left as it was: the ProtoNet trained a copy
    assert all(torch.equal(v, before[k]) for k, v in pretrained.backbone.state_dict().items())
    # deterministic, and the iterations are really run
    assert all(torch.equal(v, again["model"][k]) for k, v in one["model"].items())
    assert not all(torch.equal(v, two["model"][k]) for k, v in one["model"].items())
    # one step away from the pretrained weights, and loadable into the recipe's ProtoNet
    assert not all(torch.equal(v, before[k]) for k, v in one["model"].items())
    learner = ProtoNet(Conv4(channels=32))
    learner.load_state_dict(one)


def test_bad_iterations_are_refused(tiny_backbone):
    with pytest.raises(ValueError, match="iterations"):
        glyphs.protonet_from_pretrained(iterations=0)


def test_transfer_scores_scores_every_learner_on_the_same_episodes(tiny_backbone):
    learners = {
        "centroid": {"learner": "centroid"},
        "probe": {"learner": "linear_probe"},
        "lora": {"learner": "lora", "rank": 1, "adapt_steps": 1, "adapt_lr": 0.02},
        "full": {"learner": "partial", "blocks": 4, "adapt_steps": 1, "adapt_lr": 0.001, "input": "images"},
        "protonet": {"learner": "protonet", "recipe": "glyph_protonet"},
    }
    scores = glyphs.transfer_scores(learners=learners, queries=2, episodes=4, batch=2)
    assert all(scores["accuracy"][name].shape == (4,) for name in learners)
    assert all(scores["flops"][name] > 0 for name in learners)
    assert set(scores["parameters"]) == set(learners) - {"protonet"}  # ProtoNets adapt nothing
    counts = scores["parameters"]
    assert counts["centroid"] == 0 < counts["probe"] < counts["lora"]
    # class means cost less than a head fitted on them; fine-tuning all blocks costs the most
    assert scores["flops"]["centroid"] < scores["flops"]["probe"] < scores["flops"]["full"]
    # deterministic: the same episodes and learners give the same accuracies
    again = glyphs.transfer_scores(learners={"lora": learners["lora"]}, queries=2, episodes=4, batch=2)
    assert torch.equal(again["accuracy"]["lora"], scores["accuracy"]["lora"])


def test_transfer_scores_refuses_unknown_learners_and_inputs(tiny_backbone):
    for spec, message in (
        ({"learner": "maml"}, "unknown learner"),
        ({"learner": "centroid", "input": "x"}, "input"),
        ({"learner": "protonet"}, "'recipe' or 'from_pretrained'"),
    ):
        with pytest.raises(ValueError, match=message):
            glyphs.transfer_scores(learners={"x": spec}, queries=2, episodes=2, batch=2)
