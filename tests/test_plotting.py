import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from mtl_tutorial import MLP, FineTuning, SinusoidTasks  # noqa: E402
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


def test_accuracy_bars_one_panel_per_shot_count_in_the_given_order():
    rows = [
        {"method": m, "shots": k, "accuracy": a, "ci95": 0.01}
        for k in (1, 5)
        for m, a in (("protonet", 0.8 + k / 100), ("maml", 0.3))
    ]
    fig = plot_accuracy_bars(rows, ["maml", "protonet"], shots=(1, 5))
    assert len(fig.axes) == 2
    widths = [patch.get_width() for patch in fig.axes[1].patches]
    assert widths == pytest.approx([0.3, 0.85])
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["maml", "protonet"]
    with pytest.raises(ValueError, match="no row for method 'anil' with 1 shots"):
        plot_accuracy_bars(rows, ["anil"], shots=(1,))
