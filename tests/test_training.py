import math

import pytest

from mtl_tutorial import MAML, MLP, SinusoidTasks, TrainingDiverged, seed_everything
from mtl_tutorial.training import run_training


def test_a_non_finite_loss_stops_training_naming_the_step_and_last_finite_loss():
    losses = iter([1.5, 1.25, math.nan, 0.5])
    with pytest.raises(TrainingDiverged, match=r"loss became nan at step 2; last finite loss: 1.25"):
        run_training(lambda _: next(losses), 4, progress=False)


def test_divergence_on_the_first_step_says_so():
    with pytest.raises(TrainingDiverged, match="step 0; last finite loss: none"):
        run_training(lambda _: math.inf, 3, progress=False)


def test_a_huge_inner_learning_rate_makes_maml_diverge_loudly():
    seed_everything(0)
    maml = MAML(MLP(), inner_lr=10.0, inner_steps=5)
    with pytest.raises(TrainingDiverged, match="maml: loss became"):
        maml.fit(SinusoidTasks(), iterations=50, progress=False)


def test_losses_are_returned_in_order():
    assert run_training(lambda i: float(i), 5, progress=False) == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_progress_bar_can_be_forced_on(capsys):
    run_training(lambda i: 1.0, 3, description="demo", progress=True)
    assert "demo" in capsys.readouterr().err


def test_progress_bar_is_quiet_when_asked(capsys):
    run_training(lambda i: 1.0, 3, description="demo", progress=False)
    assert capsys.readouterr().err == ""


def test_the_callback_sees_every_step_of_one_run():
    seen = []
    run_training(lambda i: float(i), 5, callback=seen.append)
    assert seen == [1, 2, 3, 4, 5]
