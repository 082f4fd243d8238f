"""Compute counted in floating-point operations: a cost that is the same on every machine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch.utils.flop_counter import FlopCounterMode


def count_flops(fn: Callable[[], Any]) -> int:
    """Floating-point operations of ``fn()``'s matrix products and convolutions, forward and
    backward (a multiply-add counts as 2), as :class:`torch.utils.flop_counter.FlopCounterMode`
    counts them.

    Unlike CPU-seconds, which vary by tens of percent from run to run on a shared machine and
    between machines, the count depends only on the computation, so a comparison resting on it
    gives the same answer everywhere. Element-wise work (activations, norms, optimiser updates)
    is not counted; it is small beside the products in the book's networks, but it and Python's
    per-operation overhead are why CPU-seconds do not scale in proportion.
    """
    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())
