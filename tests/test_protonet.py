import pytest
import torch
from torch import nn

from mtl_tutorial import MLP, GaussianClusterTasks, ProtoNet, SinusoidTasks, query_accuracy, seed_everything


def test_logits_are_a_linear_layer_on_the_embedding_up_to_a_per_query_constant():
    seed_everything(0)
    protonet = ProtoNet(MLP(6, (16,), 4).double())
    episode = GaussianClusterTasks(num_ways=3, shots=2, dim=6).sample(2, seed=0)
    episode = type(episode)(
        episode.support_x.double(), episode.support_y, episode.query_x.double(), episode.query_y, num_ways=3
    )
    prototypes = protonet.adapt(episode)
    logits = protonet.predict(prototypes, episode.query_x)
    with torch.no_grad():
        embedding = protonet.embed(episode.query_x)
        weights, biases = 2 * prototypes, -(prototypes**2).sum(-1)
        linear = embedding @ weights.transpose(1, 2) + biases.unsqueeze(1)
        per_query = logits - linear  # should be −‖f(x)‖², the same for every class
    torch.testing.assert_close(per_query, per_query[..., :1].expand_as(per_query))
    torch.testing.assert_close(per_query[..., 0], -(embedding**2).sum(-1))


def test_prototypes_are_class_means():
    protonet = ProtoNet(nn.Identity())
    episode = GaussianClusterTasks(num_ways=3, shots=4, dim=2).sample(1, seed=1)
    prototypes = protonet.adapt(episode)
    for k in range(3):
        torch.testing.assert_close(prototypes[0, k], episode.support_x[0][episode.support_y[0] == k].mean(0))


def test_well_separated_clusters_are_classified_perfectly():
    protonet = ProtoNet(nn.Identity())
    tasks = GaussianClusterTasks(num_ways=5, shots=1, dim=16, center_std=10.0, noise_std=0.1)
    accuracy = query_accuracy(protonet, tasks.sample(50, seed=2))
    assert accuracy.min().item() == 1.0


def test_training_with_more_ways_than_testing_improves_accuracy():
    seed_everything(0)
    # noise in most dimensions: the encoder must learn which dimensions carry the class
    protonet = ProtoNet(MLP(16, (32,), 16), lr=3e-3)
    train = GaussianClusterTasks(num_ways=10, shots=1, queries=5, dim=16, noise_std=1.0)
    test = GaussianClusterTasks(num_ways=5, shots=1, queries=15, dim=16, noise_std=1.0).sample(200, seed=3)
    before = query_accuracy(protonet, test).mean()
    protonet.fit(train, iterations=200, meta_batch_size=4, progress=False)
    after = query_accuracy(protonet, test).mean()
    assert after > before + 0.03


def test_regression_episodes_are_refused():
    with pytest.raises(ValueError, match="classify"):
        ProtoNet(nn.Identity()).adapt(SinusoidTasks().sample(1, seed=0))
