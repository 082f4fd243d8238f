import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from mtl_tutorial import MLP, FineTuning, MeanCI, SinusoidTasks  # noqa: E402
from mtl_tutorial.evaluation import fits_after_steps  # noqa: E402
from mtl_tutorial.plotting import (  # noqa: E402
    color_of,
    plot_accuracy_bars,
    plot_sinusoid_fits,
    use_book_style,
)


def test_one_panel_per_learner_with_the_true_curve_and_one_fit_per_step_count():
    use_book_style()
    torch.manual_seed(0)
    tasks = SinusoidTasks(support_size=5)
    task = tasks.sample(2, seed=0)[0]
    x, y = tasks.curve(task)
    learners = {"from scratch": FineTuning(MLP()), "MAML": FineTuning(MLP())}
    fits = fits_after_steps(learners, task, x, steps=(1, 5, 10))
    assert fits["MAML"][5].shape == x.shape
    fig = plot_sinusoid_fits(task, (x, y[0]), fits)
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["from scratch", "MAML"]
    for ax in axes:
        assert len(ax.lines) == 1 + 3  # true function + one fit per step count
        assert len(ax.collections) == 1  # the support points
    assert axes[1].lines[1].get_color() == color_of("MAML")
    assert torch.equal(torch.as_tensor(axes[1].lines[3].get_ydata()), fits["MAML"][10])  # draws what it got
    plt.close(fig)


def test_fits_need_one_task_and_plots_need_fits_of_the_curves_shape():
    tasks = SinusoidTasks()
    episode = tasks.sample(2, seed=0)
    x, y = tasks.curve(episode)
    with pytest.raises(ValueError, match="task must hold one task, got an episode of 2"):
        fits_after_steps({"a": FineTuning(MLP())}, episode, x)
    with pytest.raises(ValueError, match="at least one learner"):
        plot_sinusoid_fits(episode[0], (x, y[0]), {})
    with pytest.raises(ValueError, match=r"fits\['a'\]\[1\] must have the shape \(200,\)"):
        plot_sinusoid_fits(episode[0], (x, y[0]), {"a": {1: torch.zeros(3)}})


def test_accuracy_bars_one_panel_per_shot_count_in_the_given_order():
    accuracy = {
        k: {"maml": MeanCI(0.3, 0.01, 60), "protonet": MeanCI(0.8 + k / 100, 0.01, 60)} for k in (1, 5)
    }
    fig = plot_accuracy_bars(accuracy)
    assert len(fig.axes) == 2
    widths = [patch.get_width() for patch in fig.axes[1].patches]
    assert widths == pytest.approx([0.3, 0.85])
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["maml", "protonet"]
    with pytest.raises(ValueError, match=r"no accuracy for methods \['protonet'\] with 5 shots"):
        plot_accuracy_bars({1: accuracy[1], 5: {"maml": accuracy[5]["maml"]}})
