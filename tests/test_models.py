import pytest
import torch
from torch import nn
from torch.func import functional_call

from mtl_tutorial import MAML, MLP, FiLMNetwork, SinusoidTasks
from mtl_tutorial.adaptation import apply_params


def test_mlp_default_is_the_papers_1_40_40_1():
    shapes = [tuple(p.shape) for p in MLP().parameters()]
    assert shapes == [(40, 1), (40,), (40, 40), (40,), (1, 40), (1,)]


def test_hand_written_forward_equals_functional_call():
    torch.manual_seed(0)
    model = MLP(3, (7, 5), 2)
    params = {k: torch.randn_like(v) for k, v in model.named_parameters()}
    x = torch.randn(4, 3)
    torch.testing.assert_close(model.functional_forward(params, x), functional_call(model, params, (x,)))
    torch.testing.assert_close(apply_params(model, dict(model.named_parameters()), x), model(x))


def test_a_model_without_a_hand_written_forward_gives_the_same_meta_loss():
    """MAML is model-agnostic: an nn.Sequential (applied via functional_call) gives the same result."""
    torch.manual_seed(0)
    mlp = MLP()
    sequential = nn.Sequential(*mlp.net)  # the same layers, no functional_forward
    episode = SinusoidTasks().sample(4, seed=0)
    torch.testing.assert_close(MAML(sequential).meta_loss(episode), MAML(mlp).meta_loss(episode))


def test_film_network_arguments():
    with pytest.raises(ValueError, match="encoder_hidden must list at least one width"):
        FiLMNetwork(encoder_hidden=())
    with pytest.raises(ValueError, match="num_classes must be an integer >= 2, got 1"):
        FiLMNetwork(num_classes=1)


def test_conv4_pools_before_its_relu_with_the_literatures_values_and_gradients():
    """Conv-4 pools, then applies the ReLU (cheaper); the literature's ReLU-then-pool block
    gives bit-for-bit the same outputs and the same gradients."""
    import torch.nn.functional as F

    from mtl_tutorial.models import Conv4

    torch.manual_seed(0)
    ours = Conv4(num_classes=5)
    literature = Conv4(num_classes=5)
    literature.load_state_dict(ours.state_dict())
    for block in literature.features[:4]:
        block[2], block[3] = block[3], block[2]
    assert isinstance(ours.features[0][2], nn.MaxPool2d) and isinstance(literature.features[0][2], nn.ReLU)
    x, y = torch.randn(12, 1, 28, 28), torch.randint(0, 5, (12,))
    for model in (ours, literature):
        F.cross_entropy(model(x), y).backward()
    assert torch.equal(ours(x), literature(x))
    for a, b in zip(ours.parameters(), literature.parameters(), strict=True):
        assert torch.equal(a.grad, b.grad)
