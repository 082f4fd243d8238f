"""Meta-training throughput and memory of MAML: our vectorised learner against a per-task loop
and the ``higher`` library, on the MAML paper's sinusoid set-up.

Set-up: 1–40–40–1 ReLU MLP, meta-batch 25, K = 10 support and 10 query points, inner step 0.01,
Adam 1e-3, 2 CPU threads. Each method performs whole meta-training iterations (meta-gradient and
Adam step) on the same pre-sampled batches; before timing, the script checks that all of them
compute the same meta-gradient. ``vectorised_compiled`` is our MAML with ``compile=True``; its
one-off compilation is timed separately. Peak memory of one iteration is measured for 1, 5 and
10 inner steps, second and first order, with :func:`mtl_tutorial.evaluation.peak_tensor_memory`
(tensor storage alive at the worst moment; ``torch.cuda.max_memory_allocated`` on a GPU).

    python benchmarks/meta_throughput.py --json results.json

``higher`` is optional (``pip install higher``); without it its rows are skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from mtl_tutorial import MAML, MLP, SinusoidTasks
from mtl_tutorial.evaluation import peak_tensor_memory

try:
    import higher
except ImportError:  # optional
    higher = None

META_BATCH, INNER_LR, OUTER_LR = 25, 0.01, 1e-3


def batches(count: int, seed: int = 0):
    tasks = SinusoidTasks(support_size=10, query_size=10)
    generator = torch.Generator().manual_seed(seed)
    return [tasks.sample(META_BATCH, generator=generator) for _ in range(count)]


# -- the three implementations: each returns (one whole meta-training iteration, its outer optimiser) --


def vectorised(model: torch.nn.Module, steps: int, first_order: bool, compile: bool = False) -> Callable:
    maml = MAML(
        model,
        inner_lr=INNER_LR,
        inner_steps=steps,
        first_order=first_order,
        outer_lr=OUTER_LR,
        compile=compile,
    )

    def iteration(episode):
        loss = maml.meta_loss(episode)
        maml.optimizer.zero_grad()
        loss.backward()
        maml.optimizer.step()

    return iteration, maml.optimizer


def mlp_forward(weights: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The MLP written out by hand, for the plain autograd loop."""
    w1, b1, w2, b2, w3, b3 = weights
    return F.linear(F.relu(F.linear(F.relu(F.linear(x, w1, b1)), w2, b2)), w3, b3)


def per_task_loop(model: torch.nn.Module, steps: int, first_order: bool) -> Callable:
    optimizer = torch.optim.Adam(model.parameters(), lr=OUTER_LR)

    def iteration(episode):
        params = list(model.parameters())
        total = 0.0
        for t in range(episode.num_tasks):
            fast = params
            for _ in range(steps):
                loss = F.mse_loss(mlp_forward(fast, episode.support_x[t]), episode.support_y[t])
                grads = torch.autograd.grad(loss, fast, create_graph=not first_order)
                fast = [p - INNER_LR * g for p, g in zip(fast, grads, strict=True)]
            total = total + F.mse_loss(mlp_forward(fast, episode.query_x[t]), episode.query_y[t])
        optimizer.zero_grad()
        (total / episode.num_tasks).backward()
        optimizer.step()

    return iteration, optimizer


def with_higher(model: torch.nn.Module, steps: int, first_order: bool) -> Callable:
    optimizer = torch.optim.Adam(model.parameters(), lr=OUTER_LR)
    inner = torch.optim.SGD(model.parameters(), lr=INNER_LR)

    def iteration(episode):
        optimizer.zero_grad()
        for t in range(episode.num_tasks):
            with higher.innerloop_ctx(
                model, inner, copy_initial_weights=False, track_higher_grads=not first_order
            ) as (fmodel, diffopt):
                for _ in range(steps):
                    diffopt.step(F.mse_loss(fmodel(episode.support_x[t]), episode.support_y[t]))
                (F.mse_loss(fmodel(episode.query_x[t]), episode.query_y[t]) / episode.num_tasks).backward()
        optimizer.step()

    return iteration, optimizer


def vectorised_compiled(model: torch.nn.Module, steps: int, first_order: bool) -> Callable:
    """Our MAML with ``compile=True``: the same computation through ``torch.compile``."""
    return vectorised(model, steps, first_order, compile=True)


METHODS = {
    "vectorised": vectorised,
    "vectorised_compiled": vectorised_compiled,
    "per_task_loop": per_task_loop,
}
if higher is not None:
    METHODS["higher"] = with_higher


