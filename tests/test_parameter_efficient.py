"""Parameter-efficient transfer: partial fine-tuning and low-rank (LoRA) updates."""

import copy

import pytest
import torch
from torch import nn

from mtl_tutorial import Episode, mean_ci, query_accuracy, seed_everything
from mtl_tutorial.models import Conv4
from mtl_tutorial.tasks import FewShotTasks, ImageClasses
from mtl_tutorial.transfer import (
    CosineClassifier,
    FullFineTuning,
    LinearProbe,
    LoRAFineTuning,
    LowRankUpdate,
    NearestCentroid,
    PartialFineTuning,
    SupervisedPretraining,
    count_blocks,
    freeze_prefix,
    split_backbone,
    with_low_rank_updates,
)

CHANNELS = 16


def blob_classes(classes: int = 30, per_class: int = 20, seed: int = 0, width: float = 8.0) -> ImageClasses:
    """Each class is a blob at its own place on a 28×28 image, jittered by a pixel or two."""
    g = torch.Generator().manual_seed(seed)
    centres = 6 + 16 * torch.rand(classes, 1, 2, generator=g)
    jitter = centres + 1.0 * torch.randn(classes, per_class, 2, generator=g)
    grid = torch.stack(torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij"), -1)
    d2 = ((grid.view(1, 1, 28, 28, 2) - jitter.view(classes, per_class, 1, 1, 2)) ** 2).sum(-1)
    return ImageClasses(torch.exp(-d2 / width).unsqueeze(2), [f"blob{i}" for i in range(classes)])


def pretrain(iterations: int) -> SupervisedPretraining:
    seed_everything(0)
    pre = SupervisedPretraining(Conv4(channels=CHANNELS), batch_size=32)
    pre.fit(FewShotTasks(blob_classes(seed=1)), iterations=iterations, progress=False)
    return pre


@pytest.fixture(scope="module")
def pretrained():
    return pretrain(100)


@pytest.fixture(scope="module")
def episode():
    return FewShotTasks(blob_classes(seed=2), ways=5, shots=3, queries=4).sample(3, seed=1)


def snapshot(module: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of the module's tensors; clears the gradients pretraining left on it."""
    module.zero_grad(set_to_none=True)
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


# -- the low-rank layer -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "layer, x",
    [(nn.Conv2d(3, 8, 3, padding=1), torch.randn(2, 3, 7, 7)), (nn.Linear(6, 4), torch.randn(5, 6))],
    ids=["conv", "linear"],
)
def test_a_zero_initialised_update_leaves_the_layer_exactly_as_it_was(layer, x):
    wrapped = LowRankUpdate(layer, rank=2)
    assert torch.count_nonzero(wrapped.lora_b) == 0 and torch.count_nonzero(wrapped.lora_a) > 0
    assert torch.equal(wrapped(x), layer(x))


def test_the_update_is_the_low_rank_product_reshaped_to_the_kernel():
    conv = nn.Conv2d(3, 8, 3, padding=1)
    wrapped = LowRankUpdate(conv, rank=2, alpha=4.0)
    with torch.no_grad():
        wrapped.lora_b.normal_()
    delta = wrapped.delta()
    assert delta.shape == conv.weight.shape
    assert torch.linalg.matrix_rank(delta.reshape(8, -1)) == 2
    torch.testing.assert_close(delta.reshape(8, -1), 4.0 / 2 * wrapped.lora_b @ wrapped.lora_a)
    x = torch.randn(2, 3, 7, 7)
    expected = torch.nn.functional.conv2d(x, conv.weight + delta, conv.bias, padding=1)
    torch.testing.assert_close(wrapped(x), expected)


def test_the_wrapped_view_shares_the_weights_and_leaves_the_original_untouched():
    seed_everything(0)
    net = Conv4(channels=8)
    before = [type(m) for m in net.modules()]
    view = with_low_rank_updates(net.features, rank=1)
    assert [type(m) for m in net.modules()] == before  # the original is not modified
    wrapped = [m for m in view.modules() if isinstance(m, LowRankUpdate)]
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert len(wrapped) == 4 and all(w.layer is c for w, c in zip(wrapped, convs, strict=True))
    x = torch.rand(3, 1, 28, 28)
    assert torch.equal(view(x), net(x))


@pytest.mark.parametrize("rank", [0, -1, 2.0, True, 73])
def test_a_rank_outside_one_to_min_out_fan_in_is_refused(rank):
    with pytest.raises(ValueError, match="rank"):
        LowRankUpdate(nn.Conv2d(8, 64, 3), rank=rank)  # fan-in 8·3·3 = 72, out 64: at most 64
    with pytest.raises(ValueError, match="rank"):
        LowRankUpdate(nn.Linear(72, 80), rank=rank)


def test_only_linear_and_convolution_layers_get_updates():
    with pytest.raises(ValueError, match="nn.Linear or nn.Conv2d"):
        LowRankUpdate(nn.GroupNorm(2, 8), rank=1)
    with pytest.raises(ValueError, match="zero-padded"):
        LowRankUpdate(nn.Conv2d(2, 4, 3, padding=1, padding_mode="circular"), rank=1)


# -- splitting the backbone -------------------------------------------------------------------


def test_split_backbone_composes_back_to_the_backbone():
    seed_everything(0)
    net = Conv4(channels=8)
    assert count_blocks(net) == 4
    x = torch.rand(2, 1, 28, 28)
    for blocks in range(1, 5):
        prefix, suffix = split_backbone(net, blocks)
        assert sum(1 for m in suffix.modules() if isinstance(m, nn.Conv2d)) == blocks
        assert torch.equal(suffix(prefix(x)), net(x))


@pytest.mark.parametrize("blocks", [0, 5, 1.5])
def test_split_backbone_refuses_a_number_of_blocks_it_does_not_have(blocks):
    with pytest.raises(ValueError, match="blocks"):
        split_backbone(Conv4(channels=8), blocks)


def test_split_backbone_refuses_heads_and_non_sequential_backbones():
    with pytest.raises(ValueError, match="classification head"):
        split_backbone(Conv4(channels=8, num_classes=5), 1)
    with pytest.raises(ValueError, match="nn.Sequential"):
        split_backbone(nn.Linear(3, 3), 1)


def test_frozen_prefix_outputs_give_the_same_episodes_and_predictions(pretrained):
    classes = blob_classes(seed=2)
    tasks = FewShotTasks(classes, ways=5, shots=3, queries=4)
    indices = tasks.sample_indices(3, seed=4)
    top, features = freeze_prefix(pretrained, blocks=2, classes=classes, batch_size=7)
    assert top.fitted and features.images.shape == (30, 20, CHANNELS, 7, 7)
    assert top.backbone[0] is pretrained.backbone.features[2]  # shared, not copied
    feature_tasks = FewShotTasks(features, ways=5, shots=3, queries=4)
    images, maps = tasks.episode(indices), feature_tasks.episode(indices)
    assert torch.equal(images.support_y, maps.support_y) and torch.equal(images.query_y, maps.query_y)
    for make in (
        LinearProbe,
        NearestCentroid,
        lambda p: PartialFineTuning(p, blocks=1, adapt_steps=3),
        lambda p: LoRAFineTuning(p, rank=2, adapt_steps=3),
    ):
        on_images, on_maps = make(pretrained), make(top)
        expected = on_images.predict(on_images.adapt(images), images.query_x)
        torch.testing.assert_close(
            on_maps.predict(on_maps.adapt(maps), maps.query_x), expected, rtol=1e-4, atol=1e-4
        )
    with pytest.raises(ValueError, match="not pretrained yet"):
        freeze_prefix(SupervisedPretraining(Conv4(channels=8)), 1, classes)
    with pytest.raises(ValueError, match="blocks"):
        freeze_prefix(pretrained, 5, classes)


# -- the learners -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda p: PartialFineTuning(p, blocks=1),
        lambda p: PartialFineTuning(p, blocks=4),
        lambda p: LoRAFineTuning(p, rank=2),
        lambda p: LoRAFineTuning(p, rank=1, blocks=3),
    ],
    ids=["partial-1", "partial-all", "lora-1", "lora-3"],
)
def test_with_zero_steps_every_variant_is_the_linear_probe(pretrained, episode, make):
    learner, probe = make(pretrained), LinearProbe(pretrained)
    logits = learner.predict(learner.adapt(episode, steps=0), episode.query_x)
    expected = probe.predict(probe.adapt(episode), episode.query_x)
    torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-5)


