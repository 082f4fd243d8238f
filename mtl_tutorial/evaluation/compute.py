"""Compute counted in floating-point operations: a cost that is the same on every machine."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode, conv_flop_count


def _conv_backward_flops(grad_out_shape, x_shape, w_shape, _bias, _stride, _padding, _dilation, transposed,
                         _output_padding, groups, output_mask, out_shape=None, **_) -> int:  # fmt: skip
    """FLOPs of a convolution's backward pass, grouped convolutions included.

    torch's own formula (2.13) counts the weight gradient of a grouped convolution as if every
    output channel saw every input channel, ``groups`` times too many. The package meets grouped
    convolutions wherever per-task weights are vmapped (MAML adapting a Conv-4 to each task of a
    meta-batch), so it would overcount them by up to the number of tasks.
    """

    def swap(shape):  # the weight gradient is a convolution with batch and channels exchanged
        return [shape[1], shape[0], *shape[2:]]

    flops = 0
    if output_mask[0]:  # input gradient: a transposed convolution of grad_out with the weight
        flops += conv_flop_count(list(grad_out_shape), list(w_shape), list(out_shape[0]), not transposed)
    if output_mask[1]:
        grad_w = list(out_shape[1])
        if transposed:
            term = conv_flop_count(swap(grad_out_shape), swap(x_shape), swap(grad_w), transposed=False)
        else:
            term = conv_flop_count(swap(x_shape), swap(grad_out_shape), swap(grad_w), transposed=False)
        flops += term // groups
    return flops


def _solve_flops(a_shape, b_shape, *_, **__) -> int:
    """FLOPs of solving ``A X = B`` by LU: ``2n³/3`` to factor each ``n × n`` matrix, ``2n²`` per
    column of ``B`` to substitute (torch's counter does not see solves at all; the ridge probe's
    closed-form fit is one)."""
    n = a_shape[-1]
    batch = math.prod(a_shape[:-2])
    columns = b_shape[-1] if len(b_shape) == len(a_shape) else 1
    return batch * (round(2 * n**3 / 3) + 2 * n**2 * columns)


#: The formulas :func:`count_flops` adds to or overrides in torch's :class:`FlopCounterMode`.
FLOP_FORMULAS = {
    torch.ops.aten.convolution_backward: _conv_backward_flops,
    torch.ops.aten._linalg_solve_ex: _solve_flops,
}


def count_flops(fn: Callable[[], Any]) -> int:
    """Floating-point operations of ``fn()``'s matrix products and convolutions, forward and
    backward (a multiply-add counts as 2), as :class:`torch.utils.flop_counter.FlopCounterMode`
    counts them.

    Unlike CPU-seconds, which vary by tens of percent from run to run on a shared machine and
    between machines, the count depends only on the computation, so a comparison resting on it
    gives the same answer everywhere. Element-wise work (activations, norms, optimiser updates)
    is not counted; it is small beside the products in the book's networks, but it and Python's
    per-operation overhead are why CPU-seconds do not scale in proportion. The backward pass of
    grouped convolutions (per-task weights under ``vmap``) is counted correctly, where torch's
    own formula overcounts it (see :func:`_conv_backward_flops`), and linear solves, which torch
    does not count, are (:func:`_solve_flops`).
    """
    with FlopCounterMode(display=False, custom_mapping=FLOP_FORMULAS) as counter:
        fn()
    return int(counter.get_total_flops())
