import pytest
import torch
from torch import nn
from torch.func import functional_call, hessian

from mtl_tutorial import MLP, Episode, SinusoidTasks
from mtl_tutorial.adaptation import sgd_adapt
from mtl_tutorial.evaluation.sharpness import support_sharpness


def regression_episode(tasks=4, points=6, features=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(tasks, points, features, generator=g)
    y = torch.randn(tasks, points, 1, generator=g)
    return Episode(x, y, x[:, :1], y[:, :1])


def test_linear_regression_sharpness_is_the_top_eigenvalue_of_its_exact_hessian():
    # the support MSE of a linear model has Hessian (2 / n) A^T A, with A = [X, 1]
    episode = regression_episode()
    model = nn.Linear(3, 1)
    sharpness = support_sharpness(model, episode, iterations=300)
    design = torch.cat([episode.support_x, torch.ones(4, 6, 1)], dim=2)
    exact = torch.linalg.eigvalsh(2 / 6 * design.mT @ design)[:, -1]
    torch.testing.assert_close(sharpness, exact, rtol=1e-4, atol=1e-6)


def test_mlp_sharpness_matches_the_full_hessian():
    torch.manual_seed(0)
    model = MLP(hidden=(8, 8))
    episode = SinusoidTasks(support_size=5).sample(3, seed=1)
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for _, p in model.named_parameters()]
    flat = torch.cat([p.detach().flatten() for p in model.parameters()])

    def loss(theta, x, y):
        params, start = {}, 0
        for name, shape in zip(names, shapes, strict=True):
            params[name] = theta[start : start + shape.numel()].view(shape)
            start += shape.numel()
        return torch.nn.functional.mse_loss(functional_call(model, params, (x,)), y)

    exact = torch.stack([
        torch.linalg.eigvalsh(hessian(loss)(flat, x, y))[-1]
        for x, y in zip(episode.support_x, episode.support_y, strict=True)
    ])  # fmt: skip
    torch.testing.assert_close(support_sharpness(model, episode, iterations=500), exact, rtol=1e-3, atol=1e-5)


def test_a_dominant_negative_eigenvalue_does_not_hide_the_largest_one():
    # Hessian +2/n X^T X on the first output's weights, -6/n X^T X on the second's: the eigenvalue
    # of largest magnitude is negative; the stability limit is set by the largest, positive, one
    episode = regression_episode(tasks=3, features=2)
    model = nn.Linear(2, 2, bias=False)

    def loss_fn(prediction, target):
        return (prediction[:, 0] ** 2).mean() - 3 * (prediction[:, 1] ** 2).mean()

    x = episode.support_x
    top = torch.linalg.eigvalsh(2 / 6 * x.mT @ x)[:, -1]
    sharpness = support_sharpness(model, episode, iterations=300, loss_fn=loss_fn)
    torch.testing.assert_close(sharpness, top, rtol=1e-4, atol=1e-6)


def test_gradient_descent_diverges_just_above_two_over_the_sharpness():
    # the measured sharpness is the stability limit of the inner loop: on a quadratic, steps of
    # 1.9 / lambda converge and steps of 2.1 / lambda blow up
    episode = regression_episode(tasks=1)
    model = nn.Linear(3, 1)
    limit = 2 / support_sharpness(model, episode, iterations=300).item()
    params = dict(model.named_parameters())
    x, y = episode.support_x[0], episode.support_y[0]
    final = {}
    for factor in (0.95, 1.05):
        adapted = sgd_adapt(model, params, x, y, steps=300, lr=factor * limit, first_order=True)
        final[factor] = torch.nn.functional.mse_loss(functional_call(model, adapted, (x,)), y).item()
    start = torch.nn.functional.mse_loss(model(x), y).item()
    assert final[0.95] < start < 1e3 * start < final[1.05]


def test_the_hessian_of_the_adapted_parameters_alone():
    # only the bias adapted: its Hessian is the 1 x 1 matrix 2 (the MSE's second derivative)
    sharpness = support_sharpness(nn.Linear(3, 1), regression_episode(), adapted=["bias"], iterations=5)
    torch.testing.assert_close(sharpness, torch.full((4,), 2.0))


def test_per_task_parameters_give_each_task_the_sharpness_at_its_own_parameters():
    # each task at its own point: the same as measuring that task alone at that point
    torch.manual_seed(0)
    model = MLP(hidden=(8,))
    episode = SinusoidTasks(support_size=5).sample(3, seed=2)
    shifted = [{n: p.detach() + 0.3 * t for n, p in model.named_parameters()} for t in range(3)]
    stacked = {n: torch.stack([s[n] for s in shifted]) for n in shifted[0]}
    together = support_sharpness(model, episode, params=stacked, per_task=True, iterations=200)
    alone = torch.cat([support_sharpness(model, episode[t : t + 1], params=shifted[t], iterations=200)
                       for t in range(3)])  # fmt: skip
    torch.testing.assert_close(together, alone, rtol=1e-4, atol=1e-5)
    assert together.unique().numel() == 3  # the points differ, and so do the sharpnesses
    # ANIL-style: only the head adapted, the body held at each task's own copy
    head = ["net.2.weight", "net.2.bias"]
    together = support_sharpness(model, episode, params=stacked, per_task=True, adapted=head, iterations=200)
    alone = torch.cat([support_sharpness(model, episode[t : t + 1], params=shifted[t], adapted=head,
                                         iterations=200) for t in range(3)])  # fmt: skip
    torch.testing.assert_close(together, alone, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="leading dimension of 3 tasks"):
        support_sharpness(model, episode, params=dict(model.named_parameters()), per_task=True)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="iterations"):
        support_sharpness(nn.Linear(3, 1), regression_episode(), iterations=0)
    with pytest.raises(ValueError, match="must be an Episode"):
        support_sharpness(nn.Linear(3, 1), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="adapted must name parameters"):
        support_sharpness(nn.Linear(3, 1), regression_episode(), adapted=["head"])


def test_trace_rows_count_blow_ups_and_never_report_an_infinite_median_as_a_number():
    from mtl_tutorial.experiments.sharpness import SharpnessTrace

    inf = float("inf")
    mse = torch.tensor([[[0.5, inf, inf, inf]]])  # one checkpoint, one step count, four tasks
    trace = SharpnessTrace([0], torch.tensor([[150.0, 250.0, 300.0, 100.0]]), mse,
                           torch.ones(1, 4), (10,), 0.01)  # fmt: skip
    (row,) = trace.rows()
    assert row["tasks_above_limit"] == 2 and row["diverged_10"] == 3 and row["mse_median_10"] is None
