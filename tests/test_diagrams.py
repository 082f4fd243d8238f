import matplotlib

matplotlib.use("Agg")

import inspect  # noqa: E402
import itertools  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from mtl_tutorial import diagrams, plotting  # noqa: E402
from mtl_tutorial.diagrams import (  # noqa: E402
    ALT_TEXT,
    alt_text,
    average_loss_minimiser,
    losses_after_one_step,
    maml_start,
    nearest_prototype,
    one_step,
    plot_episode,
    plot_maml_geometry,
    plot_maml_loops,
    plot_protonet_embedding,
    plot_transfer_vs_meta,
)

FIGURES = [plot_episode, plot_maml_loops, plot_maml_geometry, plot_protonet_embedding, plot_transfer_vs_meta]


@pytest.fixture
def draw():
    """Call a figure function; close every figure it made afterwards."""
    made = []

    def call(function, **kwargs):
        fig = function(**kwargs)
        made.append(fig)
        return fig

    yield call
    for fig in made:
        plt.close(fig)


def with_gid(fig, gid):
    """Every artist of ``fig`` whose gid is ``gid``."""
    return [a for a in fig.findobj() if a.get_gid() == gid]


def texts(fig):
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def random_quadratics(rng, tasks, dims=2):
    """Optima in [-2, 2]^dims and SPD curvatures with eigenvalues in [0.3, 2]."""
    optima = rng.uniform(-2, 2, size=(tasks, dims))
    curvatures = []
    for _ in range(tasks):
        basis, _ = np.linalg.qr(rng.normal(size=(dims, dims)))
        curvatures.append(basis @ np.diag(rng.uniform(0.3, 2.0, size=dims)) @ basis.T)
    return optima, np.array(curvatures)


# --- every figure ---------------------------------------------------------------------------------


@pytest.mark.parametrize("function", FIGURES, ids=lambda f: f.__name__)
def test_every_figure_explains_itself_is_deterministic_and_closes(function):
    fig = function()
    assert isinstance(fig, Figure)
    titles = [fig._suptitle.get_text() if fig._suptitle else ""] + [ax.get_title() for ax in fig.axes]
    assert any(title.strip() for title in titles), "a figure needs a title that says what it shows"
    fig.canvas.draw()
    first = np.asarray(fig.canvas.buffer_rgba()).copy()
    again = function()
    again.canvas.draw()
    assert np.array_equal(first, np.asarray(again.canvas.buffer_rgba())), "the same call, the same picture"
    for f in (fig, again):
        number = f.number
        plt.close(f)
        assert number not in plt.get_fignums()


@pytest.mark.parametrize(
    "function, kwargs",
    [(f, {}) for f in FIGURES]
    + [
        (plot_episode, dict(ways=2, shots=1, queries=1)),
        (plot_episode, dict(ways=10, shots=10, queries=10)),
        (plot_maml_loops, dict(tasks=5, inner_steps=5)),
        (plot_maml_loops, dict(tasks=1, inner_steps=1)),
        (plot_maml_geometry, dict(seed=1, tasks=5)),
        (plot_protonet_embedding, dict(ways=6, shots=20, seed=3)),
    ],
    ids=lambda v: v.__name__ if callable(v) else "-".join(map(str, v.values())) or "defaults",
)
def test_no_two_texts_of_a_figure_overlap_or_leave_the_figure(function, kwargs, draw):
    fig = draw(function, **kwargs)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    tick_labels = {  # laid out by matplotlib, and kept (undrawn) beyond the axes' limits
        id(label)
        for ax in fig.axes
        for axis in (ax.xaxis, ax.yaxis)
        for tick in axis.get_major_ticks() + axis.get_minor_ticks()
        for label in (tick.label1, tick.label2)
    }
    boxes = [
        (t.get_text(), t.get_window_extent(renderer))
        for t in fig.findobj(Text)
        if t.get_text().strip() and t.get_visible() and id(t) not in tick_labels
    ]
    overlapping = [
        (a, b) for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2) if box_a.overlaps(box_b)
    ]
    assert not overlapping
    page = fig.bbox
    cut = [
        text
        for text, box in boxes
        if not (page.x0 <= box.x0 <= box.x1 <= page.x1 and page.y0 <= box.y0 <= box.y1 <= page.y1)
    ]
    assert not cut, "texts cut off by the figure's edge"


