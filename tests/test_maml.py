"""MAML's meta-gradient checked against finite differences and the Hessian term it contains."""

import pytest
import torch
from torch.func import functional_call, grad

from mtl_tutorial import MAML, MLP, SinusoidTasks, seed_everything
from mtl_tutorial.adaptation import mse_loss, sgd_adapt


def tiny_maml(inner_steps: int, first_order: bool = False) -> MAML:
    torch.manual_seed(0)
    model = MLP(hidden=(4,)).double()
    return MAML(model, inner_lr=0.1, inner_steps=inner_steps, first_order=first_order)


def tiny_episode(num_tasks: int = 3):
    episode = SinusoidTasks(support_size=4, query_size=5).sample(num_tasks, seed=11)
    return type(episode)(
        episode.support_x.double(),
        episode.support_y.double(),
        episode.query_x.double(),
        episode.query_y.double(),
    )


def autograd_meta_gradient(maml: MAML, episode) -> torch.Tensor:
    maml.model.zero_grad()
    maml.meta_loss(episode).backward()
    return torch.cat([p.grad.flatten() for p in maml.model.parameters()])


def finite_difference_meta_gradient(maml: MAML, episode, eps: float = 1e-6) -> torch.Tensor:
    estimates = []
    with torch.no_grad():
        for p in maml.model.parameters():
            flat = p.view(-1)
            for i in range(flat.numel()):
                original = flat[i].item()
                flat[i] = original + eps
                up = maml.meta_loss(episode).item()
                flat[i] = original - eps
                down = maml.meta_loss(episode).item()
                flat[i] = original
                estimates.append((up - down) / (2 * eps))
    return torch.tensor(estimates, dtype=torch.float64)


@pytest.mark.parametrize("inner_steps", [1, 3])
def test_second_order_meta_gradient_matches_finite_differences(inner_steps):
    maml, episode = tiny_maml(inner_steps), tiny_episode()
    analytic = autograd_meta_gradient(maml, episode)
    numeric = finite_difference_meta_gradient(maml, episode)
    assert analytic.abs().max() > 1e-3  # a gradient worth checking
    torch.testing.assert_close(analytic, numeric, rtol=1e-6, atol=1e-7)


def tiny_multi_step_maml(weights) -> MAML:
    torch.manual_seed(0)  # the same initial weights as tiny_maml's
    model = MLP(hidden=(4,)).double()
    return MAML(model, inner_lr=0.1, inner_steps=3, multi_step_loss=weights)


@pytest.mark.parametrize("weights", [True, (2.0, 0.0, 1.0)])
def test_the_multi_step_loss_weighs_the_query_losses_after_each_step(weights):
    episode = tiny_episode()
    multi = tiny_multi_step_maml(weights)
    each = torch.stack([tiny_maml(k).meta_loss(episode) for k in (1, 2, 3)])
    expected = torch.ones(3) / 3 if weights is True else torch.tensor(weights) / sum(weights)
    torch.testing.assert_close(multi.meta_loss(episode), (each * expected.double()).sum())
    # and its meta-gradient is that loss's true gradient, through every step
    analytic = autograd_meta_gradient(multi, episode)
    numeric = finite_difference_meta_gradient(multi, episode)
    torch.testing.assert_close(analytic, numeric, rtol=1e-6, atol=1e-7)
    assert multi.config()["multi_step_loss"] == (True if weights is True else [2 / 3, 0.0, 1 / 3])


def test_equal_weights_are_the_plain_multi_step_loss_and_one_step_is_plain_maml():
    episode = tiny_episode()
    torch.testing.assert_close(
        tiny_multi_step_maml((1, 1, 1)).meta_loss(episode), tiny_multi_step_maml(True).meta_loss(episode)
    )
    assert MAML(MLP(), inner_steps=1, multi_step_loss=True).config().get("multi_step_loss") is None


