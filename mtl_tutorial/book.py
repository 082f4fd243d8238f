"""What every chapter of the book does first, in one call (:func:`setup_chapter`), and the small
helpers the chapters that check formulas share (:func:`flat`, :func:`relative_error`, ...)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ._checks import check_int
from .adaptation import apply_params, mse_loss
from .plotting import use_book_style
from .training import seed_everything


def setup_chapter(
    *,
    threads: int = 1,
    dtype: torch.dtype | None = None,
    seed: int | None = None,
    device: str | None = None,
    recipes: Sequence[str] = (),
) -> str:
    """Prepare a notebook of the book and return the device its examples run on.

    Args:
        threads: CPU threads for PyTorch (default 1). The book's networks are small: a second
            thread costs more in synchronisation than it saves, far more on a busy machine,
            and one thread gives the same numbers on every machine.
        dtype: default floating-point type, e.g. ``torch.float64`` for the chapter that checks
            formulas to 1e-10 (default: leave torch's, float32).
        seed: seed Python's, NumPy's and PyTorch's global generators (default: leave them).
        device: ``"cpu"`` or ``"cuda"``; default ``"cuda"`` when a GPU is present, else ``"cpu"``.
        recipes: the trained models (:mod:`mtl_tutorial.recipes`) the chapter uses, in the order
            it uses them; those not cached yet start training at once in a second process
            (:func:`~mtl_tutorial.recipes.train_in_background`), so a chapter run on a cold
            cache uses two cores (default: none).

    It also applies the book's figure style. Hosted notebooks (Colab) install the package in the
    notebook's first, hidden cell, before anything is imported from it.
    """
    torch.set_num_threads(check_int("threads", threads, minimum=1))
    if dtype is not None:
        if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise ValueError(f"dtype must be a floating-point torch.dtype, got {dtype!r}")
        torch.set_default_dtype(dtype)
    if seed is not None:
        seed_everything(seed)
    use_book_style()
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    elif device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    elif device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for, but CUDA is not available here; use 'cpu'")
    if recipes:
        from .recipes import train_in_background

        train_in_background(list(recipes), device=device)
    return device


#: A notebook's time budget on a 2-core CPU, run alone, when it must train its models ...
BUDGET_COLD_SECONDS = 120.0
#: ... and when every model it uses is already in the trained-model cache.
BUDGET_CACHED_SECONDS = 15.0


def execution_rows(report: dict[str, dict]) -> list[dict]:
    """One row per notebook of the book's execution report (``_build/executed/report.json``,
    written by the notebook tests): its time, the models it trained and loaded, and its budget.

    ``own_seconds`` leaves out the time spent waiting for another process that was training a
    model this notebook then loaded (notebooks are executed two at a time). A notebook that
    trained a model (or ran an experiment not yet cached) has the cold budget; one whose models
    all came from the cache, or that needs none, the cached one.
    """
    rows = []
    for notebook, entry in sorted(report.items()):
        models = entry.get("models", [])
        trained = sorted({m["entry"] for m in models if not m["from_cache"]})
        loaded = sorted({m["entry"] for m in models if m["from_cache"]} - set(trained))
        waited = sum(m["seconds"] for m in models if m["from_cache"])
        own = max(0.0, entry["seconds"] - waited)
        budget = BUDGET_COLD_SECONDS if trained else BUDGET_CACHED_SECONDS
        rows.append({"notebook": notebook, "seconds": entry["seconds"], "own_seconds": round(own, 1),
                     "trained": trained, "loaded": loaded, "budget": budget,
                     "passed": entry.get("passed", True)})  # fmt: skip
    return rows


# -- helpers of the chapters that check formulas numerically ------------------------------------


def flat(tensors: dict[str, torch.Tensor] | Sequence[torch.Tensor]) -> torch.Tensor:
    """All tensors of a ``{name: tensor}`` dictionary (or of a list of tensors) as one vector."""
    values = tensors.values() if isinstance(tensors, dict) else tensors
    return torch.cat([t.reshape(-1) for t in values])


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """``‖a − b‖ / ‖b‖``: what "equal" means when chapter 3 checks a formula (below 1e-10)."""
    return ((a - b).norm() / b.norm()).item()


def meta_gradient(learner, episode) -> torch.Tensor:
    """The gradient a learner backpropagates for one meta-update on ``episode`` (its
    ``meta_loss``), flattened over its model's parameters; the gradients are zeroed first."""
    for module in learner.trainable_modules().values():
        module.zero_grad()
    learner.meta_loss(episode).backward()
    return flat([p.grad for p in learner.model.parameters()])


def task_losses(model: torch.nn.Module, episode, t: int):
    """The support and the query MSE of task ``t`` of ``episode``, each as a function of a
    ``{name: tensor}`` dictionary of the model's parameters (for ``torch.func.grad``)."""
    def support_loss(params):
        return mse_loss(apply_params(model, params, episode.support_x[t]), episode.support_y[t])

    def query_loss(params):
        return mse_loss(apply_params(model, params, episode.query_x[t]), episode.query_y[t])

    return support_loss, query_loss


def glue(name: str, value: object, display: bool = False) -> None:
    """Store ``value`` under ``name`` for the text to quote (``{glue:text}`name```), through
    myst-nb's ``glue`` when the book is built; outside the build (plain Jupyter, Colab, where
    myst-nb is not installed) there is nothing to glue into, and it does nothing.

    The default is ``display=False``, unlike myst-nb's: the chapters glue numbers into their
    prose, not outputs into the page."""
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return
    myst_glue(name, value, display=display)
