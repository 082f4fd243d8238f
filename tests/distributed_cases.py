"""The training runs that tests/test_distributed.py compares between one process and two.

Each case trains one learner from the same seeded start for a few steps on meta-batches of
:data:`META_BATCH`; :func:`train_case` is called both in the test process (the reference) and by
``distributed_worker.py`` in each of two ``torchrun`` processes, where ``fit`` splits every
meta-batch between them.
"""

from __future__ import annotations

import torch
from test_checkpoints import ALL_LEARNERS, IMAGES, SINE

from mtl_tutorial import MAML, MLP, Checkpointing, seed_everything
from mtl_tutorial.models import Conv4

from helpers import flat_params

META_BATCH = 4
ITERATIONS = 3

#: name -> (make the learner, its tasks, the attribute holding the weights that training changes)
CASES = {
    "MAML, second order": (lambda: MAML(MLP(hidden=(16,))), SINE, "model"),
    "MAML, second order, Conv-4": (
        lambda: MAML(Conv4(channels=4, num_classes=3, image_size=16), inner_lr=0.4),
        IMAGES,
        "model",
    ),
    **{cls.__name__: entry for cls, entry in ALL_LEARNERS.items() if entry},
}


def train_case(name: str, *, iterations: int = ITERATIONS, meta_batch_size: int = META_BATCH,
               checkpointing: Checkpointing | None = None, stop_after: int | None = None,
               progress: bool = False):  # fmt: skip
    """The case's weights after training (flattened), its losses and the learner, in float64.

    Float64 because Adam divides each gradient by its own running size: a weight whose gradient
    is zero in exact arithmetic (ProtoNet's last bias, which shifts every embedding alike) moves
    by the sign of its rounding noise, which in float32 is the size of a step and differs between
    one sum over 4 tasks and two sums over 2; in float64 the noise is far below Adam's epsilon.
    """
    make, tasks, weights = CASES[name]
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return _train(make, tasks, weights, iterations, meta_batch_size, checkpointing, stop_after, progress)
    finally:
        torch.set_default_dtype(previous)


def _train(make, tasks, weights, iterations, meta_batch_size, checkpointing, stop_after, progress):
    seed_everything(0)
    learner = make()

    def stop(done: int) -> None:
        if done == stop_after:
            raise KeyboardInterrupt  # killed after this step

    losses = learner.fit(tasks, iterations=iterations, meta_batch_size=meta_batch_size, seed=1,
                         progress=progress, checkpointing=checkpointing, callback=stop)  # fmt: skip
    return flat_params(getattr(learner, weights)), torch.tensor(losses, dtype=torch.float64), learner
