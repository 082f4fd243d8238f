"""Bad arguments at the public surface raise ValueError naming the argument, value and range."""

import pytest
import torch

from mtl_tutorial import MAML, MLP, Episode, FineTuning, SinusoidTasks, mean_ci, query_mse


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        ({"support_size": 0}, ["support_size", ">= 1", "0"]),
        ({"support_size": -3}, ["support_size", ">= 1", "-3"]),
        ({"query_size": 0}, ["query_size", ">= 1", "0"]),
        ({"support_size": 2.5}, ["support_size", "integer", "2.5"]),
        ({"amplitude_range": (5.0, 0.1)}, ["amplitude_range", "low < high", "(5.0, 0.1)"]),
        ({"amplitude_range": (-1.0, 2.0)}, ["amplitude_range", "low >= 0", "(-1.0, 2.0)"]),
        ({"phase_range": (1.0, 1.0)}, ["phase_range", "low < high", "(1.0, 1.0)"]),
        ({"x_range": (5,)}, ["x_range", "pair", "(5,)"]),
        ({"noise_std": -0.1}, ["noise_std", ">= 0", "-0.1"]),
    ],
)
def test_sinusoid_arguments(kwargs, fragments):
    with pytest.raises(ValueError) as error:
        SinusoidTasks(**kwargs)
    for fragment in fragments:
        assert fragment in str(error.value)


def test_sample_size_and_seed_arguments():
    with pytest.raises(ValueError, match=r"num_tasks must be an integer >= 1, got 0"):
        SinusoidTasks().sample(0)
    with pytest.raises(ValueError, match="either seed or generator"):
        SinusoidTasks().sample(2, seed=1, generator=torch.Generator())


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        ({"inner_lr": -0.01}, ["inner_lr", "> 0", "-0.01"]),
        ({"inner_lr": 0.0}, ["inner_lr", "> 0", "0.0"]),
        ({"inner_lr": float("nan")}, ["inner_lr", "finite", "nan"]),
        ({"outer_lr": -1e-3}, ["outer_lr", "> 0", "-0.001"]),
        ({"inner_steps": -1}, ["inner_steps", ">= 0", "-1"]),
        ({"adapt_steps": -2}, ["adapt_steps", ">= 0", "-2"]),
    ],
)
def test_maml_arguments(kwargs, fragments):
    with pytest.raises(ValueError) as error:
        MAML(MLP(), **kwargs)
    for fragment in fragments:
        assert fragment in str(error.value)


def test_fit_and_adapt_arguments():
    maml = MAML(MLP())
    tasks = SinusoidTasks()
    with pytest.raises(ValueError, match="iterations must be an integer >= 1, got 0"):
        maml.fit(tasks, iterations=0)
    with pytest.raises(ValueError, match="meta_batch_size must be an integer >= 1, got 0"):
        maml.fit(tasks, iterations=1, meta_batch_size=0)
    with pytest.raises(ValueError, match="steps must be an integer >= 0, got -1"):
        maml.adapt(tasks.sample(2, seed=0), steps=-1)
    with pytest.raises(ValueError, match="adapt_lr must be a finite number > 0, got -0.5"):
        FineTuning(MLP(), adapt_lr=-0.5)
    with pytest.raises(ValueError, match="pretrain_lr"):
        FineTuning(MLP(), pretrain_lr=0)
    with pytest.raises(ValueError, match="model must be a torch.nn.Module"):
        FineTuning("not a model")
    with pytest.raises(ValueError, match="at least one"):
        query_mse(maml, tasks.sample(2, seed=0), steps=())


def test_model_and_statistics_arguments():
    with pytest.raises(ValueError, match=r"hidden\[1\] must be an integer >= 1, got 0"):
        MLP(hidden=(40, 0))
    with pytest.raises(ValueError, match="last dimension is 1"):
        MLP()(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="at least 2 entries"):
        mean_ci(torch.tensor([1.0]))
    with pytest.raises(ValueError, match="finite"):
        mean_ci(torch.tensor([1.0, float("nan")]))


def test_regression_targets_without_an_output_dimension_are_refused():
    # F.mse_loss would broadcast (points,) targets against (points, 1) predictions: a wrong loss
    tasks = SinusoidTasks(support_size=10, query_size=10).sample(2, seed=0)
    with pytest.raises(ValueError, match=r"shape \(tasks, points, outputs\), got support_y \(2, 10\)"):
        Episode(tasks.support_x, tasks.support_y.squeeze(-1), tasks.query_x, tasks.query_y.squeeze(-1))
