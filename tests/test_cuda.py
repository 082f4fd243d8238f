"""The GPU path: every learner of the registry, on sinusoids and on images, and the command line,
with ``device="cuda"``. Skipped (not failed) where CUDA is absent, as on the book's CPU machines;
run them on a GPU machine with ``pytest tests/test_cuda.py -m "slow or not slow"``."""

import pytest
import torch

from mtl_tutorial import SinusoidTasks, seed_everything
from mtl_tutorial.evaluation import episode_accuracy, query_mse
from mtl_tutorial.models import Conv4
from mtl_tutorial.registry import GLYPH_SETTINGS, LEARNERS, SINUSOID_SETTINGS, glyph_learner, sinusoid_learner
from mtl_tutorial.tasks import FewShotTasks, ImageClasses
from mtl_tutorial.transfer import SupervisedPretraining

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")


def images() -> FewShotTasks:
    g = torch.Generator().manual_seed(0)
    classes = ImageClasses(torch.rand(8, 6, 1, 28, 28, generator=g), [str(i) for i in range(8)])
    return FewShotTasks(classes, ways=5, shots=1, queries=2)


@pytest.mark.parametrize("method", sorted(SINUSOID_SETTINGS))
def test_every_sinusoid_learner_trains_and_predicts_on_cuda(method):
    seed_everything(0)
    learner = sinusoid_learner(method, device="cuda")
    tasks = SinusoidTasks()
    learner.fit(tasks, iterations=2, meta_batch_size=2, progress=False)
    assert all(p.is_cuda for m in learner.trainable_modules().values() for p in m.parameters())
    mse = query_mse(learner, tasks.sample(3, seed=1), steps=(1,))
    assert torch.isfinite(mse).all()


@pytest.mark.parametrize("method", sorted(GLYPH_SETTINGS))
def test_every_image_learner_trains_and_classifies_on_cuda(method):
    seed_everything(0)
    tasks = images()
    pretrained = None
    if LEARNERS[method].builds_on == "pretraining":
        pretrained = SupervisedPretraining(Conv4(channels=8), batch_size=8, device="cuda")
        pretrained.fit(tasks, iterations=2, progress=False)
    learner = glyph_learner(method, channels=8, pretrained=pretrained, device="cuda")
    if pretrained is None:
        learner.fit(tasks, iterations=2, meta_batch_size=2, progress=False)
    assert all(p.is_cuda for m in learner.trainable_modules().values() for p in m.parameters())
    if method == "pretraining":  # not a few-shot learner by itself: the others build on it
        return
    accuracy = episode_accuracy(learner, tasks, tasks.fixed_episodes(2, seed=0), batch_size=2)[0]
    assert accuracy.shape == (2,) and ((0 <= accuracy) & (accuracy <= 1)).all()


@pytest.mark.slow
def test_the_command_line_runs_on_cuda(tmp_path):
    import json

    from test_omniglot import make_tree

    from mtl_tutorial.cli import main

    report = tmp_path / "omniglot.json"
    argv = ["reproduce", "omniglot", "--data", str(make_tree(tmp_path / "omniglot")), "--device", "cuda",
            "--settings", "5w1s", "--episodes", "2", "--json", str(report)]  # fmt: skip
    assert main(argv) == 0
    assert len(json.loads(report.read_text())["rows"]) == 2