@pytest.mark.parametrize("function", FIGURES, ids=lambda f: f.__name__)
def test_a_figure_keeps_the_book_style_to_itself(function, draw):
    with plt.rc_context({"axes.grid": False, "font.size": 7.0}):
        draw(function)
        assert plt.rcParams["axes.grid"] is False and plt.rcParams["font.size"] == 7.0


def test_every_figure_has_its_alt_text_and_nothing_else_does():
    figures = {
        name for name, f in inspect.getmembers(diagrams, inspect.isfunction) if name.startswith("plot_")
    }
    assert figures == {f.__name__ for f in FIGURES} == set(ALT_TEXT)
    for function in FIGURES:
        text = alt_text(function)
        assert text == ALT_TEXT[function.__name__] == alt_text(function.__name__)
        assert len(text.split()) >= 20 and text.endswith(".")


@pytest.mark.parametrize(
    "unknown", [plotting.plot_episode, plt.plot, lambda: None, "plot_nothing", maml_start, 3]
)
def test_alt_text_refuses_what_is_not_a_figure_of_the_module(unknown):
    with pytest.raises(
        ValueError, match="no alt text .* the figures of mtl_tutorial.diagrams are plot_episode"
    ):
        alt_text(unknown)


# --- 1. the episode -------------------------------------------------------------------------------


@pytest.mark.parametrize("ways, shots, queries", [(5, 1, 2), (3, 4, 1), (1, 1, 1), (10, 10, 10)])
def test_the_episode_draws_a_mark_per_support_example_and_per_query(ways, shots, queries, draw):
    fig = draw(plot_episode, ways=ways, shots=shots, queries=queries)
    assert len(with_gid(fig, "support")) == ways * shots
    assert len(with_gid(fig, "query")) == ways * queries
    words = texts(fig)
    assert [w for w in words if w.startswith("class ")] == [f"class {c + 1}" for c in range(ways)]
    assert f"support set\n({ways}-way {shots}-shot)" in words
    assert "query set\n(labels to predict)" in words
    assert "meta-test classes (never seen in training)" in words


@pytest.mark.parametrize("ways", [1, 4, 10])
def test_the_episode_classes_are_meta_train_classes_in_their_colours(ways, draw):
    fig = draw(plot_episode, ways=ways)
    support_edges = {tuple(p.get_edgecolor()) for p in with_gid(fig, "support")}
    train = with_gid(fig, "meta-train class")
    highlighted = {tuple(p.get_edgecolor()) for p in train} & support_edges
    assert len(highlighted) == ways  # every class of the episode, once among the meta-train classes
    assert sum(tuple(p.get_edgecolor()) in support_edges for p in train) == ways
    assert not {tuple(p.get_edgecolor()) for p in with_gid(fig, "meta-test class")} & support_edges


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(ways=0), r"ways must be an integer >= 1, got 0"),
        (dict(shots=1.5), r"shots must be an integer >= 1, got 1.5"),
        (dict(queries="2"), r"queries must be an integer >= 1, got '2'"),
        (dict(ways=True), r"ways must be an integer >= 1, got True"),
        (dict(ways=11), r"ways must be at most 10 \(a drawing of more classes says nothing more\), got 11"),
        (dict(shots=12), r"shots must be at most 10 .*, got 12"),
        (dict(queries=11), r"queries must be at most 10 .*, got 11"),
    ],
)
def test_the_episode_refuses_bad_arguments(kwargs, message):
    before = plt.get_fignums()
    with pytest.raises(ValueError, match=message):
        plot_episode(**kwargs)
    assert plt.get_fignums() == before  # refused before drawing anything


