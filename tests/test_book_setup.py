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
