"""The alt text of each concept figure, for a screen-reader user: :data:`ALT_TEXT`, and
:func:`alt_text` to look one up."""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.figure import Figure

from .episode import plot_episode
from .maml import plot_maml_geometry, plot_maml_loops
from .pipelines import plot_transfer_vs_meta
from .protonet import plot_protonet_embedding

ALT_TEXT: dict[str, str] = {
    "plot_episode": (
        "A grid of small squares with hand-drawn glyphs: the support set, one row per class labelled "
        "class 1 to class N with K examples each, and beside it a grey query set of unlabelled examples "
        "in shuffled order. On the right, the pool of classes is split into meta-train classes, among "
        "which the episode's classes are highlighted, and a separate group of meta-test classes never "
        "seen in training."
    ),
    "plot_maml_loops": (
        "A flow diagram of MAML: the initialisation theta at the top is copied into one column per task, "
        "where a few gradient steps on the task's support loss turn it into adapted parameters phi; each "
        "phi's loss on its query set flows into one meta-loss at the bottom. A long arrow from the "
        "meta-loss back to theta is the outer loop's meta-gradient, taken through the inner steps."
    ),
    "plot_maml_geometry": (
        "A plane of two parameters with the elliptical contour lines of the tasks' losses, each around "
        "its own optimum marked by a star. MAML's start, a blue dot, sits where one short gradient step "
        "per task (an arrow towards each optimum) leaves the least loss on average; an orange square marks "
        "the minimiser of the average loss, from which the same steps (dotted) leave more."
    ),
    "plot_protonet_embedding": (
        "A two-dimensional embedding space with small points for each class's support examples, a large "
        "circle at each class's mean (its prototype) and a black cross for one query, joined to every "
        "prototype by a dashed line labelled with its distance. The background is shaded by the class of "
        "the nearest prototype, so the query takes the class of the region it falls in."
    ),
    "plot_transfer_vs_meta": (
        "Two pipelines side by side. Transfer learning goes from source data with many classes to "
        "pretraining one network, then fine-tunes it or fits a head on the target task's support set "
        "and predicts queries; it learns weights. Meta-learning goes from many training episodes to "
        "meta-training with an inner loop per task and an outer loop across tasks, then adapts to a new "
        "task's support set in a few steps or with prototypes; it learns how to adapt."
    ),
}


_FIGURES = {  # the figure functions by name
    f.__name__: f
    for f in (plot_episode, plot_maml_loops, plot_maml_geometry, plot_protonet_embedding,
              plot_transfer_vs_meta)
}  # fmt: skip


def alt_text(figure_function: Callable[..., Figure] | str) -> str:
    """The alt text of one of the subpackage's figures, given the function (or its name).

    Raises:
        ValueError: for anything that is not one of the subpackage's figure functions.
    """
    name = figure_function if isinstance(figure_function, str) else getattr(figure_function, "__name__", None)
    if name not in ALT_TEXT or (
        not isinstance(figure_function, str) and _FIGURES[name] is not figure_function
    ):
        raise ValueError(
            f"no alt text for {figure_function!r}; "
            f"the figures of mtl_tutorial.diagrams are {', '.join(ALT_TEXT)}"
        )
    return ALT_TEXT[name]