# --- 2. MAML's loops ------------------------------------------------------------------------------


@pytest.mark.parametrize("tasks, inner_steps", [(3, 2), (1, 1), (5, 5), (2, 4)])
def test_the_loops_draw_each_tasks_inner_steps_and_one_meta_gradient(tasks, inner_steps, draw):
    fig = draw(plot_maml_loops, tasks=tasks, inner_steps=inner_steps)
    inner = with_gid(fig, "inner-step")
    assert len(inner) == tasks * inner_steps
    assert all(a.axes.texts for a in inner)
    assert len(with_gid(fig, "query-loss")) == tasks == len(with_gid(fig, "to-meta-loss"))
    assert len(with_gid(fig, "meta-gradient")) == 1
    words = texts(fig)
    assert words.count(r"$\nabla$ support loss") == tasks * inner_steps
    assert [w for w in words if w.startswith("task ")] == [f"task {b + 1}" for b in range(tasks)]
    assert any("meta-gradient" in w and "through the inner steps" in w for w in words)
    assert r"initialisation $\theta$" in words
    for b in range(tasks):
        assert rf"$\phi_{b + 1} = \phi_{b + 1}^{{({inner_steps})}}$" in words


def test_the_meta_gradient_arrow_runs_from_the_meta_loss_back_to_theta(draw):
    fig = draw(plot_maml_loops)
    (arrow,) = with_gid(fig, "meta-gradient")
    (theta,) = with_gid(fig, "theta")
    (meta,) = with_gid(fig, "meta-loss")
    # the polyline and the head, in data coordinates (without the closing code's placeholder vertex)
    segments = arrow.get_path().iter_segments(simplify=False, curves=False)
    path = np.array([vertex[-2:] for vertex, code in segments if code != MplPath.CLOSEPOLY])
    tip = path[np.argmax(path[:, 0])]  # the arrow runs left of everything, then right into θ's box
    assert tip == pytest.approx((theta.get_x(), theta.get_y() + theta.get_height() / 2), abs=0.06)
    assert path[:, 1].min() == pytest.approx(meta.get_y() + meta.get_height() / 2)
    assert path[:, 0].min() < min(meta.get_x(), theta.get_x())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(tasks=0), "tasks must be an integer >= 1, got 0"),
        (dict(inner_steps=2.0), "inner_steps must be an integer >= 1, got 2.0"),
        (dict(tasks=6), "tasks must be at most 5"),
        (dict(inner_steps=6), "inner_steps must be at most 5"),
    ],
)
def test_the_loops_refuse_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        plot_maml_loops(**kwargs)


# --- 3. MAML's geometry ---------------------------------------------------------------------------


def maml_meta_loss(theta, optima, curvatures, step):
    """MAML's meta-loss, built the way MAML builds it: one inner gradient step per task by
    autograd (kept in the graph), then the mean of the tasks' losses at their adapted parameters."""
    optima, curvatures = torch.as_tensor(optima), torch.as_tensor(curvatures)

    def loss(p, b):
        delta = p - optima[b]
        return 0.5 * delta @ curvatures[b] @ delta

    meta_loss = 0.0
    for b in range(len(optima)):
        (grad,) = torch.autograd.grad(loss(theta, b), theta, create_graph=True)
        meta_loss = meta_loss + loss(theta - step * grad, b) / len(optima)
    return meta_loss


