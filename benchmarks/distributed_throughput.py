"""Data-parallel meta-training throughput: one process against two ``torchrun`` processes.

For each set-up (second-order MAML on the sinusoid MLP, second-order MAML and ProtoNet on the
glyph Conv-4), the same meta-batches are trained for ``--iterations`` outer steps:

- by one process with 1 thread and with 2 threads (``torch.set_num_threads``);
- by two processes under ``torchrun`` with 1 thread each, each taking half of every meta-batch
  and averaging gradients with ``all_reduce`` (gloo).

It reports meta-iterations per second (wall clock, after a warm-up of 3 steps, best of
``--repeats``) and the bytes each process handed to ``all_reduce`` per step (counted by
:func:`mtl_tutorial.distributed.communicated`, beside :func:`~mtl_tutorial.distributed.bytes_per_step`).
Seconds depend on the machine and its load: they are shown, never asserted.

    python benchmarks/distributed_throughput.py --json benchmarks/results/distributed_throughput.json

Internally the script re-runs itself under ``torchrun`` with ``--worker``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from mtl_tutorial import MAML, MLP, ProtoNet, SinusoidTasks, distributed
from mtl_tutorial.learner import trainable_parameters
from mtl_tutorial.models import Conv4
from mtl_tutorial.tasks import FewShotTasks, load_glyphs
from mtl_tutorial.training import seed_everything

SETUPS = {
    "maml_sinusoid": "second-order MAML, 1-40-40-1 MLP, sinusoids K=10, meta-batch 24",
    "maml_glyphs": "second-order MAML, Conv-4 (32 channels), 5-way 1-shot glyphs, 15 queries, meta-batch 8",
    "protonet_glyphs": "ProtoNet, Conv-4 (32 channels), 5-way 5-shot glyphs, 15 queries, meta-batch 8",
}
WARMUP = 3


def make(setup: str):
    seed_everything(0)
    if setup == "maml_sinusoid":
        return MAML(MLP(hidden=(40, 40))), SinusoidTasks(support_size=10, query_size=10), 24
    glyphs = load_glyphs().split("train")
    if setup == "maml_glyphs":
        tasks = FewShotTasks(glyphs, ways=5, shots=1, queries=15)
        return MAML(Conv4(channels=32, num_classes=5), inner_lr=0.4), tasks, 8
    tasks = FewShotTasks(glyphs, ways=5, shots=5, queries=15)
    return ProtoNet(Conv4(channels=32)), tasks, 8


def measure(setup: str, iterations: int, repeats: int) -> dict:
    """Iterations per second of this process's (or process group's) training of ``setup``."""
    learner, tasks, meta_batch = make(setup)
    learner.fit(tasks, iterations=WARMUP, meta_batch_size=meta_batch, seed=1, progress=False)
    best = 0.0
    before = distributed.communicated()
    for r in range(repeats):
        distributed.barrier()
        started = time.perf_counter()
        learner.fit(tasks, iterations=iterations, meta_batch_size=meta_batch, seed=2 + r, progress=False)
        distributed.barrier()
        best = max(best, iterations / (time.perf_counter() - started))
    sent = distributed.communicated()["bytes"] - before["bytes"]
    return {
        "iterations_per_second": round(best, 3),
        "bytes_per_step_measured": sent // (repeats * iterations),
        "bytes_per_step": distributed.bytes_per_step(trainable_parameters(learner.trainable_modules())),
        "meta_batch": meta_batch,
    }


def worker(setups: list[str], iterations: int, repeats: int, out: Path) -> None:
    distributed.init_from_environment("cpu")
    torch.set_num_threads(1)
    results = {s: measure(s, iterations, repeats) for s in setups}
    if distributed.is_main_process():
        out.write_text(json.dumps(results))
    if distributed.world()[1] > 1:
        torch.distributed.destroy_process_group()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setups", nargs="+", default=list(SETUPS), choices=list(SETUPS))
    parser.add_argument("--iterations", type=int, default=20, help="timed steps per repeat (default 20)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats, the best kept (default 3)")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.setups, args.iterations, args.repeats, Path(args.worker))
        return
    rows = []
    for setup in args.setups:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            rows.append({"setup": setup, "processes": 1, "threads_each": threads,
                         **measure(setup, args.iterations, args.repeats)})  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "two.json"
        command = distributed.torchrun_command(2, __file__, "--worker", str(out), "--iterations",
                                               str(args.iterations), "--repeats", str(args.repeats),
                                               "--setups", *args.setups)  # fmt: skip
        subprocess.run(command, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        two = json.loads(out.read_text())
    rows += [{"setup": s, "processes": 2, "threads_each": 1, **two[s]} for s in args.setups]
    print(f"{'setup':<16} {'processes':>9} {'threads':>7} {'it/s':>8} {'bytes/step':>11} {'sent':>9}")
    for r in rows:
        print(f"{r['setup']:<16} {r['processes']:>9} {r['threads_each']:>7} "
              f"{r['iterations_per_second']:>8.2f} {r['bytes_per_step']:>11,} "
              f"{r['bytes_per_step_measured']:>9,}")  # fmt: skip
    if args.json:
        import platform

        report = {
            "setups": SETUPS,
            "command": "python benchmarks/distributed_throughput.py " + " ".join(sys.argv[1:]),
            "machine": {"cpu_count": os.cpu_count(), "torch": torch.__version__,
                        "platform": platform.platform()},  # fmt: skip
            "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                     text=True).stdout.strip(),  # fmt: skip
            "date": time.strftime("%Y-%m-%d"),
            "rows": rows,
        }
        Path(args.json).write_text(json.dumps(report, indent=1))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
