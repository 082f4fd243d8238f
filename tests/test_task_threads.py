"""Tasks side by side on the CPU's threads (mtl_tutorial.task_threads): the same numbers as one
task after another, in task order, with the caller's modes, never under a transform or a counter
that the other threads would escape, and never on a module whose parameters they would swap."""

import threading

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from mtl_tutorial import ANIL, MAML
from mtl_tutorial.adaptation import map_tasks, runs_in_threads
from mtl_tutorial.evaluation import training_step_cost
from mtl_tutorial.evaluation.memory import StorageTracker
from mtl_tutorial.models import Conv4
from mtl_tutorial.task_threads import ENVIRONMENT_VARIABLE, map_in_threads, task_workers
from mtl_tutorial.tasks import Episode


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


class RecordingConv4(Conv4):
    """A Conv-4 that notes which threads applied it."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.threads: set[str] = set()

    def functional_forward(self, params, x):
        self.threads.add(threading.current_thread().name)
        return super().functional_forward(params, x)


def image_episode(tasks: int = 4, shots: int = 1, seed: int = 0) -> Episode:
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(3).repeat_interleave(shots).repeat(tasks, 1)
    query_labels = torch.arange(3).repeat_interleave(2).repeat(tasks, 1)
    return Episode(
        torch.randn(tasks, 3 * shots, 1, 28, 28, generator=generator),
        labels,
        torch.randn(tasks, 6, 1, 28, 28, generator=generator),
        query_labels,
    )


def meta_gradient(learner: MAML, episode: Episode) -> torch.Tensor:
    learner.optimizer.zero_grad()
    learner.training_computation(episode)
    return torch.cat([p.grad.flatten() for p in learner.model.parameters()])


def test_results_come_back_in_task_order_from_several_threads(two_threads):
    names = map_in_threads(lambda i: (i, threading.current_thread().name), 6, workers=2)
    assert [i for i, _ in names] == list(range(6))
    assert len({name for _, name in names}) == 2  # each task thread took its share
    assert torch.get_num_threads() == 2  # the caller's thread count is restored


def test_an_exception_in_a_task_reaches_the_caller(two_threads):
    def fail_on_two(i):
        if i == 2:
            raise ValueError("task 2")
        return i

    with pytest.raises(ValueError, match="task 2"):
        map_in_threads(fail_on_two, 4, workers=2)
    assert torch.get_num_threads() == 2


def test_the_threads_inherit_the_callers_gradient_and_inference_modes(two_threads):
    w = torch.ones(3, requires_grad=True)
    with torch.no_grad():
        assert not any(map_in_threads(lambda i: (w * i).requires_grad, 4, workers=2))
    with torch.inference_mode():
        assert all(map_in_threads(lambda i: torch.is_inference_mode_enabled(), 4, workers=2))
    assert all(map_in_threads(lambda i: (w * i).requires_grad, 4, workers=2))


def test_workers_one_per_task_up_to_the_threads_and_the_cap(two_threads, monkeypatch):
    assert task_workers(4) == 2
    assert task_workers(1) == 1
    assert task_workers(4, "cuda") == 1  # one task's kernels fill an accelerator
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "1")
    assert task_workers(4) == 1
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv(ENVIRONMENT_VARIABLE, bad)
        expected = f"{ENVIRONMENT_VARIABLE} must be a whole number >= 1, got '{bad}'"
        with pytest.raises(ValueError, match=expected):
            task_workers(4)


def test_no_threads_where_they_would_escape_the_callers_transform_or_counter(two_threads):
    with FlopCounterMode(display=False):
        assert task_workers(4) == 1
    with StorageTracker():
        assert task_workers(4) == 1
    seen = []

    def inside_vmap(x):
        seen.append(task_workers(4))
        return x

    torch.vmap(inside_vmap)(torch.ones(2, 3))
    assert seen == [1]
    assert map_in_threads(lambda i: task_workers(4), 2, workers=2) == [1, 1]  # nested: no more threads


def test_only_models_with_a_functional_forward_run_in_threads():
    assert runs_in_threads(Conv4())
    assert not runs_in_threads(torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3)))


@pytest.mark.parametrize("learner_class, first_order", [(MAML, False), (MAML, True), (ANIL, False)])
def test_training_in_threads_gives_the_meta_gradient_of_one_task_after_another(
    two_threads, monkeypatch, learner_class, first_order
):
    episode = image_episode()
    gradients, threads = {}, {}
    for mode in ("1", ""):  # one task after another, then side by side
        monkeypatch.setenv(ENVIRONMENT_VARIABLE, mode)
        torch.manual_seed(0)
        model = RecordingConv4(channels=8, num_classes=3)
        kwargs = {} if learner_class is ANIL else {"first_order": first_order}
        learner = learner_class(model, inner_lr=0.4, **kwargs)
        gradients[mode] = meta_gradient(learner, episode)
        threads[mode] = model.threads
        # the module keeps its own parameters: no thread left its adapted weights in it
        assert all(p.is_leaf for p in model.parameters())
    assert threads["1"] == {threading.current_thread().name}
    assert len(threads[""]) == 2 and threading.current_thread().name not in threads[""]
    scale = gradients["1"].abs().max()
    assert (gradients[""] - gradients["1"]).abs().max() <= 1e-5 * scale  # rounding of 1 vs 2 threads
    assert gradients[""].abs().max() > 0


def per_thread_setting(monkeypatch, compute):
    """``compute(learner)`` for a fresh small-Conv-4 MAML, with the tasks one after another
    (``"1"``) and side by side (``""``)."""
    results = {}
    for mode in ("1", ""):
        monkeypatch.setenv(ENVIRONMENT_VARIABLE, mode)
        torch.manual_seed(0)
        results[mode] = compute(MAML(Conv4(channels=8, num_classes=3), inner_lr=0.4, adapt_steps=2))
    return results


def test_adaptation_and_prediction_in_threads_match_one_task_after_another(two_threads, monkeypatch):
    episode = image_episode()
    predictions = per_thread_setting(monkeypatch, lambda m: m.predict(m.adapt(episode), episode.query_x))
    assert torch.allclose(predictions[""], predictions["1"], atol=1e-5, rtol=1e-5)


def test_counted_flops_are_those_of_one_thread(two_threads, monkeypatch):
    """training_step_cost counts under a dispatch mode: the tasks must not leave its thread."""
    episode = image_episode()
    counts = per_thread_setting(monkeypatch, lambda m: training_step_cost(m, episode))
    assert counts[""] == counts["1"]


def test_map_tasks_with_threads_stacks_what_the_loop_stacks(two_threads):
    x = torch.randn(4, 5)
    looped = map_tasks(lambda row: {"double": 2 * row}, x, loop=True)
    threaded = map_tasks(lambda row: {"double": 2 * row}, x, loop=True, threads=True)
    assert torch.equal(looped["double"], threaded["double"])