@pytest.mark.parametrize("seed, tasks, dims", [(0, 2, 2), (1, 3, 2), (2, 5, 3)])
def test_maml_start_is_where_the_meta_gradient_through_the_inner_step_vanishes(seed, tasks, dims):
    optima, curvatures = random_quadratics(np.random.default_rng(seed), tasks, dims)
    start = torch.tensor(maml_start(optima, curvatures, 0.4), requires_grad=True)
    (meta_gradient,) = torch.autograd.grad(maml_meta_loss(start, optima, curvatures, 0.4), start)
    assert meta_gradient.abs().max() < 1e-10
    # the meta-loss is convex (a positive-definite Hessian), so the stationary point is its minimum
    hessian = torch.autograd.functional.hessian(
        lambda theta: maml_meta_loss(theta, optima, curvatures, 0.4), start.detach(), create_graph=False
    )
    assert torch.linalg.eigvalsh(hessian).min() > 0
    elsewhere = torch.tensor(average_loss_minimiser(optima, curvatures), requires_grad=True)
    (gradient_there,) = torch.autograd.grad(maml_meta_loss(elsewhere, optima, curvatures, 0.4), elsewhere)
    assert gradient_there.abs().max() > 1e-4  # the average-loss minimiser is not MAML's start


def test_maml_start_minimises_the_mean_loss_after_one_step_and_beats_the_average_loss_minimiser():
    rng = np.random.default_rng(0)
    for tasks, dims in itertools.product((2, 3, 5), (1, 2, 3)):
        optima, curvatures = random_quadratics(rng, tasks, dims)
        start = maml_start(optima, curvatures, 0.4)
        joint = average_loss_minimiser(optima, curvatures)
        best = losses_after_one_step(start, optima, curvatures, 0.4).mean()
        assert best <= losses_after_one_step(joint, optima, curvatures, 0.4).mean() + 1e-12
        for _ in range(20):
            nearby = start + 0.1 * rng.normal(size=dims)
            assert best < losses_after_one_step(nearby, optima, curvatures, 0.4).mean()
        # and the average-loss minimiser minimises what it says
        average = 0.5 * np.einsum("bi,bij,bj->b", joint - optima, curvatures, joint - optima).mean()
        for _ in range(20):
            nearby = joint + 0.1 * rng.normal(size=dims)
            delta = nearby - optima
            assert average < 0.5 * np.einsum("bi,bij,bj->b", delta, curvatures, delta).mean()


def test_with_one_curvature_for_all_tasks_maml_and_joint_training_agree_on_the_mean_optimum():
    optima = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 3.0]])
    curvature = np.array([[1.5, 0.3], [0.3, 0.7]])
    curvatures = np.stack([curvature] * 3)
    np.testing.assert_allclose(maml_start(optima, curvatures, 0.3), optima.mean(0))
    np.testing.assert_allclose(average_loss_minimiser(optima, curvatures), optima.mean(0))


def test_one_step_is_a_gradient_step_on_each_tasks_loss():
    optima = np.array([[1.0, 0.0], [0.0, -1.0]])
    curvatures = np.stack([np.diag([2.0, 1.0]), np.eye(2)])
    theta = np.array([0.0, 1.0])
    # gradients A_b (θ − θ*_b): (-2, 1) and (0, 2)
    np.testing.assert_allclose(one_step(theta, optima, curvatures, 0.25), [[0.5, 0.75], [0.0, 0.5]])


@pytest.mark.parametrize(
    "optima, curvatures, step, message",
    [
        (np.zeros((2, 2)), np.stack([np.eye(2)] * 3), 0.1, "curvatures must have shape"),
        (np.zeros(2), np.eye(2)[None], 0.1, "optima must have shape"),
        (np.zeros((1, 2)), np.array([[[1.0, 0.0], [0.0, -1.0]]]), 0.1, "positive-definite"),
        (np.zeros((1, 2)), np.array([[[1.0, 2.0], [0.0, 1.0]]]), 0.1, "symmetric"),
        (np.zeros((1, 2)), np.eye(2)[None], 0.0, "step must be a finite number > 0, got 0.0"),
        (np.zeros((2, 2)), np.stack([np.eye(2)] * 2), 1.0, "not unique"),  # one step lands on every optimum
    ],
)
def test_maml_start_refuses_what_is_not_a_set_of_quadratics(optima, curvatures, step, message):
    with pytest.raises(ValueError, match=message):
        maml_start(optima, curvatures, step)