@pytest.mark.parametrize("weights", [(1.0, 1.0), (1.0, -1.0, 1.0), (0.0, 0.0, 0.0), (1.0, 1.0, 0.0)])
def test_bad_step_weights_are_refused(weights):
    with pytest.raises(ValueError, match="weight"):
        MAML(MLP(), inner_steps=3, multi_step_loss=weights)


@pytest.mark.parametrize("inner_steps", [1, 3])
def test_first_order_meta_gradient_does_not_match_finite_differences(inner_steps):
    maml, episode = tiny_maml(inner_steps, first_order=True), tiny_episode()
    first_order = autograd_meta_gradient(maml, episode)
    numeric = finite_difference_meta_gradient(maml, episode)
    assert (first_order - numeric).abs().max() > 1e-4


def test_first_order_differs_by_exactly_the_hessian_term():
    """One inner step: ∇θ L_q(θ - α∇L_s(θ)) = (I - α H_s(θ)) g,  g = ∇L_q at the adapted φ."""
    episode = tiny_episode(num_tasks=1)
    second = autograd_meta_gradient(tiny_maml(1), episode)
    first = autograd_meta_gradient(tiny_maml(1, first_order=True), episode)

    maml = tiny_maml(1)
    theta = {k: v.detach() for k, v in maml.model.named_parameters()}
    sx, sy, qx, qy = (t[0] for t in (episode.support_x, episode.support_y, episode.query_x, episode.query_y))

    def support_loss(p):
        return mse_loss(functional_call(maml.model, p, (sx,)), sy)

    def query_loss(p):
        return mse_loss(functional_call(maml.model, p, (qx,)), qy)

    phi = sgd_adapt(maml.model, theta, sx, sy, steps=1, lr=maml.inner_lr)
    g = grad(query_loss)(phi)

    def gradient_dot_g(p):  # its gradient is H_s(θ) g (reverse over reverse)
        grads = grad(support_loss)(p)
        return sum((grads[k] * g[k]).sum() for k in grads)

    hessian_times_g = grad(gradient_dot_g)(theta)
    hessian_term = torch.cat([hessian_times_g[k].flatten() for k in theta])

    torch.testing.assert_close(second - first, -maml.inner_lr * hessian_term, rtol=1e-8, atol=1e-10)
    assert hessian_term.abs().max() > 1e-3  # the dropped term is not negligible here
    # and the first-order meta-gradient is the query gradient at the adapted parameters
    torch.testing.assert_close(first, torch.cat([g[k].flatten() for k in theta]))


def test_vmapped_meta_loss_equals_a_loop_over_tasks():
    maml, episode = tiny_maml(2), tiny_episode(num_tasks=4)
    per_task = [maml.meta_loss(episode[i]) for i in range(4)]
    torch.testing.assert_close(maml.meta_loss(episode), torch.stack(per_task).mean())


def test_zero_adaptation_steps_returns_the_initialisation():
    maml, episode = tiny_maml(1), tiny_episode(num_tasks=2)
    adapted = maml.adapt(episode, steps=0)
    for name, p in maml.model.named_parameters():
        assert torch.equal(adapted[name][1], p)


def test_the_same_seed_gives_identical_training_twice():
    def train():
        seed_everything(3)
        maml = MAML(MLP(hidden=(16, 16)))
        losses = maml.fit(SinusoidTasks(), iterations=20, meta_batch_size=4, seed=5)
        return losses, torch.cat([p.detach().flatten() for p in maml.model.parameters()])

    (losses_a, params_a), (losses_b, params_b) = train(), train()
    assert losses_a == losses_b
    assert torch.equal(params_a, params_b)


def test_maml_learns_an_initialisation_that_adapts():
    """A short meta-training run lowers the post-adaptation loss on held-out tasks."""
    seed_everything(0)
    maml = MAML(MLP())
    test = SinusoidTasks(support_size=10, query_size=50).sample(100, seed=123)
    before = maml.meta_loss(test).item()
    maml.fit(SinusoidTasks(), iterations=400, seed=0)
    after = maml.meta_loss(test).item()
    assert after < 0.6 * before
