"""What every learner shares: one interface, the normalisation policy, and checked inputs."""

import pytest
import torch
from torch import nn

from mtl_tutorial import (
    ANIL,
    MAML,
    MLP,
    Episode,
    FiLMNetwork,
    FineTuning,
    GaussianClusterTasks,
    MetaSGD,
    ProtoNet,
    Reptile,
    SinusoidTasks,
    TaskConditioned,
    query_accuracy,
    seed_everything,
)
from mtl_tutorial.transfer import RidgeProbe

REGRESSORS = {
    "maml": lambda: MAML(MLP()),
    "fomaml": lambda: MAML(MLP(), first_order=True),
    "metasgd": lambda: MetaSGD(MLP()),
    "anil": lambda: ANIL(MLP()),
    "reptile": lambda: Reptile(MLP()),
    "pretrained": lambda: FineTuning(MLP()),
    "film": lambda: TaskConditioned(FiLMNetwork()),
}
CLASSIFIERS = {
    "maml": lambda: MAML(MLP(4, (8,), 3)),
    "anil": lambda: ANIL(MLP(4, (8,), 3)),
    "protonet": lambda: ProtoNet(MLP(4, (8,), 8)),
    "reptile": lambda: Reptile(MLP(4, (8,), 3)),
    "film": lambda: TaskConditioned(FiLMNetwork(4, 3, (8,), encoder_hidden=(8,), num_classes=3)),
}


def query_independence(learner, episode):
    """Prediction for query 0, then again after every other query is replaced by noise."""
    adapted = learner.adapt(episode, steps=2)
    alone = learner.predict(adapted, episode.query_x)[:, 0]
    others = episode.query_x.clone()
    others[:, 1:] = 10 * torch.randn_like(others[:, 1:])
    together = learner.predict(adapted, others)[:, 0]
    return alone, together


@pytest.mark.parametrize("name", sorted(REGRESSORS))
def test_a_query_prediction_ignores_the_other_queries_regression(name):
    seed_everything(0)
    alone, together = query_independence(REGRESSORS[name](), SinusoidTasks().sample(3, seed=0))
    torch.testing.assert_close(alone, together)


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_a_query_prediction_ignores_the_other_queries_classification(name):
    seed_everything(0)
    alone, together = query_independence(
        CLASSIFIERS[name](), GaussianClusterTasks(3, dim=4).sample(3, seed=0)
    )
    torch.testing.assert_close(alone, together)


def test_batch_norm_is_refused_with_the_reason():
    model = nn.Sequential(nn.Linear(1, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1))
    for make in (MAML, ProtoNet, FineTuning, Reptile):
        with pytest.raises(ValueError, match="BatchNorm1d: batch statistics would let one query"):
            make(model)


def test_every_learner_answers_the_same_three_questions():
    episode = SinusoidTasks(support_size=5, query_size=7).sample(2, seed=0)
    for name, make in REGRESSORS.items():
        learner = make()
        learner.fit(SinusoidTasks(), iterations=2, meta_batch_size=2, progress=False)
        prediction = learner.predict(learner.adapt(episode), episode.query_x)
        assert prediction.shape == (2, 7, 1), name


def test_every_classifier_trains_on_classification_episodes():
    episode = GaussianClusterTasks(3, dim=4).sample(2, seed=1)
    for name, make in CLASSIFIERS.items():
        learner = make()
        losses = learner.fit(GaussianClusterTasks(3, dim=4), iterations=3, meta_batch_size=2, progress=False)
        assert len(losses) == 3, name
        accuracy = query_accuracy(learner, episode)
        assert accuracy.shape == (1, 2) and ((accuracy >= 0) & (accuracy <= 1)).all(), name


def test_a_model_with_the_wrong_number_of_outputs_is_refused():
    five_way = MAML(MLP(4, (8,), 5))
    three_way = GaussianClusterTasks(num_ways=3, dim=4).sample(2, seed=0)
    with pytest.raises(ValueError, match="gives 5 logits per example but the episode is 3-way"):
        five_way.meta_loss(three_way)
    with pytest.raises(ValueError, match="gives 5 logits per example but the episode is 3-way"):
        query_accuracy(five_way, three_way, steps=(1,))


def test_episode_inputs_are_checked():
    x, y = torch.zeros(2, 5, 4), torch.zeros(2, 5, dtype=torch.long)
    with pytest.raises(ValueError, match=r"same shape per point, got \(4,\) and \(3,\)"):
        Episode(x, y, torch.zeros(2, 5, 3), y, num_ways=2)
    with pytest.raises(ValueError, match="support_x is empty"):
        Episode(torch.zeros(2, 0, 4), torch.zeros(2, 0, dtype=torch.long), x, y, num_ways=2)
    with pytest.raises(ValueError, match="labels in 0 … 2 for a 3-way episode, got labels from 0 to 3"):
        Episode(x, torch.tensor([[0, 1, 2, 3, 0]] * 2), x, y, num_ways=3)
    with pytest.raises(ValueError, match="labels in 0 … 2 for a 3-way episode, got labels from -1 to 0"):
        Episode(x, y, x, torch.tensor([[0, -1, 0, 0, 0]] * 2), num_ways=3)
    with pytest.raises(ValueError, match="integer class labels"):
        Episode(x, y.float(), x, y.float(), num_ways=3)
    with pytest.raises(ValueError, match="same number of tasks"):
        Episode(x, y, x[:1], y[:1], num_ways=2)


def test_a_class_missing_from_the_support_set_is_refused():
    x = torch.zeros(1, 2, 4)
    episode = Episode(x, torch.tensor([[0, 0]]), x, torch.tensor([[0, 1]]), num_ways=2)
    with pytest.raises(ValueError, match="every one of the 2 classes needs at least one support example"):
        ProtoNet(nn.Identity()).adapt(episode)


def test_cluster_task_arguments():
    with pytest.raises(ValueError, match="num_ways must be an integer >= 2, got 1"):
        GaussianClusterTasks(num_ways=1)
    with pytest.raises(ValueError, match="shots must be an integer >= 1, got 0"):
        GaussianClusterTasks(shots=0)
    episode = GaussianClusterTasks(num_ways=4, shots=3, queries=2, dim=5).sample(6, seed=0)
    assert episode.support_x.shape == (6, 12, 5) and episode.query_y.shape == (6, 8)
    assert (torch.bincount(episode.support_y[0], minlength=4) == 3).all()


def test_each_learner_counts_the_numbers_its_adaptation_trains():
    episode = SinusoidTasks().sample(2, seed=0)
    for learner in (MAML(MLP()), ANIL(MLP()), MetaSGD(MLP()), Reptile(MLP()), FineTuning(MLP())):
        start = learner.initial_params()
        adapted = learner.adapt(episode, steps=1)
        changed = sum(v[0].numel() for k, v in adapted.items() if not torch.equal(v[0], start[k]))
        assert learner.adapted_parameters() == changed > 0, learner.name
    probe = RidgeProbe(MLP())
    assert probe.adapted_parameters() == probe.adapt(episode)[0].numel() == 41
    assert ProtoNet(MLP(4, (8,), 8)).adapted_parameters() == 0
