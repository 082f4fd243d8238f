"""The episode figures: what they draw must be the episode's own points and images."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from mtl_tutorial import Episode, GaussianClusterTasks, SinusoidTasks  # noqa: E402
from mtl_tutorial.plotting import plot_episode, plot_image_episode, use_book_style  # noqa: E402


def image_episode(ways=3, shots=2, queries=4, tasks=2, channels=1, seed=0) -> Episode:
    """Random images whose labels are shuffled, so a plot that ignores the labels is caught."""
    g = torch.Generator().manual_seed(seed)

    def draw(per_class):
        x = torch.rand(tasks, ways * per_class, channels, 6, 6, generator=g)
        y = torch.stack([torch.randperm(ways * per_class, generator=g) % ways for _ in range(tasks)])
        return x, y

    (sx, sy), (qx, qy) = draw(shots), draw(queries)
    return Episode(sx, sy, qx, qy, num_ways=ways)


def shown_images(fig):
    """The image drawn in each axes that shows one, keyed by its (row, column) in the grid."""
    found = {}
    for ax in fig.axes:
        if ax.images:
            spec = ax.get_subplotspec()
            found[(spec.rowspan.start, spec.colspan.start)] = np.asarray(ax.images[0].get_array())
    return found


def test_episode_plot_draws_the_chosen_tasks_support_and_query_points():
    use_book_style()
    tasks = SinusoidTasks(support_size=5, query_size=30)
    episode = tasks.sample(3, seed=0)
    x, y = tasks.curve(episode[2])
    fig = plot_episode(episode, task=2, curve=(x, y[0]), title="one task")
    ax = fig.axes[0]
    query, support = ax.collections
    assert np.allclose(query.get_offsets(), torch.cat([episode.query_x[2], episode.query_y[2]], 1).numpy())
    assert np.allclose(
        support.get_offsets(), torch.cat([episode.support_x[2], episode.support_y[2]], 1).numpy()
    )
    assert len(ax.lines) == 1 and np.allclose(ax.lines[0].get_ydata(), y[0].numpy())
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["true function", "query set (30 points)", "support set (K = 5)"]
    assert ax.get_title() == "one task"
    plt.close(fig)


def test_episode_plot_draws_on_given_axes_and_without_a_curve():
    episode = SinusoidTasks().sample(1, seed=1)
    fig, axes = plt.subplots(1, 2)
    assert plot_episode(episode, ax=axes[1]) is fig
    assert len(axes[1].collections) == 2 and not axes[1].lines
    assert not axes[0].collections
    plt.close(fig)


@pytest.mark.parametrize(
    ("episode", "kwargs", "message"),
    [
        (GaussianClusterTasks().sample(1, seed=0), {}, "plot_image_episode"),
        (SinusoidTasks().sample(2, seed=0), {"task": 2}, "below the episode's 2 tasks"),
        (SinusoidTasks().sample(1, seed=0), {"task": -1}, "task must be an integer"),
        (
            Episode(torch.zeros(1, 3, 2), torch.zeros(1, 3, 1), torch.zeros(1, 4, 2), torch.zeros(1, 4, 1)),
            {},
            "one number per point",
        ),
        (SinusoidTasks().sample(1, seed=0), {"curve": (torch.zeros(5), torch.zeros(4))}, "same length"),
    ],
)
def test_episode_plot_refuses_what_it_cannot_draw(episode, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plot_episode(episode, **kwargs)
    plt.close("all")


def test_image_episode_plot_puts_each_classs_own_images_in_its_row():
    episode = image_episode(ways=3, shots=2, queries=4)
    fig = plot_image_episode(episode, task=1, max_queries=3, class_names=["a", "b", "c"])
    images = shown_images(fig)
    assert len(images) == 3 * (2 + 3)  # ways × (shots + shown queries)
    for c in range(3):  # columns: name, 2 support images, spacer, 3 query images
        support = episode.support_x[1][episode.support_y[1] == c][:, 0]
        query = episode.query_x[1][episode.query_y[1] == c][:3, 0]
        for k in range(2):
            assert np.allclose(images[(c, 1 + k)], support[k].numpy())
        assert (c, 0) not in images and (c, 3) not in images  # name and spacer columns hold no image
        for k in range(3):
            assert np.allclose(images[(c, 4 + k)], query[k].numpy())
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert texts == ["a", "b", "c"]
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_title(loc="left")]
    assert titles == ["support", "query"]
    plt.close(fig)


def test_image_episode_plot_shows_colour_images_and_defaults_class_names():
    episode = image_episode(ways=2, shots=1, queries=2, channels=3)
    fig = plot_image_episode(episode)
    images = shown_images(fig)
    assert len(images) == 2 * (1 + 2)
    assert images[(0, 1)].shape == (6, 6, 3)
    assert [t.get_text() for ax in fig.axes for t in ax.texts] == ["class 0", "class 1"]
    plt.close(fig)


@pytest.mark.parametrize(
    ("episode", "kwargs", "message"),
    [
        (SinusoidTasks().sample(1, seed=0), {}, "plot_episode"),
        (GaussianClusterTasks().sample(1, seed=0), {}, "images of shape"),
        (image_episode(), {"task": 5}, "below the episode's 2 tasks"),
        (image_episode(), {"max_queries": 0}, "max_queries must be an integer >= 1"),
        (image_episode(ways=3), {"class_names": ["a", "b"]}, "each of the 3 classes"),
    ],
)
def test_image_episode_plot_refuses_what_it_cannot_draw(episode, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plot_image_episode(episode, **kwargs)
    plt.close("all")