def test_partial_fine_tuning_trains_the_last_blocks_and_the_head_only(pretrained, episode):
    before = snapshot(pretrained.backbone)
    learner = PartialFineTuning(pretrained, blocks=2, adapt_steps=5, adapt_lr=0.01)
    adapted = learner.adapt(episode)
    # the adapted state holds the last two conv blocks (numbered 0 and 1 in the suffix) and the
    # head, nothing of the first two blocks
    tuned = {k.removeprefix("backbone.") for k in adapted if k.startswith("backbone.")}
    assert tuned == {f"{i}.{j}.{w}" for i in (0, 1) for j in (0, 1) for w in ("weight", "bias")}
    assert set(adapted) - {f"backbone.{k}" for k in tuned} == {"weight", "bias"}
    # ... every one of them moved, for each task
    named = dict(learner.classifier.named_parameters())
    for name in (f"backbone.{k}" for k in tuned):
        assert all(not torch.equal(adapted[name][t], named[name]) for t in range(3))
    # ... and the pretrained backbone is bit-identical, with no gradient left on it
    assert all(torch.equal(before[k], v) for k, v in pretrained.backbone.state_dict().items())
    assert all(p.grad is None for p in pretrained.backbone.parameters())


def test_lora_trains_the_low_rank_factors_and_the_head_only(pretrained, episode):
    before = snapshot(pretrained.backbone)
    learner = LoRAFineTuning(pretrained, rank=2, blocks=2, adapt_steps=5, adapt_lr=0.01)
    adapted = learner.adapt(episode)
    assert set(adapted) == {"weight", "bias"} | {
        f"backbone.{i}.0.lora_{m}" for i in (0, 1) for m in ("a", "b")
    }  # the suffix's blocks are numbered from 0
    assert all(torch.count_nonzero(adapted[f"backbone.{i}.0.lora_b"]) > 0 for i in (0, 1))
    assert all(torch.equal(before[k], v) for k, v in pretrained.backbone.state_dict().items())
    assert all(p.grad is None for p in pretrained.backbone.parameters())
    # predicting with the adapted factors leaves the wrapped layers' own factors at their start
    learner.predict(adapted, episode.query_x)
    assert all(
        torch.count_nonzero(m.lora_b) == 0
        for m in learner.classifier.modules()
        if isinstance(m, LowRankUpdate)
    )