@pytest.mark.parametrize("seed, tasks", [(0, 3), (1, 5), (3, 2)])
def test_the_geometry_figure_draws_what_maml_start_computes(seed, tasks, draw):
    fig = draw(plot_maml_geometry, seed=seed, tasks=tasks)
    optima = np.array([star.get_offsets()[0] for star in with_gid(fig, "optimum")])
    assert optima.shape == (tasks, 2)
    (start,) = (c.get_offsets()[0] for c in with_gid(fig, "maml-start"))
    (joint,) = (c.get_offsets()[0] for c in with_gid(fig, "average-minimiser"))
    maml_steps, joint_steps = with_gid(fig, "inner-step"), with_gid(fig, "joint-step")
    assert len(maml_steps) == len(joint_steps) == tasks
    assert all(np.allclose(a.xyann, start) for a in maml_steps)
    assert all(np.allclose(a.xyann, joint) for a in joint_steps)
    labels = [w for w in texts(fig) if w.startswith(r"$\theta^*")]
    assert labels == [rf"$\theta^*_{b + 1}$" for b in range(tasks)]
    assert "mean loss after the step" in fig._suptitle.get_text()


def test_in_the_default_geometry_one_step_from_maml_start_lands_nearer_the_optima(draw):
    # Not a theorem (MAML minimises the loss after the step, not the distance), but the point the
    # default figure makes: the landings of MAML's steps are nearer their optima on average.
    fig = draw(plot_maml_geometry)
    optima = np.array([star.get_offsets()[0] for star in with_gid(fig, "optimum")])
    maml_landings = np.array([a.xy for a in with_gid(fig, "inner-step")])
    joint_landings = np.array([a.xy for a in with_gid(fig, "joint-step")])
    maml_distance = np.linalg.norm(maml_landings - optima, axis=1).mean()
    joint_distance = np.linalg.norm(joint_landings - optima, axis=1).mean()
    assert maml_distance < joint_distance


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(tasks=1), "tasks must be an integer >= 2, got 1"),
        (dict(tasks=6), "tasks must be at most 5 \\(one colour per task\\)"),
        (dict(seed=-1), "seed must be an integer >= 0, got -1"),
    ],
)
def test_the_geometry_figure_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        plot_maml_geometry(**kwargs)


# --- 4. ProtoNet ----------------------------------------------------------------------------------


def test_nearest_prototype_takes_the_nearest_and_the_lower_index_on_a_tie():
    prototypes = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 3.0]])
    points = np.array([[0.1, 0.2], [1.9, -1.0], [0.0, 2.0], [1.0, 0.0], [-5.0, 0.0]])
    np.testing.assert_array_equal(nearest_prototype(points, prototypes), [0, 1, 2, 0, 0])
    assert nearest_prototype(np.array([2.0, 0.5]), prototypes) == 1
    assert nearest_prototype(np.array([2.0, 0.5]), prototypes).shape == ()


@pytest.mark.parametrize(
    "points, prototypes, message",
    [
        (np.zeros((3, 2)), np.zeros((0, 2)), "prototypes must have shape"),
        (np.zeros((3, 3)), np.zeros((2, 2)), r"points must have shape \(n, 2\)"),
        (np.zeros(2), np.zeros(2), "prototypes must have shape"),
    ],
)
def test_nearest_prototype_refuses_shapes_that_do_not_match(points, prototypes, message):
    with pytest.raises(ValueError, match=message):
        nearest_prototype(points, prototypes)


