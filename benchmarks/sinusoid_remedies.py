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
iterations for equal FLOPs).

    python benchmarks/sinusoid_remedies.py clip 0 48000 --out results/remedies/

Writes ``remedy_<name>_<seed>_<iterations>.json`` and prints one line per run.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import torch
from torch import nn

from mtl_tutorial import MAML, MLP, SinusoidTasks
from mtl_tutorial.evaluation import diverged_tasks, query_mse
from mtl_tutorial.evaluation.sharpness import support_sharpness
from mtl_tutorial.experiments.environment import run_environment
from mtl_tutorial.training import seed_everything

STEPS = (1, 5, 10)


class ClippedMAML(MAML):
    """MAML whose meta-gradient's norm is clipped at ``max_norm`` before each Adam step."""

    max_norm = 1.0

    def training_step(self, episode):
        loss = self.training_loss(episode.to(self.device))
        self.optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.max_norm)
        self.optimizer.step()
        return loss.item()


def build(remedy: str, seed: int) -> MAML:
    seed_everything(seed)
    model = MLP()
    if remedy == "reference_init":
        for m in model.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.01, a=-0.02, b=0.02)
                nn.init.zeros_(m.bias)
    if remedy.startswith("clip"):
        ClippedMAML.max_norm = float(remedy[4:] or 1.0)
        return ClippedMAML(model, compile=True)
    if remedy.startswith("msl"):
        return MAML(model, compile=True, inner_steps=int(remedy[3:]), multi_step_loss=True)
    return MAML(model, compile=True)


def summary(scores: torch.Tensor, before: torch.Tensor) -> dict:
    finite = torch.isfinite(scores)
    values = torch.nan_to_num(scores.double(), nan=float("inf"), posinf=float("inf"))
    return {"mean": values.mean().item() if finite.all() else None, "median": values.median().item(),
            "diverged": int(diverged_tasks(scores, before).sum())}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("remedy")
    parser.add_argument("seed", type=int)
    parser.add_argument("iterations", type=int)
    parser.add_argument("--out", default="results/remedies")
    args = parser.parse_args()
    torch.set_num_threads(1)
    learner = build(args.remedy, args.seed)
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
        if args.remedy == "best_val":
            v = query_mse(learner, validation, steps=(10,))[0]
            score = v.mean().item() if torch.isfinite(v).all() else float("inf")
            if score < best["score"]:
                best.update(score=score, state=copy.deepcopy(learner.model.state_dict()), iteration=done)

    def callback(done: int) -> None:
        if done % max(1, args.iterations // 24) == 0:
            measure(done)

    started = time.perf_counter()
    learner.fit(SinusoidTasks(), iterations=args.iterations, seed=args.seed, progress=False,
                callback=callback)  # fmt: skip
    seconds = time.perf_counter() - started
    if best["state"] is not None:
        learner.model.load_state_dict(best["state"])
    final = {}
    for ts, test in test_sets.items():
        mse = query_mse(learner, test, steps=(0, *STEPS))
        final[ts] = {s: summary(mse[i + 1], mse[0]) for i, s in enumerate(STEPS)}
    sharp = support_sharpness(learner.model, test_sets[2017])
    out = {"remedy": args.remedy, "seed": args.seed, "iterations": args.iterations, "seconds": seconds,
           "best_iteration": best["iteration"], "final": final, "trace": trace,
           "final_sharpness": sharp.tolist(), "environment": run_environment(compiled=["maml"])}  # fmt: skip
    Path(args.out).mkdir(parents=True, exist_ok=True)
    path = Path(args.out) / f"remedy_{args.remedy}_{args.seed}_{args.iterations}.json"
    path.write_text(json.dumps(out))
    def cell(r: dict) -> tuple:
        return (None if r["mean"] is None else round(r["mean"], 3), r["diverged"])

    cells = {ts: {s: cell(r) for s, r in f.items()} for ts, f in final.items()}
    print(args.remedy, args.seed, args.iterations, cells, f"{seconds:.0f} s", flush=True)


if __name__ == "__main__":
    main()
