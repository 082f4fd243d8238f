"""Remedies for MAML's blow-ups at 5 and 10 fine-tuning steps on the sinusoid reproduction.

One run = one remedy and one training seed: MAML on the paper's sinusoids (1-40-40-1 MLP, inner
step 0.01, meta-batch 25, compiled), measured every 1/24 of training on the 600 test tasks of
``mtl-tutorial reproduce sinusoid`` (seed 2017): the support-loss sharpness
(:func:`mtl_tutorial.evaluation.sharpness.support_sharpness`) against 2/alpha = 200 and the query
MSE after 1, 5, 10 steps; at the end, also on test tasks of seeds 1 and 2.

Remedies: ``default`` (the paper's set-up); ``reference_init`` (the MAML authors' released
initialisation: weights N(0, 0.01) truncated at two standard deviations, zero biases);
``clip`` / ``clip0.5`` (outer-gradient norm clipped at 1 / 0.5); ``best_val`` (keep the
meta-iterate with the lowest mean 10-step MSE on 200 validation tasks, seed 99); ``msl2`` /
``msl5`` (MAML++'s multi-step loss over 2 / 5 inner steps; give them 1/2 or 1/5 of the
iterations for equal FLOPs); ``msl5w0.5`` (the same, the first step's loss weighing 0.5 and the
other four sharing the rest); ``k5`` (training tasks with 5 support points, as at test time).
Parts combine with ``+``: ``msl5w0.5+clip``.

    python benchmarks/sinusoid_remedies.py clip 0 48000 --out results/remedies/

    python benchmarks/sinusoid_remedies.py --summarise results/remedies/ --json summary.json

Writes ``remedy_<name>_<seed>_<iterations>.json`` (the trace, the final per-task errors, the
per-task sharpness at the start and after 1, 2, 3, 5 fine-tuning steps) and ``.pt`` (the model's
final weights), and prints one line per run.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import time
from pathlib import Path

import torch
from torch import nn

from mtl_tutorial import ANIL, MAML, MLP, MetaSGD, SinusoidTasks
from mtl_tutorial.evaluation import diverged_tasks, query_mse
from mtl_tutorial.evaluation.sharpness import support_sharpness
from mtl_tutorial.experiments.environment import run_environment
from mtl_tutorial.experiments.trends import flops_per_iteration
from mtl_tutorial.training import seed_everything

STEPS = (1, 5, 10)
PATH_STEPS = (1, 2, 3, 5)  # fine-tuning steps after which the sharpness is measured again


class ClippedStep:
    """Mixin: the meta-gradient's norm is clipped at ``max_norm`` before each Adam step."""

    max_norm = 1.0

    def training_step(self, episode, *, iteration=0, iterations=1):
        loss = self.training_loss(episode.to(self.device))
        self.optimizer.zero_grad()
        loss.backward()
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        torch.nn.utils.clip_grad_norm_(params, self.max_norm)
        self.optimizer.step()
        return loss.item()


class ClippedMAML(ClippedStep, MAML):
    """MAML with its meta-gradient clipped."""


