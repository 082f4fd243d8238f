"""Run by tests/test_distributed.py as ``torchrun --nproc-per-node 2 distributed_worker.py OUT``.

Each of the two processes trains every case of ``distributed_cases`` (splitting each meta-batch
with the other), then a run killed after 5 of 6 steps and resumed from its checkpoint, then asks
for a meta-batch of 3, then trains with a progress bar; rank 0 writes what came out to
``OUT/results.pt``, and every process its progress output to ``OUT/rank<r>.txt``.
"""

from __future__ import annotations

import sys
from contextlib import redirect_stderr
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))

from distributed_cases import CASES, ITERATIONS, train_case  # noqa: E402

from mtl_tutorial import Checkpointing, distributed  # noqa: E402
from mtl_tutorial.learner import trainable_parameters  # noqa: E402


def main(out: Path) -> None:
    assert distributed.init_from_environment("cpu")
    rank, size = distributed.world()
    results: dict = {"world": size, "trained": {}, "communicated": {}}
    with open(out / f"rank{rank}.txt", "w") as log, redirect_stderr(log):
        for name in CASES:
            before = distributed.communicated()
            weights, losses, learner = train_case(name)
            sent = {k: v - before[k] for k, v in distributed.communicated().items()}
            trainer = getattr(learner, "pretrained", learner)  # image baselines fit their pretraining
            per_step = distributed.bytes_per_step(trainable_parameters(trainer.trainable_modules()))
            results["trained"][name] = (weights, losses)
            results["communicated"][name] = {**sent, "expected_bytes": ITERATIONS * per_step}
        checkpointing = Checkpointing(out / "run.pt", every=2)
        try:
            train_case("MAML, second order", iterations=6, checkpointing=checkpointing, stop_after=5)
        except KeyboardInterrupt:
            pass
        results["checkpoint_step"] = torch.load(out / "run.pt", weights_only=True)["step"]
        results["resumed"] = train_case("MAML, second order", iterations=6, checkpointing=checkpointing)[:2]
        try:
            train_case("MAML, second order", meta_batch_size=3)
        except ValueError as error:
            results["indivisible"] = str(error)
        train_case("MAML, second order", iterations=2, progress=True)  # a bar on rank 0 only
    if rank == 0:
        torch.save(results, out / "results.pt")
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
