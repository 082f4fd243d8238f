"""Checkpoints: atomic, weights_only, and a resumed run ends exactly where an uninterrupted one does."""

import pytest
import torch

from mtl_tutorial import (
    ANIL,
    MAML,
    MLP,
    Checkpointing,
    FiLMNetwork,
    FineTuning,
    GaussianClusterTasks,
    InContext,
    InContextTransformer,
    MetaSGD,
    ProtoMAML,
    ProtoNet,
    Reptile,
    SinusoidTasks,
    TaskConditioned,
    seed_everything,
)
from mtl_tutorial.learner import GradientLearner
from mtl_tutorial.models import Conv4
from mtl_tutorial.tasks import FewShotTasks, ImageClasses
from mtl_tutorial.training import load_checkpoint, save_atomically
from mtl_tutorial.transfer import (
    CosineClassifier,
    FullFineTuning,
    L2SPFineTuning,
    LinearProbe,
    LoRAFineTuning,
    NearestCentroid,
    PartialFineTuning,
    RidgeProbe,
    SupervisedPretraining,
)

from helpers import InterruptAfter, concrete_trainables, flat_params

SINE = SinusoidTasks()
CLUSTERS = GaussianClusterTasks(num_ways=3, dim=4)
LEARNERS = {
    "maml": (lambda: MAML(MLP(hidden=(16,))), SINE),
    "metasgd": (lambda: MetaSGD(MLP(hidden=(16,))), SINE),
    "reptile": (lambda: Reptile(MLP(hidden=(16,))), SINE),
    "pretrained": (lambda: FineTuning(MLP(hidden=(16,))), SINE),
    "protonet": (lambda: ProtoNet(MLP(4, (8,), 8)), CLUSTERS),
    "protomaml": (lambda: ProtoMAML(MLP(4, (8,), 8), features=8, inner_lr=0.1), CLUSTERS),
    "film": (lambda: TaskConditioned(FiLMNetwork(hidden=(16,), encoder_hidden=(16,))), SINE),
    "in_context": (lambda: InContext(InContextTransformer(width=16, depth=1, heads=2)), SINE),
}


def train(name, iterations, checkpointing=None, interrupt_after=None):
    seed_everything(0)
    make, tasks = LEARNERS[name]
    learner = make()
    if interrupt_after is not None:
        tasks = InterruptAfter(tasks, interrupt_after)
    losses = learner.fit(tasks, iterations=iterations, meta_batch_size=4, seed=3, checkpointing=checkpointing)
    return learner, losses


@pytest.mark.parametrize("name", sorted(LEARNERS))
def test_resuming_a_killed_run_gives_the_uninterrupted_result(name, tmp_path):
    reference, reference_losses = train(name, 20)
    checkpointing = Checkpointing(tmp_path / "run.pt", every=5)
    with pytest.raises(KeyboardInterrupt):
        train(name, 20, checkpointing, interrupt_after=13)  # dies during iteration 13
    assert load_checkpoint(checkpointing.path)["step"] == 10
    resumed, resumed_losses = train(name, 20, checkpointing)
    assert torch.equal(flat_params(resumed.model), flat_params(reference.model))
    assert resumed_losses == reference_losses
    assert load_checkpoint(checkpointing.path)["step"] == 20


def tiny_images() -> FewShotTasks:
    g = torch.Generator().manual_seed(0)
    return FewShotTasks(ImageClasses(torch.rand(6, 4, 1, 16, 16, generator=g), [str(i) for i in range(6)]),
                        ways=3, shots=1, queries=1)  # fmt: skip


def pretraining() -> SupervisedPretraining:
    return SupervisedPretraining(Conv4(channels=4), batch_size=8)


IMAGES = tiny_images()
#: Every other learner of the package, each with the model whose weights its training changes.
ALL_LEARNERS = {
    GradientLearner: None,  # nothing to train: fit() is refused
    ANIL: (lambda: ANIL(MLP(hidden=(16,))), SINE, "model"),
    MAML: (lambda: MAML(MLP(hidden=(16,)), first_order=True), SINE, "model"),
    MetaSGD: (lambda: MetaSGD(MLP(hidden=(16,)), max_rate=0.05), SINE, "model"),
    Reptile: (lambda: Reptile(MLP(hidden=(16,)), anneal=False), SINE, "model"),
    ProtoNet: (lambda: ProtoNet(MLP(4, (8,), 8)), CLUSTERS, "model"),
    ProtoMAML: (LEARNERS["protomaml"][0], CLUSTERS, "model"),
    TaskConditioned: (LEARNERS["film"][0], SINE, "model"),
    InContext: (LEARNERS["in_context"][0], SINE, "model"),
    FineTuning: (lambda: FineTuning(MLP(hidden=(16,))), SINE, "model"),
    RidgeProbe: (lambda: RidgeProbe(MLP(hidden=(16,))), SINE, "model"),
    SupervisedPretraining: (pretraining, IMAGES, "backbone"),
    NearestCentroid: (lambda: NearestCentroid(pretraining()), IMAGES, "model"),
    LinearProbe: (lambda: LinearProbe(pretraining()), IMAGES, "model"),
    CosineClassifier: (lambda: CosineClassifier(pretraining()), IMAGES, "model"),
    FullFineTuning: (lambda: FullFineTuning(pretraining()), IMAGES, "model"),
    L2SPFineTuning: (lambda: L2SPFineTuning(pretraining()), IMAGES, "model"),
    PartialFineTuning: (lambda: PartialFineTuning(pretraining()), IMAGES, "model"),
    LoRAFineTuning: (lambda: LoRAFineTuning(pretraining()), IMAGES, "model"),
}