def test_the_trainable_parameter_counts(pretrained, episode):
    c, ways, head = CHANNELS, 5, 5 * (CHANNELS + 1)
    block = c * c * 9 + c + 2 * c  # convolution weight and bias, GroupNorm scale and shift
    backbone = sum(p.numel() for p in pretrained.backbone.parameters())
    assert backbone == (1 * c * 9 + c + 2 * c) + 3 * block
    learners = {
        "partial-1": (PartialFineTuning(pretrained, blocks=1), block + head),
        "partial-all": (PartialFineTuning(pretrained, blocks=4), backbone + head),
        "lora-r2": (LoRAFineTuning(pretrained, rank=2), 2 * (c + c * 9) + head),
        "lora-r1-2blocks": (LoRAFineTuning(pretrained, rank=1, blocks=2), 2 * (c + c * 9) + head),
    }
    for name, (learner, expected) in learners.items():
        assert learner.adapted_parameters(ways) == expected, name
        # the count is what adaptation actually returns for one task
        adapted = learner.adapt(episode, steps=1)
        assert sum(v[0].numel() for v in adapted.values()) == expected, name
    assert NearestCentroid(pretrained).adapted_parameters() == 0
    assert LinearProbe(pretrained).adapted_parameters() == head
    assert CosineClassifier(pretrained).adapted_parameters() == 5 * c
    assert FullFineTuning(pretrained).adapted_parameters() == backbone + head
    assert LinearProbe(pretrained).adapted_parameters(20) == 20 * (c + 1)
    with pytest.raises(ValueError, match="ways"):
        LinearProbe(pretrained).adapted_parameters(1)


