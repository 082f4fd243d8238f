"""Running the tasks of a meta-batch side by side on the CPU's cores.

The tasks of a meta-batch are independent until their gradients are summed. For convolutional
networks the package runs them one after another (``vmap`` over per-task convolution weights is
slower on the CPU: :func:`mtl_tutorial.adaptation.loops_over_tasks`), and one task's kernels are
too small to keep several cores busy: GroupNorm, pooling and the single-channel first
convolution leave the second core mostly idle. Giving each core its own task, with one intra-op
thread each, keeps both busy (second-order MAML on the glyph Conv-4, meta-batch 4, 2 cores:
about 1.4 times the loop's meta-iterations per second; ``benchmarks/image_throughput.py``).

Each task computes exactly what it computes alone; results come back in task order, so sums
over tasks are formed in the same order as in the loop. The environment variable
``MTL_TUTORIAL_TASK_THREADS`` caps the number of threads (``1`` turns this off).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from typing import TypeVar

import torch

T = TypeVar("T")

ENVIRONMENT_VARIABLE = "MTL_TUTORIAL_TASK_THREADS"
_inside = threading.local()  # set in the task threads: a nested map runs in its caller's thread


def thread_cap() -> int | None:
    """The cap ``MTL_TUTORIAL_TASK_THREADS`` sets, or None when it is unset.

    Raises:
        ValueError: when it is set to something other than a whole number >= 1.
    """
    value = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if not value:
        return None
    try:
        cap = int(value)
    except ValueError:
        cap = 0
    if cap < 1:
        raise ValueError(f"{ENVIRONMENT_VARIABLE} must be a whole number >= 1, got {value!r}")
    return cap


def task_workers(tasks: int, device: torch.device | str | None = None) -> int:
    """How many threads :func:`map_in_threads` uses for ``tasks`` tasks on ``device``.

    One per task up to torch's intra-op thread count (``torch.get_num_threads()``) and the cap
    of ``MTL_TUTORIAL_TASK_THREADS``. 1 (the caller's thread) off the CPU, where one task's
    kernels already fill the accelerator; inside a task thread; and where the caller's thread
    holds state that other threads would not see: ``torch.func`` transforms, ``torch.compile``
    tracing, and dispatch or function modes (the FLOP counter of
    :mod:`mtl_tutorial.evaluation.compute`, the memory tracker of
    :mod:`mtl_tutorial.evaluation.memory`), which would miss the other threads' operations.
    """
    if device is not None and torch.device(device).type != "cpu":
        return 1
    if getattr(_inside, "active", False) or torch.compiler.is_compiling():
        return 1
    if torch._C._functorch.maybe_current_level() is not None:  # under grad/vmap/jacrev
        return 1
    if torch._C._len_torch_dispatch_stack() > 0 or torch._C._is_torch_function_mode_enabled():
        return 1
    cap = thread_cap()
    return max(1, min(tasks, torch.get_num_threads(), cap if cap is not None else tasks))


def map_in_threads(fn: Callable[[int], T], count: int, *, workers: int) -> list[T]:
    """``[fn(0), ..., fn(count - 1)]``, computed by ``workers`` threads.

    Thread ``k`` computes ``fn(k)``, ``fn(k + workers)``, ...: the same share on every call. The
    threads share torch's intra-op threads equally and inherit the caller's gradient and
    inference modes (thread-local in torch). With ``workers == 1`` this is a plain loop in the
    caller's thread. An exception raised by ``fn`` is raised here.
    """
    if workers <= 1 or count <= 1:
        return [fn(i) for i in range(count)]
    workers = min(workers, count)
    total_threads = torch.get_num_threads()
    intra_op = max(1, total_threads // workers)
    grad_enabled = torch.is_grad_enabled()
    inference = torch.is_inference_mode_enabled()

    def run(first: int) -> list[T]:  # tasks first, first + workers, ...: a fixed share
        _inside.active = True
        torch.set_num_threads(intra_op)  # this thread's share; restored for the caller below
        try:
            with torch.inference_mode(inference), torch.set_grad_enabled(grad_enabled):
                return [fn(i) for i in range(first, count, workers)]
        finally:
            _inside.active = False

    done: queue.SimpleQueue = queue.SimpleQueue()
    try:
        for k, inbox in enumerate(_threads(workers)):  # thread k takes share k
            inbox.put((k, run, done))
        outcomes = dict(done.get() for _ in range(workers))
    finally:
        torch.set_num_threads(total_threads)
    for outcome in outcomes.values():
        if isinstance(outcome, BaseException):
            raise outcome
    shares = [outcomes[k] for k in range(workers)]
    return [shares[i % workers][i // workers] for i in range(count)]


_inboxes: dict[tuple[int, int], list[queue.SimpleQueue]] = {}  # by (process id, thread count)
_inboxes_lock = threading.Lock()


def _threads(workers: int) -> list[queue.SimpleQueue]:
    """The inboxes of ``workers`` long-lived threads of this process, started on first use.

    Long-lived: a fresh thread sets up its own kernel caches (oneDNN's) and loses the gain. By
    process: a forked child has the parent's dictionary but none of its threads.
    """
    key = (os.getpid(), workers)
    with _inboxes_lock:
        if key not in _inboxes:
            _inboxes[key] = [queue.SimpleQueue() for _ in range(workers)]
            for k, inbox in enumerate(_inboxes[key]):
                name = f"mtl-task-{workers}-{k}"
                threading.Thread(target=_serve, args=(inbox,), name=name, daemon=True).start()
        return _inboxes[key]


def _serve(inbox: queue.SimpleQueue) -> None:
    while True:
        k, run, done = inbox.get()
        try:
            done.put((k, run(k)))
        except BaseException as error:  # handed to the caller, which raises it
            done.put((k, error))