def test_the_resume_test_covers_every_learner_of_the_package():
    assert concrete_trainables() == set(ALL_LEARNERS)


def fit_all(cls, iterations, checkpointing=None, stop_after=None):
    make, tasks, weights = ALL_LEARNERS[cls]
    seed_everything(0)
    learner = make()

    def stop(done):
        if done == stop_after:
            raise KeyboardInterrupt  # killed after this step, before its checkpoint is due

    losses = learner.fit(tasks, iterations=iterations, meta_batch_size=2, seed=1, progress=False,
                         checkpointing=checkpointing, callback=stop)  # fmt: skip
    return flat_params(getattr(learner, weights)), losses


@pytest.mark.parametrize("cls", [c for c, v in ALL_LEARNERS.items() if v], ids=lambda c: c.__name__)
def test_every_learner_resumes_where_the_uninterrupted_run_ends(cls, tmp_path):
    reference, reference_losses = fit_all(cls, 6)
    checkpointing = Checkpointing(tmp_path / "run.pt", every=2)
    with pytest.raises(KeyboardInterrupt):
        fit_all(cls, 6, checkpointing, stop_after=5)
    assert load_checkpoint(checkpointing.path)["step"] == 4
    resumed, resumed_losses = fit_all(cls, 6, checkpointing)
    assert torch.equal(resumed, reference)
    assert resumed_losses == reference_losses
    assert load_checkpoint(checkpointing.path)["step"] == 6
    assert not torch.equal(reference, fit_all(cls, 1)[0])  # training moved the weights


def test_a_learner_without_a_training_step_says_so():
    with pytest.raises(NotImplementedError, match="neither training_loss nor training_step"):
        GradientLearner(MLP(hidden=(8,))).fit(SINE, iterations=1)


def test_checkpoints_hold_only_tensors_and_plain_values(tmp_path):
    path = tmp_path / "run.pt"
    train("metasgd", 3, Checkpointing(path, every=1))
    saved = torch.load(path, weights_only=True)
    assert set(saved) == {"step", "losses", "state", "config"}
    assert set(saved["state"]) == {"model", "learning_rates", "optimizer", "tasks"}
    assert saved["config"]["learner"] == "MetaSGD"


def test_resuming_with_other_settings_is_refused(tmp_path):
    checkpointing = Checkpointing(tmp_path / "run.pt", every=2)
    train("maml", 4, checkpointing)
    seed_everything(0)
    other = MAML(MLP(hidden=(16,)), inner_lr=0.5)
    with pytest.raises(ValueError, match="was made with settings"):
        other.fit(SINE, iterations=4, meta_batch_size=4, seed=3, checkpointing=checkpointing)
    # resume=False starts afresh and overwrites
    fresh = Checkpointing(tmp_path / "run.pt", every=2, resume=False)
    other.fit(SINE, iterations=2, meta_batch_size=4, seed=3, checkpointing=fresh)
    assert load_checkpoint(fresh.path)["config"]["adapt_lr"] == 0.5


def test_a_failed_save_leaves_the_previous_checkpoint_intact(tmp_path):
    path = tmp_path / "run.pt"
    save_atomically({"step": 1}, path)
    with pytest.raises(Exception):  # noqa: B017 - whatever pickle raises for a lambda
        save_atomically({"step": 2, "bad": lambda: None}, path)
    assert load_checkpoint(path) == {"step": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pt"]  # no temporary left behind


def test_checkpoint_interval_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="every must be an integer >= 1, got 0"):
        Checkpointing(tmp_path / "x.pt", every=0)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="CUDA is not available"):
        MAML(MLP(), device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_training_runs_on_cuda_when_asked():
    seed_everything(0)
    maml = MAML(MLP(), device="cuda")
    losses = maml.fit(SINE, iterations=5, progress=False)
    assert next(maml.model.parameters()).is_cuda and len(losses) == 5