@pytest.mark.parametrize("ways, shots, seed", [(3, 5, 0), (2, 1, 1), (6, 20, 3), (4, 3, 7)])
def test_protonet_prototypes_are_the_support_means_and_the_regions_are_nearest_prototype(
    ways, shots, seed, draw
):
    fig = draw(plot_protonet_embedding, ways=ways, shots=shots, seed=seed)
    support = [with_gid(fig, f"support-{c}")[0].get_offsets() for c in range(ways)]
    assert all(points.shape == (shots, 2) for points in support)
    (prototypes,) = (c.get_offsets() for c in with_gid(fig, "prototype"))
    np.testing.assert_allclose(prototypes, [points.mean(0) for points in support])

    (regions,) = with_gid(fig, "regions")
    labels = np.asarray(regions.get_array())
    left, right, bottom, top = regions.get_extent()
    rows, columns = labels.shape
    xs = left + (np.arange(columns) + 0.5) * (right - left) / columns  # pixel centres
    ys = bottom + (np.arange(rows) + 0.5) * (top - bottom) / rows  # origin="lower": row 0 at the bottom
    centres = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    np.testing.assert_array_equal(labels, nearest_prototype(centres, prototypes).reshape(rows, columns))
    assert set(np.unique(labels)) <= set(range(ways))

    (query,) = (c.get_offsets()[0] for c in with_gid(fig, "query"))
    column = int((query[0] - left) / (right - left) * columns)
    row = int((query[1] - bottom) / (top - bottom) * rows)
    nearest = int(np.argmin(np.linalg.norm(prototypes - query, axis=1)))
    assert labels[row, column] == nearest  # the shade under the query is the nearest prototype's class
    lines = with_gid(fig, "distance")
    assert len(lines) == ways
    assert max(lines, key=lambda line: line.get_linewidth()) is lines[nearest]
    for c in range(ways):
        assert f"{np.linalg.norm(prototypes[c] - query):.2f}" in texts(fig)
    assert f"here class {nearest + 1}" in fig._suptitle.get_text()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(ways=1), "ways must be an integer >= 2, got 1"),
        (dict(ways=7), "ways must be at most 6"),
        (dict(shots=0), "shots must be an integer >= 1, got 0"),
        (dict(shots=21), "shots must be at most 20"),
        (dict(seed=None), "seed must be an integer >= 0, got None"),
    ],
)
def test_the_protonet_figure_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        plot_protonet_embedding(**kwargs)


# --- 5. transfer vs meta-learning -----------------------------------------------------------------


def test_the_two_pipelines_have_their_stages_in_order_and_say_what_each_learns(draw):
    fig = draw(plot_transfer_vs_meta)
    transfer, meta = fig.axes
    assert (transfer.get_title(), meta.get_title()) == ("Transfer learning", "Meta-learning")

    def stages(ax):
        boxes = [p for p in ax.patches if p.get_gid() == "stage"]
        assert len(boxes) == 5
        centres = np.array([(p.get_x() + p.get_width() / 2, p.get_y() + p.get_height() / 2) for p in boxes])
        inside = [t for t in ax.texts if np.isclose(centres, t.get_position()).all(axis=1).any()]
        return [t.get_text().replace("\n", " ") for t in sorted(inside, key=lambda t: -t.get_position()[1])]

    assert stages(transfer) == [
        "source data (many classes)",
        "pretrain one network",
        "target task: support set",
        "fine-tune or fit a head",
        "predict queries",
    ]
    assert stages(meta) == [
        "many training tasks (episodes)",
        "meta-train: inner loop per task, outer loop across tasks",
        "new task: support set",
        "adapt (a few steps / prototypes)",
        "predict queries",
    ]
    assert [len([a for a in ax.texts if a.get_gid() == "flow"]) for ax in fig.axes] == [4, 4]
    learns = [
        " ".join(t.get_text() for t in ax.texts if t.get_text().startswith("learns")) for ax in fig.axes
    ]
    assert "weights" in learns[0]
    assert all(word in learns[1] for word in ("how to adapt", "initialisation", "metric", "step sizes"))
    assert len(with_gid(fig, "learns")) == 2