def fresh_model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return MLP()


def meta_gradient(method: str, episode, steps: int = 1) -> torch.Tensor:
    """The meta-gradient a method computes (its optimiser step is skipped by a zero lr)."""
    model = fresh_model()
    iteration, optimizer = METHODS[method](model, steps, first_order=False)
    for group in optimizer.param_groups:
        group["lr"] = 0.0
    iteration(episode)
    return torch.cat([p.grad.flatten() for p in model.parameters()])


def throughput(method: str, episodes, seconds: float) -> tuple[float, float]:
    """Iterations per second over at least ``seconds`` of timed work, after a warm-up of five
    iterations; and the warm-up's duration (which holds ``torch.compile``'s compilation)."""
    iteration, _ = METHODS[method](fresh_model(), 1, first_order=False)
    started = time.perf_counter()
    for episode in episodes[:5]:
        iteration(episode)
    warmup = time.perf_counter() - started
    done, started = 0, time.perf_counter()
    while True:
        iteration(episodes[done % len(episodes)])
        done += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds and done >= 10:
            return done / elapsed, warmup


def peak_memory(method: str, steps: int, first_order: bool, device: str) -> float:
    """Peak tensor memory (MiB) of one meta-training iteration, after a warm-up iteration."""
    model = fresh_model().to(device)
    episode = batches(1, seed=1)[0].to(device)
    iteration, _ = METHODS[method](model, steps, first_order)
    iteration(episode)
    return peak_tensor_memory(lambda: iteration(episode)) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--seconds", type=float, default=5.0, help="timed seconds per method (default 5)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument(
        "--memory-probe", nargs=3, metavar=("METHOD", "STEPS", "ORDER"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    episodes = batches(20)
    started = time.perf_counter()
    meta_gradient("vectorised_compiled", episodes[0])  # the first call compiles
    compile_seconds = time.perf_counter() - started
    print(f"torch.compile of our MAML: {compile_seconds:.1f} s (first call, including the meta-gradient)")
    reference = meta_gradient("vectorised", episodes[0])
    gradient_difference = {
        method: ((meta_gradient(method, episodes[0]) - reference).abs().max() / reference.abs().max()).item()
        for method in METHODS
        if method != "vectorised"
    }
    for method, difference in gradient_difference.items():
        print(f"meta-gradient, {method} against vectorised: largest relative difference {difference:.2e}")
        if difference > 1e-5:
            sys.exit(f"{method} computes a different meta-gradient (relative difference {difference:.2e})")

    speed, warmup = {}, {}
    for method in METHODS:
        speed[method], warmup[method] = throughput(method, episodes, args.seconds)
        print(f"{method:>19}: {speed[method]:8.1f} iterations/s (warm-up: {warmup[method]:.1f} s)")
    ratios = {
        f"{ours}_over_{m}": speed[ours] / speed[m]
        for ours in ("vectorised", "vectorised_compiled")
        for m in METHODS
        if not m.startswith("vectorised")
    }
    for name, ratio in ratios.items():
        print(f"{name}: {ratio:.1f}x")

    memory = []
    device = "cuda" if torch.cuda.is_available() else "cpu"
    for method in METHODS:
        if method == "vectorised_compiled":
            continue  # the same computation as "vectorised"
        for order in ("second", "first"):
            for steps in (1, 5, 10):
                mib = peak_memory(method, steps, order == "first", device)
                memory.append(
                    {"method": method, "order": order, "inner_steps": steps, "peak_mib": round(mib, 3)}
                )
                print(f"peak memory {method:>14} {order:>6} order, {steps:>2} inner steps: {mib:7.3f} MiB")

    results = {
        "setup": {
            "model": "MLP 1-40-40-1",
            "meta_batch": META_BATCH,
            "shots": 10,
            "inner_steps": 1,
            "order": "second",
            "threads": args.threads,
            "device": "cuda" if torch.cuda.is_available() else "cpu",
            "torch": torch.__version__,
            "higher": getattr(higher, "__version__", "installed") if higher is not None else None,
        },
        "iterations_per_second": speed,
        "warmup_seconds": warmup,
        "compile_seconds": compile_seconds,
        "speedup": ratios,
        "largest_relative_gradient_difference": gradient_difference,
        "peak_memory": memory,
    }
    if args.json:
        with open(args.json, "w") as file:
            json.dump(results, file, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