def build(remedy: str, seed: int, compile: bool = True) -> tuple[MAML, SinusoidTasks]:
    """The learner and the training tasks of a remedy: ``default`` or parts joined by ``+``."""
    seed_everything(seed)
    model, kwargs, train_tasks, cls = MLP(), {"compile": compile}, SinusoidTasks(), MAML
    for part in remedy.split("+"):
        if part == "reference_init":
            for m in model.modules():
                if isinstance(m, nn.Linear):
                    nn.init.trunc_normal_(m.weight, std=0.01, a=-0.02, b=0.02)
                    nn.init.zeros_(m.bias)
        elif match := re.fullmatch(r"clip([0-9.]*)", part):
            ClippedStep.max_norm = float(match[1] or 1.0)
        elif match := re.fullmatch(r"lr([0-9.]+)", part):  # the inner step size, training and test
            kwargs["inner_lr"] = float(match[1])
        elif match := re.fullmatch(r"olr([0-9.]+)", part):  # Adam's rate in the outer loop
            kwargs["outer_lr"] = float(match[1])
        elif match := re.fullmatch(r"rlr([0-9.e-]+)", part):  # Meta-SGD: Adam's rate for the step sizes
            kwargs["rates_lr"] = float(match[1])
        elif match := re.fullmatch(r"amax([0-9.e-]+)", part):  # Meta-SGD: step sizes in [0, x]
            kwargs["max_rate"] = float(match[1])
        elif match := re.fullmatch(r"msl(\d+)(?:w([0-9.]+))?", part):
            steps, first = int(match[1]), match[2]
            kwargs["inner_steps"] = steps
            # "msl5w0.5": the first step's loss weighs 0.5, the other steps share the rest
            kwargs["multi_step_loss"] = True if first is None else (
                [float(first)] + [(1 - float(first)) / (steps - 1)] * (steps - 1))  # fmt: skip
        elif match := re.fullmatch(r"k(\d+)", part):  # support points of the training tasks
            train_tasks = SinusoidTasks(support_size=int(match[1]))
        elif part in ("metasgd", "anil"):  # the remedy applied to another learner of the table
            cls = {"metasgd": MetaSGD, "anil": ANIL}[part]
        elif part not in ("default", "best_val"):
            raise ValueError(f"unknown remedy part {part!r}")
    if cls is not MAML:  # as the reproduction trains them: eager
        kwargs["compile"] = False
    if "clip" in remedy:
        cls = ClippedMAML if cls is MAML else type(f"Clipped{cls.__name__}", (ClippedStep, cls), {})
    return cls(model, **kwargs), train_tasks


def summary(scores: torch.Tensor, before: torch.Tensor) -> dict:
    finite = torch.isfinite(scores)
    values = torch.nan_to_num(scores.double(), nan=float("inf"), posinf=float("inf"))
    return {"mean": values.mean().item() if finite.all() else None, "median": values.median().item(),
            "diverged": int(diverged_tasks(scores, before).sum())}  # fmt: skip


