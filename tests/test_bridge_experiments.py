"""The experiments of the Proto-MAML and in-context parts: what they return and what they refuse."""

import pytest
import torch

from mtl_tutorial.experiments.in_context import in_context_by_support_size
from mtl_tutorial.experiments.proto_maml import proto_maml_steps


def test_in_context_scores_every_support_size_on_the_same_tasks():
    scores = in_context_by_support_size(min_support=1, shots=[2, 5], iterations=3, tasks=6)
    assert sorted(scores) == [2, 5]
    assert all(s.shape == (6,) and torch.isfinite(s).all() for s in scores.values())
    again = in_context_by_support_size(min_support=1, shots=[2, 5], iterations=3, tasks=6)
    assert all(torch.equal(scores[k], again[k]) for k in scores)  # seeded: the same result
    with pytest.raises(ValueError, match="shots"):
        in_context_by_support_size(min_support=None, shots=[0])


@pytest.mark.slow
def test_proto_maml_without_steps_scores_as_the_protonet_on_every_episode():
    result = proto_maml_steps(shots=[1], steps=[0, 1], episodes=4, queries=2)
    scores = result["accuracy"][1]
    assert torch.equal(torch.as_tensor(scores[0]), torch.as_tensor(scores["protonet"]))
    assert result["support_loss"][1] >= 0 and result["start_gradient"][1] >= 0
    with pytest.raises(ValueError, match="inner_lr"):
        proto_maml_steps(inner_lr=0.0)
