"""The learner registry: one name, one class and one set of settings, everywhere."""

import pytest
import torch

from mtl_tutorial import MAML, MLP, ProtoNet, seed_everything
from mtl_tutorial.experiments.glyphs import METHODS as GLYPH_METHODS
from mtl_tutorial.experiments.sinusoid import METHODS as SINUSOID_METHODS
from mtl_tutorial.experiments.sinusoid import reproduction_learner
from mtl_tutorial.learner import GradientLearner
from mtl_tutorial.models import Conv4
from mtl_tutorial.registry import (
    GLYPH_SETTINGS,
    LEARNERS,
    SINUSOID_SETTINGS,
    build_learner,
    glyph_learner,
    sinusoid_learner,
)
from mtl_tutorial.transfer import SupervisedPretraining

from helpers import concrete_trainables


def test_every_trainable_class_is_registered_under_its_own_unique_name():
    # GradientLearner is the base of the gradient-based learners: it has no training step
    assert {entry.cls for entry in LEARNERS.values()} == concrete_trainables() - {GradientLearner}
    for name, entry in LEARNERS.items():
        assert name == entry.cls.name or entry.fixed, name  # only variants like "fomaml" differ
    classes = [e.cls for e in LEARNERS.values() if not e.fixed]
    assert len({c.name for c in classes}) == len(classes)


def test_the_runners_and_the_benchmark_settings_name_registered_learners():
    assert set(SINUSOID_SETTINGS) <= set(LEARNERS) and set(GLYPH_SETTINGS) <= set(LEARNERS)
    assert set(GLYPH_METHODS) <= set(GLYPH_SETTINGS)
    assert set(SINUSOID_METHODS) - {"scratch"} <= set(SINUSOID_SETTINGS)


def test_a_variant_fixes_its_options_and_refuses_to_unset_them():
    assert build_learner("fomaml", MLP()).first_order and not build_learner("maml", MLP()).first_order
    with pytest.raises(ValueError, match="fixes"):
        build_learner("fomaml", MLP(), first_order=False)


def test_bad_names_and_options_are_refused_with_the_choices():
    with pytest.raises(ValueError, match="choose from .*'maml'"):
        build_learner("mamml", MLP())
    with pytest.raises(ValueError, match=r"takes no \['inner_lr'\]; it takes \['device', 'lr'\]"):
        build_learner("protonet", MLP(), inner_lr=0.1)
    # options a subclass forwards to its parents (ANIL's **kwargs reach MAML) are accepted
    assert build_learner("anil", MLP(), inner_lr=0.1).inner_lr == 0.1
    with pytest.raises(ValueError, match="choose from"):
        sinusoid_learner("linear_probe")  # a glyph learner


def test_sinusoid_learner_builds_the_specified_learner_with_the_books_settings():
    seed_everything(0)
    learner = sinusoid_learner("maml", hidden=[16], inner_lr=0.05, first_order=True)
    assert isinstance(learner, MAML) and learner.first_order and learner.inner_lr == 0.05
    assert [m.out_features for m in learner.model.modules() if isinstance(m, torch.nn.Linear)] == [16, 1]
    reptile = sinusoid_learner("reptile")
    assert (reptile.inner_lr, reptile.inner_steps) == (0.02, 10)
    # the reproduction's set-up goes on top of the book's settings
    assert reproduction_learner("reptile").inner_steps == 10
    assert reproduction_learner("maml", setup="multi-step").inner_steps == 5


def test_glyph_learners_get_a_head_only_where_they_fine_tune_one():
    maml = glyph_learner("maml", ways=3, channels=4)
    assert maml.inner_lr == 0.4 and maml.adapt_steps == 1
    assert [m for m in maml.model.modules() if isinstance(m, torch.nn.Linear)][-1].out_features == 3
    protonet = glyph_learner("protonet", channels=4)
    assert isinstance(protonet, ProtoNet)
    assert not any(isinstance(m, torch.nn.Linear) for m in protonet.model.modules())
    with pytest.raises(ValueError, match="pretrained="):
        glyph_learner("finetune")
    pretrained = SupervisedPretraining(Conv4(channels=4))
    assert glyph_learner("finetune", pretrained=pretrained).adapt_steps == 2
