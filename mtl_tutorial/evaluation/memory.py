"""Peak tensor memory of a computation, on the CPU as on a GPU."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten


class StorageTracker(TorchDispatchMode):
    """Counts the bytes of every tensor storage that operations create, until it is freed: use
    as a context manager, then read ``peak`` (bytes, beyond what existed before)."""

    def __init__(self) -> None:
        super().__init__()
        self.live = 0
        self.peak = 0
        self._sizes: dict[int, int] = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for tensor in tree_flatten(out)[0]:
            if not isinstance(tensor, torch.Tensor) or tensor.device.type == "meta":
                continue
            storage = tensor.untyped_storage()
            key, size = storage.data_ptr(), storage.nbytes()
            if size == 0 or key in self._sizes:  # views and in-place results share a storage
                continue
            self._sizes[key] = size
            self.live += size
            self.peak = max(self.peak, self.live)
            weakref.finalize(storage, self._free, key)
        return out

    def _free(self, key: int) -> None:
        self.live -= self._sizes.pop(key, 0)


def peak_tensor_memory(fn: Callable[[], Any], *, cuda_allocator: bool = False) -> int:
    """Bytes of tensor storage alive at the worst moment of ``fn()``, beyond what existed before.

    By default (``cuda_allocator=False``) every storage that an operation creates is tracked until
    it is freed (a ``TorchDispatchMode``), on whatever device it lives: this counts tensors only,
    not an allocator's slack, works through ``torch.func`` transforms, and gives the same number on
    the CPU as on a GPU, run after run. With ``cuda_allocator=True`` it is instead the growth of
    ``torch.cuda.max_memory_allocated`` during ``fn()`` — what a GPU really reserved, allocator
    rounding included — and ``fn`` must compute on the GPU (a ``ValueError`` without CUDA).

    The default never consults CUDA's counters: they would read about zero for a computation that
    runs on the CPU in a process that happens to hold GPU memory.
    """
    if cuda_allocator:
        if not torch.cuda.is_available():
            raise ValueError("cuda_allocator=True needs a CUDA device, and none is available")
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        fn()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    tracker = StorageTracker()
    with tracker:
        fn()
    return tracker.peak
