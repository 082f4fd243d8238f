"""Peak tensor memory of a computation, on the CPU as on a GPU."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten


class _StorageTracker(TorchDispatchMode):
    """Counts the bytes of every tensor storage that operations create, until it is freed."""

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


def peak_tensor_memory(fn: Callable[[], Any]) -> int:
    """Bytes of tensor storage alive at the worst moment of ``fn()``, beyond what existed before.

    On a GPU this is ``torch.cuda.max_memory_allocated`` growth. On the CPU, where PyTorch keeps
    no such counter, every storage created by an operation is tracked until it is freed (a
    ``TorchDispatchMode``); this counts tensors only, not the allocator's slack, and works
    through ``torch.func`` transforms. Deterministic, unlike the process's resident memory.
    """
    if torch.cuda.is_available() and torch.cuda.memory_allocated() > 0:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        fn()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    tracker = _StorageTracker()
    with tracker:
        fn()
    return tracker.peak
