"""MAML on the glyphs within a CPU budget: how the settings of the recipe ``glyph_maml`` were chosen,
and how it does over training seeds.

Two modes, both 5-way 1-shot on the test scripts, scored on the field's protocol (600 fixed
episodes, seed 2017, 15 queries per class) after 1, 3 (and 5) adaptation steps:

- ``--seeds 0 1 2``: the recipe ``glyph_maml`` exactly (its settings, 1,500 iterations), once per
  training seed; prints the accuracy and the CPU-seconds the training took.
- ``--cpu-seconds 600 --method maml --queries 15 --meta-batch 4``: a probe of other settings, as
  long as a CPU budget lasts, with validation-script accuracy every fifth of it (100 fixed
  episodes, seed 1).

Runs on one CPU thread; CPU-seconds are process time (``time.process_time``), for display.

    OMP_NUM_THREADS=1 python benchmarks/glyph_maml.py --seeds 0 1 2 --json glyph_maml_seeds.json
    OMP_NUM_THREADS=1 python benchmarks/glyph_maml.py --cpu-seconds 600 --method fomaml
"""

from __future__ import annotations

import argparse
import json

import torch

from mtl_tutorial.evaluation import episode_accuracy, mean_ci
from mtl_tutorial.recipes.catalogue import RECIPES
from mtl_tutorial.registry import glyph_learner
from mtl_tutorial.tasks import FewShotTasks, load_glyphs
from mtl_tutorial.training import seed_everything

STEPS = (1, 3, 5)


def test_accuracy(learner) -> list:
    test = FewShotTasks(load_glyphs().split("test"), ways=5, shots=1, queries=15)
    accuracy = episode_accuracy(learner, test, test.fixed_episodes(600, seed=2017), batch_size=5, steps=STEPS)
    return [mean_ci(a) for a in accuracy]


def recipe_seed(seed: int) -> dict:
    recipe = RECIPES["glyph_maml"]
    settings = {**recipe.settings, "seed": seed}
    learner = recipe.build(settings, "cpu")
    recipe.fit(learner, settings, False)
    return {"seed": seed, "iterations": len(learner.losses), "train_cpu_seconds": learner.train_seconds,
            "test": {s: str(m) for s, m in zip(STEPS, test_accuracy(learner), strict=True)}}  # fmt: skip


def probe(args: argparse.Namespace) -> dict:
    glyphs = load_glyphs()
    train = FewShotTasks(glyphs.split("train"), ways=5, shots=1, queries=args.queries)
    val = FewShotTasks(glyphs.split("val"), ways=5, shots=1, queries=15)
    val_episodes = val.fixed_episodes(100, seed=1)
    seed_everything(0)
    # inner step 0.4, one step
    options = {} if args.outer_lr is None else {"outer_lr": args.outer_lr}
    learner = glyph_learner(args.method, channels=args.channels, **options)
    trace, spent, done = [], 0.0, 0
    for part in range(5):
        learner.fit(train, iterations=10**9, meta_batch_size=args.meta_batch, seed=part, progress=False,
                    max_seconds=args.cpu_seconds / 5)  # fmt: skip
        spent, done = spent + learner.train_seconds, done + len(learner.losses)
        accuracy = episode_accuracy(learner, val, val_episodes, batch_size=2, steps=STEPS)
        trace.append({"cpu_seconds": round(spent), "iterations": done,
                      "validation": [round(a.mean().item(), 3) for a in accuracy]})  # fmt: skip
        print(trace[-1], flush=True)
    return {"settings": vars(args), "trace": trace,
            "test": {s: str(m) for s, m in zip(STEPS, test_accuracy(learner), strict=True)}}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", help="train the recipe glyph_maml with these seeds")
    parser.add_argument("--cpu-seconds", type=float, default=600.0, help="the probe's budget")
    parser.add_argument("--method", default="maml", choices=("maml", "fomaml", "anil"))
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--queries", type=int, default=15, help="query images per class in training")
    parser.add_argument("--meta-batch", type=int, default=4)
    parser.add_argument("--outer-lr", type=float, help="the outer step size (default the learner's own)")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = [recipe_seed(s) for s in args.seeds] if args.seeds else probe(args)
    print(json.dumps(results, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
