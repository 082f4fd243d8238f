import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from mtl_tutorial import MLP, FineTuning, SinusoidTasks  # noqa: E402
from mtl_tutorial.plotting import color_of, plot_sinusoid_fits, use_book_style  # noqa: E402


def test_one_panel_per_learner_with_the_true_curve_and_one_fit_per_step_count():
    use_book_style()
    torch.manual_seed(0)
    tasks = SinusoidTasks(support_size=5)
    learners = {"from scratch": FineTuning(MLP()), "MAML": FineTuning(MLP())}
    fig = plot_sinusoid_fits(tasks, tasks.sample(2, seed=0), learners, steps=(1, 5, 10))
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["from scratch", "MAML"]
    for ax in axes:
        assert len(ax.lines) == 1 + 3  # true function + one fit per step count
        assert len(ax.collections) == 1  # the support points
    assert axes[1].lines[1].get_color() == color_of("MAML")
    plt.close(fig)


def test_no_learners_is_an_error():
    tasks = SinusoidTasks()
    with pytest.raises(ValueError, match="at least one learner"):
        plot_sinusoid_fits(tasks, tasks.sample(1, seed=0), {})