def test_bad_arguments_are_refused(pretrained):
    with pytest.raises(ValueError, match="blocks"):
        PartialFineTuning(pretrained, blocks=5)
    with pytest.raises(ValueError, match="rank"):
        LoRAFineTuning(pretrained, rank=0)
    with pytest.raises(ValueError, match="rank"):
        LoRAFineTuning(pretrained, rank=CHANNELS + 1)  # out = 16 channels
    with pytest.raises(ValueError, match="lr"):
        LoRAFineTuning(pretrained, adapt_lr=0.0)
    with pytest.raises(ValueError, match="head_steps"):
        PartialFineTuning(pretrained, head_steps=-1)
    with pytest.raises(ValueError, match="must be a SupervisedPretraining"):
        LoRAFineTuning(Conv4(channels=8))


def test_unpretrained_backbones_and_regression_episodes_are_refused(episode):
    learner = LoRAFineTuning(SupervisedPretraining(Conv4(channels=8)))
    with pytest.raises(ValueError, match="not pretrained yet"):
        learner.adapt(episode)
    regression = Episode(
        episode.support_x, episode.support_y.float().unsqueeze(-1), episode.query_x,
        episode.query_y.float().unsqueeze(-1),
    )  # fmt: skip
    with pytest.raises(ValueError, match="regression"):
        PartialFineTuning(pretrain(1)).adapt(regression)


@pytest.mark.parametrize(
    "make",
    [lambda p: PartialFineTuning(p, adapt_steps=3), lambda p: LoRAFineTuning(p, adapt_steps=3)],
    ids=["partial", "lora"],
)
def test_each_query_is_predicted_on_its_own(pretrained, episode, make):
    learner = make(pretrained)
    adapted = learner.adapt(episode)
    together = learner.predict(adapted, episode.query_x)
    alone = torch.cat([learner.predict(adapted, episode.query_x[:, i : i + 1]) for i in range(20)], dim=1)
    torch.testing.assert_close(alone, together, rtol=1e-5, atol=1e-5)


def test_adaptation_raises_accuracy_where_the_frozen_features_are_useless(pretrained):
    # zero the last convolution: the frozen features no longer depend on the image, so the
    # linear probe is at chance; tuning that block, or a low-rank update of it, recovers
    broken = copy.deepcopy(pretrained)
    with torch.no_grad():
        broken.backbone.features[3][0].weight.zero_()
    test = FewShotTasks(blob_classes(seed=2), ways=5, shots=5, queries=5).sample(20, seed=0)
    probe = mean_ci(query_accuracy(LinearProbe(broken), test)[0])
    assert probe.mean == pytest.approx(0.2)
    learners = (PartialFineTuning(broken, adapt_steps=30, adapt_lr=0.01),
                LoRAFineTuning(broken, adapt_steps=30, adapt_lr=0.03))  # fmt: skip
    for learner in learners:
        assert mean_ci(query_accuracy(learner, test)[0]).low > 0.6, type(learner).__name__
