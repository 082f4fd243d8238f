"""setup_chapter: the one call every chapter makes first."""

import matplotlib.pyplot as plt
import pytest
import torch

from mtl_tutorial.book import setup_chapter
from mtl_tutorial.plotting import BOOK_STYLE


@pytest.fixture
def restore_torch():
    threads, dtype = torch.get_num_threads(), torch.get_default_dtype()
    yield
    torch.set_num_threads(threads)
    torch.set_default_dtype(dtype)


def test_sets_threads_style_dtype_and_seed(restore_torch):
    plt.rcParams["font.size"] = 23
    device = setup_chapter(dtype=torch.float64, seed=3)
    assert device == ("cuda" if torch.cuda.is_available() else "cpu")
    assert torch.get_num_threads() == 1
    assert torch.get_default_dtype() == torch.float64
    assert plt.rcParams["font.size"] == BOOK_STYLE["font.size"]
    first = torch.rand(3)
    setup_chapter(seed=3)
    assert torch.equal(torch.rand(3), first)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"threads": 0}, "threads"),
        ({"dtype": torch.int64}, "floating-point"),
        ({"device": "tpu"}, "'cpu' or 'cuda'"),
    ],
)
def test_bad_settings_are_refused(restore_torch, kwargs, message):
    with pytest.raises(ValueError, match=message):
        setup_chapter(**kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_cuda_without_a_gpu_is_refused(restore_torch):
    with pytest.raises(ValueError, match="CUDA is not available"):
        setup_chapter(device="cuda")


def test_execution_rows_pick_the_budget_from_where_the_models_came_from():
    from mtl_tutorial.book import BUDGET_CACHED_SECONDS, BUDGET_COLD_SECONDS, execution_rows

    report = {
        "book/a.ipynb": {"seconds": 50.0, "models": [{"entry": "m", "from_cache": False, "seconds": 40.0}]},
        "book/b.ipynb": {"seconds": 30.0, "models": [{"entry": "m", "from_cache": True, "seconds": 25.0}]},
        "book/c.ipynb": {"seconds": 4.0, "models": []},
    }
    rows = {r["notebook"]: r for r in execution_rows(report)}
    assert rows["book/a.ipynb"]["trained"] == ["m"] and rows["book/a.ipynb"]["budget"] == BUDGET_COLD_SECONDS
    assert rows["book/a.ipynb"]["own_seconds"] == 50.0  # training is the notebook's own work
    # b waited 25 s for another notebook to train "m", then loaded it: its own time is 5 s
    assert rows["book/b.ipynb"]["loaded"] == ["m"] and rows["book/b.ipynb"]["budget"] == BUDGET_CACHED_SECONDS
    assert rows["book/b.ipynb"]["own_seconds"] == 5.0
    assert rows["book/c.ipynb"]["budget"] == BUDGET_CACHED_SECONDS  # it needs no model


def test_unknown_recipes_are_refused_before_anything_starts():
    with pytest.raises(ValueError, match="no recipe named"):
        setup_chapter(recipes=["sinusoid_maml", "nope"])
