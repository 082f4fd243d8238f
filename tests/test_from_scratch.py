"""The plain-PyTorch MAML and ProtoNet of chapter 3 compute what the package's learners compute:
the same meta-gradient, the same predictions, and, trained on the same tasks, the same weights."""

import copy

import pytest
import torch

from mtl_tutorial import MAML, MLP, GaussianClusterTasks, ProtoNet, SinusoidTasks
from mtl_tutorial.from_scratch import maml_adapt, maml_meta_loss, protonet_logits, protonet_loss, train


@pytest.fixture(autouse=True)
def double_precision():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # "equal" below means to rounding error
    yield
    torch.set_default_dtype(previous)


def tensors(episode):
    return episode.support_x, episode.support_y, episode.query_x, episode.query_y


def relative_error(a, b):
    return ((a - b).norm() / b.norm()).item()


def flat_grads(model):
    return torch.cat([p.grad.reshape(-1) for p in model.parameters()])


def flat_weights(model):
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


@pytest.mark.parametrize("inner_steps", [1, 3])
def test_maml_from_scratch_has_the_packages_second_order_meta_gradient(inner_steps):
    torch.manual_seed(0)
    model = MLP()
    tasks = SinusoidTasks(support_size=10, query_size=10).sample(4, seed=1)
    maml_meta_loss(model, *tensors(tasks), inner_lr=0.01, inner_steps=inner_steps).backward()
    by_hand = flat_grads(model)
    model.zero_grad()
    MAML(model, inner_lr=0.01, inner_steps=inner_steps).meta_loss(tasks).backward()
    assert relative_error(by_hand, flat_grads(model)) < 1e-10
    model.zero_grad()  # and it is second order: first-order MAML's gradient differs from it
    MAML(model, inner_lr=0.01, inner_steps=inner_steps, first_order=True).meta_loss(tasks).backward()
    assert relative_error(flat_grads(model), by_hand) > 1e-3


def test_maml_from_scratch_trains_to_the_packages_weights_and_predictions():
    torch.manual_seed(0)
    model = MLP()
    by_hand = copy.deepcopy(model)
    source = SinusoidTasks()
    maml = MAML(model, inner_lr=0.01, inner_steps=1, adapt_steps=5)
    maml.fit(source, iterations=15, meta_batch_size=5, seed=3, progress=False)
    generator = torch.Generator().manual_seed(3)  # the batches fit draws with seed=3
    batches = [tensors(source.sample(5, generator=generator)) for _ in range(15)]
    losses = train(by_hand.parameters(), lambda *b: maml_meta_loss(by_hand, *b, inner_lr=0.01, inner_steps=1),
                   batches)  # fmt: skip
    assert losses == pytest.approx(maml.losses, rel=1e-9)
    assert relative_error(flat_weights(by_hand), flat_weights(model)) < 1e-9
    test = SinusoidTasks(support_size=10, query_size=20).sample(3, seed=2017)
    expected = maml.predict(maml.adapt(test, steps=5), test.query_x)
    for t in range(len(test)):
        fast = maml_adapt(by_hand, test.support_x[t], test.support_y[t], inner_lr=0.01, steps=5)
        predicted = torch.func.functional_call(by_hand, fast, (test.query_x[t],))
        assert relative_error(predicted, expected[t]) < 1e-9


def test_protonet_from_scratch_has_the_packages_predictions_and_training():
    torch.manual_seed(0)
    encoder = MLP(16, (32,), 8)
    by_hand = copy.deepcopy(encoder)
    source = GaussianClusterTasks(num_ways=5, shots=3, queries=4, dim=16)
    tasks = source.sample(3, seed=7)
    protonet = ProtoNet(encoder)
    expected = protonet.predict(protonet.adapt(tasks), tasks.query_x)
    logits = protonet_logits(by_hand, tasks.support_x, tasks.support_y, tasks.query_x, ways=5)
    assert relative_error(logits, expected) < 1e-12
    protonet.fit(source, iterations=15, meta_batch_size=4, seed=5, progress=False)
    generator = torch.Generator().manual_seed(5)
    batches = [tensors(source.sample(4, generator=generator)) for _ in range(15)]
    losses = train(by_hand.parameters(), lambda *b: protonet_loss(by_hand, *b, ways=5), batches)
    assert losses == pytest.approx(protonet.losses, rel=1e-9)
    assert relative_error(flat_weights(by_hand), flat_weights(encoder)) < 1e-9
    assert losses[-1] < losses[0]  # and it learned