def summarise(directories: list[str], out: str) -> None:
    """One row per run, remedy and test-task seed, with the training GFLOPs: the book's table."""
    runs = sorted(
        (json.loads(f.read_text()) for d in directories for f in Path(d).glob("remedy_*.json")),
        key=lambda r: (r["remedy"], r["iterations"], r["seed"]),
    )
    flops: dict[str, int] = {}
    rows = []
    for run in runs:
        if run["remedy"] not in flops:
            learner, tasks = build(run["remedy"], 0, compile=False)
            flops[run["remedy"]] = flops_per_iteration({"it": learner}, tasks)["it"]
        sharp = torch.tensor(run["final_sharpness"]) if run["final_sharpness"] else None
        # checkpoints during training (test seed 2017) at which a task blew up at 5 or 10 steps
        unstable = sum(1 for t in run["trace"] if t["s5"]["diverged"] or t["s10"]["diverged"])
        for test_seed, result in run["final"].items():
            rows.append({
                "remedy": run["remedy"], "seed": run["seed"], "iterations": run["iterations"],
                "train_gflops": round(flops[run["remedy"]] * run["iterations"] / 1e9, 1),
                "test_seed": int(test_seed), "steps": result,
                "sharpness_median": None if sharp is None else round(sharp.median().item(), 1),
                "above_limit": None if sharp is None else int((sharp > 200).sum()),
                "checkpoints": len(run["trace"]), "checkpoints_diverged": unstable,
            })  # fmt: skip
    command = "python benchmarks/sinusoid_remedies.py REMEDY SEED ITERATIONS (one per run)"
    Path(out).write_text(json.dumps({"command": command, "rows": rows}, indent=1))
    print(f"wrote {len(rows)} rows of {len(runs)} runs to {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("remedy", nargs="?")
    parser.add_argument("seed", type=int, nargs="?")
    parser.add_argument("iterations", type=int, nargs="?")
    parser.add_argument("--out", default="results/remedies")
    parser.add_argument("--summarise", nargs="+", metavar="DIR", help="summarise the runs in these folders")
    parser.add_argument("--json", help="with --summarise: the summary's file")
    args = parser.parse_args()
    if args.summarise:
        summarise(args.summarise, args.json or "remedies_summary.json")
        return
    if args.remedy is None or args.seed is None or args.iterations is None:
        parser.error("give REMEDY SEED ITERATIONS, or --summarise DIR ...")
    torch.set_num_threads(1)
    learner, train_tasks = build(args.remedy, args.seed)
    test_tasks = SinusoidTasks(support_size=5, query_size=100)
    test_sets = {ts: test_tasks.sample(600, seed=ts) for ts in (2017, 1, 2)}
    validation = SinusoidTasks(support_size=5, query_size=100).sample(200, seed=99)
    trace, best = [], {"score": float("inf"), "state": None, "iteration": None}

    def measure(done: int) -> None:
        sharp = support_sharpness(learner.model, test_sets[2017])
        mse = query_mse(learner, test_sets[2017], steps=(0, *STEPS))
        trace.append({"iteration": done, "sharpness_median": sharp.median().item(),
                      "sharpness_max": sharp.max().item(), "above_limit": int((sharp > 200).sum()),
                      **{f"s{s}": summary(mse[i + 1], mse[0]) for i, s in enumerate(STEPS)}})  # fmt: skip
        if "best_val" in args.remedy:
            v = query_mse(learner, validation, steps=(10,))[0]
            score = v.mean().item() if torch.isfinite(v).all() else float("inf")
            if score < best["score"]:
                best.update(score=score, state=copy.deepcopy(learner.model.state_dict()), iteration=done)

    def callback(done: int) -> None:
        # the trace's sharpness is MAML's (one scalar step on every weight)
        if type(learner) in (MAML, ClippedMAML) and done % max(1, args.iterations // 24) == 0:
            measure(done)

    started = time.perf_counter()
    learner.fit(train_tasks, iterations=args.iterations, seed=args.seed, progress=False,
                callback=callback)  # fmt: skip
    seconds = time.perf_counter() - started
    if best["state"] is not None:
        learner.model.load_state_dict(best["state"])
    final = {}
    for ts, test in test_sets.items():
        mse = query_mse(learner, test, steps=(0, *STEPS))
        final[ts] = {s: summary(mse[i + 1], mse[0]) for i, s in enumerate(STEPS)}
    is_maml = type(learner) in (MAML, ClippedMAML)
    sharp = support_sharpness(learner.model, test_sets[2017]) if is_maml else torch.zeros(0)
    # along the fine-tuning path: each test task's sharpness after s steps, at its own parameters
    path = {}
    for s in PATH_STEPS if is_maml else ():
        adapted = learner.adapt(test_sets[2017], steps=s)
        path[s] = support_sharpness(learner.model, test_sets[2017], params=adapted, per_task=True).tolist()
    final_mse = query_mse(learner, test_sets[2017], steps=(0, *STEPS))
    out = {"remedy": args.remedy, "seed": args.seed, "iterations": args.iterations, "seconds": seconds,
           "best_iteration": best["iteration"], "final": final, "trace": trace,
           "final_sharpness": sharp.tolist(), "path_sharpness": path,
           "final_mse": {s: final_mse[i].tolist() for i, s in enumerate((0, *STEPS))},
           "environment": run_environment(compiled=learner.compile)}  # fmt: skip
    Path(args.out).mkdir(parents=True, exist_ok=True)
    stem = f"remedy_{args.remedy}_{args.seed}_{args.iterations}"  # remedies hold dots: no with_suffix
    (Path(args.out) / f"{stem}.json").write_text(json.dumps(out))
    torch.save(learner.model.state_dict(), Path(args.out) / f"{stem}.pt")

    def cell(r: dict) -> tuple:
        return (None if r["mean"] is None else round(r["mean"], 3), r["diverged"])

    cells = {ts: {s: cell(r) for s, r in f.items()} for ts, f in final.items()}
    print(args.remedy, args.seed, args.iterations, cells, f"{seconds:.0f} s", flush=True)


if __name__ == "__main__":
    main()
