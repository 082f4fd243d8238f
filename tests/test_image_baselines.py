"""Image transfer baselines and the Conv-4 backbone, on small synthetic image classes."""

import pytest
import torch

from mtl_tutorial import MAML, ProtoNet, mean_ci, query_accuracy, seed_everything
from mtl_tutorial.models import Conv4
from mtl_tutorial.tasks import FewShotTasks, ImageClasses
from mtl_tutorial.transfer import (
    CosineClassifier,
    FullFineTuning,
    L2SPFineTuning,
    LinearProbe,
    NearestCentroid,
    SupervisedPretraining,
)


def blob_classes(classes: int = 30, per_class: int = 20, seed: int = 0) -> ImageClasses:
    """Each class is a blob at its own place on a 28×28 image, jittered by a pixel or two."""
    g = torch.Generator().manual_seed(seed)
    centres = 6 + 16 * torch.rand(classes, 1, 2, generator=g)
    jitter = centres + 1.0 * torch.randn(classes, per_class, 2, generator=g)
    grid = torch.stack(torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij"), -1)
    d2 = ((grid.view(1, 1, 28, 28, 2) - jitter.view(classes, per_class, 1, 1, 2)) ** 2).sum(-1)
    return ImageClasses(torch.exp(-d2 / 8).unsqueeze(2), [f"blob{i}" for i in range(classes)])


@pytest.fixture(scope="module")
def pretrained():
    seed_everything(0)
    pre = SupervisedPretraining(Conv4(channels=16), batch_size=32)
    pre.fit(FewShotTasks(blob_classes(seed=1)), iterations=150, progress=False)
    return pre


def test_conv4_gives_64_features_on_28x28_and_has_no_batch_norm():
    net = Conv4()
    assert net(torch.zeros(3, 1, 28, 28)).shape == (3, 64)
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in net.modules())
    assert Conv4(num_classes=5)(torch.zeros(2, 1, 28, 28)).shape == (2, 5)


def test_pretraining_lowers_the_loss(pretrained):
    losses = pretrained.losses
    assert sum(losses[-20:]) / 20 < 0.6 * sum(losses[:5]) / 5


@pytest.mark.parametrize(
    "make",
    [NearestCentroid, LinearProbe, CosineClassifier, FullFineTuning, L2SPFineTuning],
    ids=lambda c: c.__name__,
)
def test_every_baseline_beats_chance_on_new_classes(pretrained, make):
    test = FewShotTasks(blob_classes(seed=2), ways=5, shots=1, queries=5)
    accuracy = mean_ci(query_accuracy(make(pretrained), test.sample(40, seed=0))[0])
    assert accuracy.low > 0.4  # chance is 0.2


def test_fine_tuning_starts_at_the_nearest_centroid_classifier(pretrained):
    episode = FewShotTasks(blob_classes(seed=2), ways=5, shots=2, queries=5).sample(4, seed=1)
    zero_steps = FullFineTuning(pretrained)
    centroid = NearestCentroid(pretrained)
    logits_ft = zero_steps.predict(zero_steps.adapt(episode, steps=0), episode.query_x)
    logits_nc = centroid.predict(centroid.adapt(episode), episode.query_x)
    # same classifier: the logits differ by the per-query constant ‖f(x)‖²
    difference = logits_ft - logits_nc
    torch.testing.assert_close(difference, difference[..., :1].expand_as(difference), rtol=1e-4, atol=1e-3)


def test_l2sp_stays_closer_to_the_pretrained_weights(pretrained):
    # 5 shots: with one shot the head starts at the support points themselves, the support
    # loss is already near zero and fine-tuning has nothing to do
    episode = FewShotTasks(blob_classes(seed=2), ways=5, shots=5, queries=5).sample(2, seed=1)
    start = torch.cat([p.flatten() for p in pretrained.backbone.parameters()])

    def drift(learner):
        adapted = learner.adapt(episode, steps=10)
        moved = torch.cat(
            [adapted[f"backbone.{k}"][0].flatten() for k, _ in pretrained.backbone.named_parameters()]
        )
        return (moved - start).norm()

    free, pulled = (
        drift(FullFineTuning(pretrained, adapt_lr=0.05)),
        drift(L2SPFineTuning(pretrained, l2sp=5.0, adapt_lr=0.05)),
    )
    assert free > 0 and pulled < 0.8 * free


def test_baselines_need_a_pretrained_backbone_and_class_labels():
    pre = SupervisedPretraining(Conv4(channels=8))
    with pytest.raises(ValueError, match="not pretrained yet"):
        NearestCentroid(pre).adapt(FewShotTasks(blob_classes()).sample(1, seed=0))
    with pytest.raises(ValueError, match="must be a SupervisedPretraining"):
        LinearProbe(Conv4())


def test_meta_learners_run_on_images():
    seed_everything(0)
    tasks = FewShotTasks(blob_classes(seed=1), ways=3, shots=1, queries=2)
    for learner in (
        ProtoNet(Conv4(channels=8)),
        MAML(Conv4(channels=8, num_classes=3), inner_lr=0.1, adapt_steps=1),
    ):
        losses = learner.fit(tasks, iterations=2, meta_batch_size=2, progress=False)
        assert len(losses) == 2
        assert query_accuracy(learner, tasks.sample(2, seed=5)).shape == (1, 2)


def test_a_cpu_budget_stops_training_early(pretrained):
    pre = SupervisedPretraining(Conv4(channels=8), batch_size=16)
    losses = pre.fit(FewShotTasks(blob_classes()), iterations=100_000, max_seconds=0.5, progress=False)
    assert 0 < len(losses) < 100_000


def test_pretraining_leaves_no_gradients_behind(pretrained):
    params = list(pretrained.backbone.parameters()) + list(pretrained.head.parameters())
    assert all(p.grad is None for p in params)


class _Float64Features(torch.nn.Module):
    """Images (float32, as ImageClasses gives them) to float64 features."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(28 * 28, 8, dtype=torch.float64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.flatten(1).double())


def test_the_head_computes_in_the_dtype_of_the_features():
    pre = SupervisedPretraining(_Float64Features(), batch_size=8)
    pre.fit(FewShotTasks(blob_classes(classes=6)), iterations=2, progress=False)
    assert pre.head.weight.dtype == torch.float64


def test_a_baseline_passes_checkpointing_on_to_its_pretraining(tmp_path):
    # it used to swallow unknown keywords, so checkpointing= was silently ignored
    from mtl_tutorial.training import Checkpointing, load_checkpoint

    path = tmp_path / "pretraining.pt"
    seed_everything(0)
    probe = LinearProbe(SupervisedPretraining(Conv4(channels=8), batch_size=16))
    tasks = FewShotTasks(blob_classes(classes=10, per_class=4), queries=3)
    saving = Checkpointing(path, every=2)
    probe.fit(tasks, iterations=3, meta_batch_size=25, progress=False, checkpointing=saving)
    assert load_checkpoint(path)["step"] == 3
    with pytest.raises(TypeError, match="unexpected keyword"):
        probe.fit(tasks, iterations=3, checkpoint=path)
