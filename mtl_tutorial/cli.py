"""The ``mtl-tutorial`` command: the book's experiments at full scale, from a terminal.

mtl-tutorial reproduce sinusoid --json results.json
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import os
import re
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch


def _sinusoid(args: argparse.Namespace) -> int:
    from .experiments.environment import run_environment
    from .experiments.sinusoid import METHODS, SinusoidBudget, reproduce_sinusoid

    methods = args.methods.split(",") if args.methods else list(METHODS)
    budget = SinusoidBudget.paper() if args.paper_budget else SinusoidBudget()
    if args.scale != 1.0:
        budget = budget.scaled(args.scale)
    steps = (1, 5, 10)
    test_seeds = list(dict.fromkeys(args.test_seed))
    rows, per_task = reproduce_sinusoid(
        methods, budget=budget, steps=steps, test_tasks=args.test_tasks, seed=args.seed,
        test_seed=test_seeds[0], more_test_seeds=test_seeds[1:], device=args.device,
        compile=not args.eager, setup=args.setup, progress=args.progress,
    )  # fmt: skip
    for test_seed in test_seeds:
        mine = [r for r in rows if r["test_seed"] == test_seed]
        _print_sinusoid_table(mine, methods, steps, args, test_seed)

    if args.json:
        compiled = sorted({r["method"] for r in rows if r["compiled"]})
        report = {
            "command": args.command_line,
            "settings": {"seed": args.seed, "test_seed": test_seeds[0], "test_seeds": test_seeds,
                         "test_tasks": args.test_tasks,
                         "shots": 5, "steps": list(steps), "iterations": budget.iterations,
                         "setup": args.setup},
            "environment": run_environment(device=args.device, compiled=compiled),
            "rows": rows,
        }  # fmt: skip
        Path(args.json).write_text(json.dumps(report, indent=2))
        print(f"wrote {args.json}")
    if args.figure:  # the first test seed's
        _save_figure(args.figure, [r for r in rows if r["test_seed"] == test_seeds[0]], methods, steps)
        print(f"wrote {args.figure}")
    return 0


def _ways_shots(text: str) -> tuple[int, int]:
    """``"20w5s"`` as ``(20, 5)``."""
    match = re.fullmatch(r"(\d+)w(\d+)s", text.strip().lower())
    if match is None:
        raise ValueError(f"a setting is written as WAYSwSHOTSs, e.g. 5w1s or 20w5s; got {text!r}")
    return int(match[1]), int(match[2])


def _omniglot(args: argparse.Namespace) -> int:
    from . import distributed
    from .experiments.environment import run_environment
    from .experiments.omniglot import METHODS, SETTINGS, OmniglotBudget, omniglot_table, reproduce_omniglot

    methods = args.methods.split(",") if args.methods else list(METHODS)
    budget = OmniglotBudget.paper() if args.budget == "paper" else OmniglotBudget.smoke()
    budget = dataclasses.replace(budget, test_episodes=args.episodes)
    settings = [_ways_shots(text) for text in args.settings] if args.settings else SETTINGS
    rows = reproduce_omniglot(args.data, methods=methods, settings=settings, budget=budget, seed=args.seed,
                              device=args.device, progress=args.progress)  # fmt: skip
    if not distributed.is_main_process():  # under torchrun, rank 0 reports
        return 0
    print(f"\nOmniglot (Vinyals split, rotations as classes, 28 x 28), {args.budget} budget; "
          f"{budget.test_episodes} test episodes per setting, {budget.test_queries} queries per class, "
          "mean ± 95% CI, beside the papers' numbers")  # fmt: skip
    print(omniglot_table(rows))
    if args.budget == "smoke":
        print("(a smoke run: a few dozen training steps per model, far below what the methods reach)")
    if args.json:
        report = {"command": args.command_line, "budget": dataclasses.asdict(budget),
                  "environment": run_environment(device=args.device, compiled=[]), "rows": rows}  # fmt: skip
        Path(args.json).write_text(json.dumps(report, indent=2))
        print(f"wrote {args.json}")
    if args.figure:
        import matplotlib

        matplotlib.use("Agg")
        from .experiments.omniglot import plot_omniglot

        plot_omniglot(rows).savefig(args.figure, dpi=150)
        print(f"wrote {args.figure}")
    return 0


def _print_sinusoid_table(
    rows: list[dict], methods: Sequence[str], steps: Sequence[int], args: argparse.Namespace, test_seed: int
) -> None:
    from .experiments.sinusoid import PAPER_SINUSOID_K5

    tasks = f"{args.test_tasks} test tasks (seed {test_seed}); set-up: {args.setup}"
    print(f"\nQuery MSE after fine-tuning on K = 5 points, {tasks}; paper in brackets")
    print("each cell: mean ± 95% CI (no mean when a task diverged), median, tasks diverged")
    print(f"{'method':>10} | " + " | ".join(f"{s:>2} step{'s' if s > 1 else ' '}{'':>27}" for s in steps))
    for method in methods:
        cells = []
        for s in steps:
            row = next(r for r in rows if r["method"] == method and r["steps"] == s)
            paper = PAPER_SINUSOID_K5.get(method, {}).get(s)
            # a blown-up task swamps the mean (there is none then): the median and the count say more
            mean = f"{row['value']:.3f} ± {row['ci95']:.3f}" if row["value"] is not None else "–"
            median = f"{row['median']:.3f}" if row["median"] is not None else "inf"
            cells.append(
                f"{mean:>13} {median:>7} {row['diverged']:>3}" + (f" [{paper:.2f}]" if paper else "       ")
            )
        print(f"{method:>10} | " + " | ".join(cells))
    first_rows = {r["method"]: r for r in reversed(rows)}  # the first row of each method
    measured = [m for m in methods if first_rows[m]["sharpness_median"] is not None]
    if measured:  # none for Meta-SGD: per-weight step sizes have no one limit 2 / alpha
        print("sharpness at the start of fine-tuning (top support-loss Hessian eigenvalue, K = 5): "
              "median, and tasks above the limit 2 / alpha")  # fmt: skip
    for method in measured:
        row = first_rows[method]
        print(f"{method:>10} | median {row['sharpness_median']:>8.1f} | "
              f"{row['above_limit']:>4} of {args.test_tasks} above {row['limit']:g}")  # fmt: skip


def _save_figure(path: str, rows: list[dict], methods: Sequence[str], steps: Sequence[int]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .experiments.sinusoid import PAPER_SINUSOID_K5
    from .plotting import color_of, use_book_style

    use_book_style()
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, method in enumerate(methods):
        mine = [next(r for r in rows if r["method"] == method and r["steps"] == s) for s in steps]
        mine = [r for r in mine if r["value"] is not None]  # diverged entries have no mean to draw
        ax.errorbar(
            [r["steps"] for r in mine],
            [r["value"] for r in mine],
            yerr=[r["ci95"] for r in mine],
            marker="o",
            capsize=3,
            label=method,
            color=color_of(method, i),
        )
        if method in PAPER_SINUSOID_K5:
            ax.plot(
                steps,
                [PAPER_SINUSOID_K5[method][s] for s in steps],
                "x--",
                color=color_of(method, i),
                alpha=0.6,
                label=f"{method}, paper",
            )
    ax.set(
        xlabel="gradient steps on the K = 5 support points",
        ylabel="query MSE",
        yscale="log",
        xticks=list(steps),
        title="Sinusoid regression, K = 5",
    )
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path)


def _glyphs(args: argparse.Namespace) -> int:
    from .evaluation import paired_difference
    from .experiments.glyphs import METHODS, GlyphBudget, compare_glyphs

    methods = args.methods.split(",") if args.methods else list(METHODS)
    budget = GlyphBudget(test_episodes=args.episodes, train_cpu_seconds=args.train_seconds)
    budget = budget.scaled(args.scale)
    started = time.perf_counter()
    rows, per_episode = compare_glyphs(
        methods, shots=tuple(args.shots), budget=budget, seed=args.seed, device=args.device
    )
    minutes = (time.perf_counter() - started) / 60
    print(
        f"\n{budget.ways}-way accuracy on {budget.test_episodes} test episodes of the test scripts "
        f"({budget.queries} queries per class), mean ± 95% CI; "
        + (f"budget {budget.train_cpu_seconds:.0f} CPU-s per method (depends on the machine)"
           if budget.train_cpu_seconds is not None
           else f"budget {budget.train_gflops:,.0f} GFLOPs per method")
    )  # fmt: skip
    header = (f"{'method':>12} | shots | accuracy        | iterations | train s | test ms/ep "
              "| peak MiB train/test")  # fmt: skip
    print(header)
    for r in rows:
        print(
            f"{r['method']:>12} | {r['shots']:>5} | {r['value']:.3f} ± {r['ci95']:.3f}   | "
            f"{r['iterations']:>10} | {r['train_seconds']:>7.1f} | "
            f"{r['test_ms_per_episode']:>10.1f} | {r['train_peak_mib']:.1f} / {r['test_peak_mib']:.1f}"
        )
    print("\nPaired on identical episodes: best method minus each other (accuracy points, 95% CI)")
    for k in args.shots:
        best = max((m for m in methods), key=lambda m: per_episode[(m, k)].mean().item())
        for m in methods:
            if m != best:
                gap = paired_difference(per_episode[(best, k)], per_episode[(m, k)])
                print(f"  {k}-shot {best} - {m}: {100 * gap.mean:+.1f} ± {100 * gap.ci95:.1f}")
    print(f"whole comparison: {minutes:.1f} minutes")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
        print(f"wrote {args.json}")
    if args.figure:
        _save_glyph_figure(args.figure, per_episode, methods, args.shots)
        print(f"wrote {args.figure}")
    return 0


def _save_glyph_figure(
    path: str,
    per_episode: Mapping[tuple[str, int], torch.Tensor],
    methods: Sequence[str],
    shots: Sequence[int],
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from .evaluation import mean_ci
    from .plotting import plot_accuracy_bars, use_book_style

    use_book_style()
    accuracy = {k: {m: mean_ci(per_episode[(m, k)]) for m in methods} for k in shots}
    plot_accuracy_bars(accuracy).savefig(path)


def _claims(args: argparse.Namespace) -> int:
    from .experiments.claims import (
        cached_claims,
        judge_all,
        judge_seeds,
        result_rows,
        seed_verdict_rows,
        verdict_rows,
    )

    seeds = args.seeds or [args.seed]
    rows = []
    for benchmark in args.benchmarks:
        runs = {}
        for seed in seeds:
            started = time.perf_counter()
            # through the result cache the book's notebooks use: a run already made is read back
            runs[seed] = results = cached_claims(benchmark, args.size, seed=seed, device=args.device)
            print(f"{benchmark}, seed {seed}: {time.perf_counter() - started:.0f} s ({args.size} size; "
                  "read back if cached)")  # fmt: skip
            verdicts = judge_all(results)
            for row in verdict_rows(verdicts):
                print(f"  {row['claim']:>18}, {row['method']}: {row['value']}. {row['text']}")
            rows += [{**row, "seed": seed} for row in result_rows(results) + verdict_rows(verdicts)]
        if len(runs) > 1:
            print(f"{benchmark}, over seeds {', '.join(map(str, runs))} (stands when every seed reaches it):")
            for row in seed_verdict_rows(judge_seeds(runs)):
                each = ", ".join(row["seed_verdicts"])
                print(f"  {row['claim']:>18}, {row['method']}: {row['value']} ({each})")
                rows.append(row)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
        print(f"wrote {len(rows)} rows to {args.json}")
    return 0


def _sharpness(args: argparse.Namespace) -> int:
    from .experiments.environment import run_environment
    from .experiments.sharpness import sinusoid_sharpness

    trace = sinusoid_sharpness(
        args.method, iterations=args.iterations, checkpoints=args.checkpoints, test_tasks=args.test_tasks,
        seed=args.seed, test_seed=args.test_seed, compile=not args.eager, device=args.device,
        setup=args.setup, progress=args.progress,
    )  # fmt: skip
    rows = trace.rows()
    print(f"\nsharpness (top support-loss Hessian eigenvalue) of {args.test_tasks} test tasks, K = 5, "
          f"against the limit 2 / alpha = {trace.limit:g}")  # fmt: skip
    print(f"{'iteration':>9} | {'median':>7} {'p90':>7} {'max':>7} {'above':>5} | "
          + " | ".join(f"{s:>2} steps: median, diverged" for s in trace.steps))  # fmt: skip
    for row in rows:
        medians = [row[f"mse_median_{s}"] for s in trace.steps]
        cells = [
            f"{'inf' if m is None else m:>17} {row[f'diverged_{s}']:>8}"
            for m, s in zip(medians, trace.steps, strict=True)
        ]
        quantiles = " ".join(f"{row[f'sharpness_{k}']:>7.1f}" for k in ("median", "p90", "max"))
        print(f"{row['iteration']:>9} | {quantiles} {row['tasks_above_limit']:>5} | " + " | ".join(cells))
    last_steps = max(trace.steps)
    above, diverged = trace.above_limit()[-1], trace.diverged(last_steps)[-1]
    print(f"at the end: {int(above.sum())} tasks above the limit, of which "
          f"{int((above & diverged).sum())} diverged with {last_steps} steps; {int((~above).sum())} "
          f"below it, of which {int((~above & diverged).sum())} diverged")  # fmt: skip
    if args.json:
        report = {
            "command": args.command_line,
            "settings": {"method": args.method, "setup": args.setup, "seed": args.seed,
                         "test_seed": args.test_seed, "iterations": args.iterations},
            "environment": run_environment(
                device=args.device, compiled=not args.eager and args.method == "maml"
            ),
            "rows": rows,
            "final": {"sharpness": trace.sharpness[-1].tolist(),
                      f"diverged_{last_steps}": diverged.tolist()},
        }  # fmt: skip
        Path(args.json).write_text(json.dumps(report, indent=2))
        print(f"wrote {args.json}")
    return 0


def _cache(args: argparse.Namespace) -> int:
    from .recipes import RECIPES, cache_entries, clear_cache, models_dir, recipe, train_recipe

    if args.action == "list":
        print(f"trained-model cache: {models_dir()}")
        for path in cache_entries():
            print(f"  {path.name}  ({path.stat().st_size / 2**20:.2f} MiB)")
        print("recipes:")
        for name, known in RECIPES.items():
            print(f"  {name}: {known.description}")
        return 0
    if args.action == "clear":
        for name in args.names:
            recipe(name)  # an unknown name is an error, not a silent no-op
        removed = clear_cache(names=args.names)
        print(f"removed {len(removed)} file(s) from {models_dir()}")
        return 0
    for name in args.names or list(RECIPES):  # train
        started = time.perf_counter()
        model = train_recipe(name, device=args.device, progress=args.progress)
        source = "already cached" if model.from_cache else "trained and cached"
        print(f"{name}: {source} ({time.perf_counter() - started:.1f} s)")
    return 0


def _add_setup(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--setup", default="multi-step", choices=["multi-step", "paper"],
        help="how MAML and ANIL meta-train: multi-step (default; several inner steps and a weighted "
        "multi-step loss; Meta-SGD's step sizes held in [0, 0.05]: no blow-up at 5 or 10 steps) or "
        "paper (1 inner step and unbounded step sizes, as in the papers)",
    )  # fmt: skip


def _run_options(*, progress: bool) -> argparse.ArgumentParser:
    """The options every experiment takes: where its rows go, its seed, its device (and, for
    those that train for long, progress bars)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", help="write the results to this file, one JSON row per measurement")
    common.add_argument(
        "--seed", type=int, default=0, help="seed of initialisation and task sampling (default 0)"
    )
    common.add_argument(
        "--device",
        default="cuda" if torch.cuda.is_available() else "cpu",
        help="cpu or cuda (default: cuda when available)",
    )
    if progress:
        common.add_argument("--progress", action="store_true", default=None, help="show progress bars")
    return common


def build_parser() -> argparse.ArgumentParser:
    trains_long, runs = _run_options(progress=True), _run_options(progress=False)
    parser = argparse.ArgumentParser(
        prog="mtl-tutorial", description="Run the book's experiments at full scale."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    reproduce = commands.add_parser("reproduce", help="reproduce a paper's experiment")
    experiments = reproduce.add_subparsers(dest="experiment", required=True)
    sinusoid = experiments.add_parser(
        "sinusoid",
        parents=[trains_long],
        help="the MAML paper's sinusoid regression (Appendix C, Table 2), every learner",
    )
    sinusoid.add_argument("--figure", help="save a figure of MSE against steps to this file (PNG, PDF, ...)")
    sinusoid.add_argument("--methods", help="comma-separated subset, e.g. maml,pretrained (default: all)")
    sinusoid.add_argument(
        "--scale", type=float, default=1.0, help="multiply every iteration budget (default 1)"
    )
    sinusoid.add_argument(
        "--paper-budget",
        action="store_true",
        help="70,000 iterations per method, the default of the MAML authors' code",
    )
    sinusoid.add_argument(
        "--test-seed", type=int, nargs="+", default=[2017],
        help="seed of the fixed test tasks (default 2017); several: the same trained learners are "
        "scored on each set, one table each",
    )  # fmt: skip
    sinusoid.add_argument("--test-tasks", type=int, default=600, help="number of test tasks (default 600)")
    sinusoid.add_argument(
        "--eager", action="store_true", help="do not compile MAML's meta-gradient (default: compiled)"
    )
    _add_setup(sinusoid)
    sinusoid.set_defaults(run=_sinusoid)
    omniglot = experiments.add_parser(
        "omniglot",
        parents=[trains_long],
        help="Omniglot, the field's protocol: ProtoNet and MAML at 5/20-way, 1/5-shot, beside the papers",
    )
    omniglot.add_argument("--data", required=True,
                          help="folder holding images_background and images_evaluation (the "
                          "official zips unpacked; tasks.omniglot.download_omniglot gets them)")  # fmt: skip
    omniglot.add_argument("--budget", choices=["smoke", "paper"], default="smoke",
                          help="smoke: a few dozen steps per model, for a CPU (default); paper: the "
                          "papers' settings at tens of thousands of steps, for a GPU")  # fmt: skip
    omniglot.add_argument("--methods", help="comma-separated subset of protonet,maml (default: both)")
    omniglot.add_argument("--settings", nargs="+",
                          help="ways and shots, e.g. 5w1s 20w5s (default 5w1s 5w5s 20w1s 20w5s)")  # fmt: skip
    omniglot.add_argument("--episodes", type=int, default=600, help="test episodes per setting (default 600)")
    omniglot.add_argument("--figure", help="save a figure of the accuracies beside the papers' to this file")
    omniglot.set_defaults(run=_omniglot)

    sharpness = commands.add_parser(
        "sharpness", help="why fine-tuning diverges: inner-problem sharpness during meta-training"
    )
    targets = sharpness.add_subparsers(dest="benchmark", required=True)
    sinusoid_sharp = targets.add_parser(
        "sinusoid",
        parents=[trains_long],
        help="the reproduction's MAML, its test tasks' sharpness against 2 / alpha",
    )
    sinusoid_sharp.add_argument("--method", default="maml", choices=["maml", "fomaml", "anil"])
    sinusoid_sharp.add_argument(
        "--iterations", type=int, default=48_000, help="meta-training iterations (default 48000)"
    )
    sinusoid_sharp.add_argument(
        "--checkpoints", type=int, default=12, help="evenly spaced measurements (default 12)"
    )
    sinusoid_sharp.add_argument(
        "--test-tasks", type=int, default=600, help="number of test tasks (default 600)"
    )
    sinusoid_sharp.add_argument("--test-seed", type=int, default=2017, help="test-task seed (default 2017)")
    sinusoid_sharp.add_argument("--eager", action="store_true", help="do not compile MAML's meta-gradient")
    _add_setup(sinusoid_sharp)
    sinusoid_sharp.set_defaults(run=_sharpness)

    compare = commands.add_parser("compare", help="compare methods head to head")
    benchmarks = compare.add_subparsers(dest="benchmark", required=True)
    glyphs = benchmarks.add_parser(
        "glyphs", parents=[runs], help="few-shot classification of rendered glyphs, every method"
    )
    glyphs.add_argument("--figure", help="save a figure of the accuracies to this file")
    glyphs.add_argument("--methods", help="comma-separated subset (default: all)")
    glyphs.add_argument("--shots", type=int, nargs="+", default=[1, 5], help="shot counts (default: 1 5)")
    glyphs.add_argument("--episodes", type=int, default=600, help="test episodes (default 600)")
    glyphs.add_argument(
        "--scale", type=float, default=1.0, help="multiply the training budget, e.g. 10 on a GPU"
    )
    glyphs.add_argument(
        "--train-seconds", type=float, default=None,
        help="train each method for this many CPU-seconds instead of 1,000 GFLOPs (results then depend "
        "on the machine's speed and load)",
    )  # fmt: skip
    glyphs.set_defaults(run=_glyphs)

    claims = commands.add_parser(
        "claims",
        parents=[runs],
        help="the source's claims as experiments: data scarcity, task dissimilarity and cost, "
        "on sinusoids and glyphs, with a verdict on each",
    )
    claims.add_argument("--size", choices=["full", "book", "tiny"], default="full",
                        help="full: the sweep the book reports (default); book: the chapter's smaller "
                        "version; tiny: a smoke test")  # fmt: skip
    claims.add_argument("--benchmarks", nargs="+", choices=["sinusoid", "glyphs"],
                        default=["sinusoid", "glyphs"], help="which benchmarks (default: both)")  # fmt: skip
    claims.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="train with each of these seeds (instead of --seed) and give each "
                        "verdict over them: it stands only when every seed reaches it; the book uses "
                        "0 1 2")  # fmt: skip
    claims.set_defaults(run=_claims)

    cache = commands.add_parser("cache", help="the trained-model cache the book's chapters share")
    cache.add_argument("action", choices=["list", "clear", "train"],
                       help="list: the cached files and the recipes; clear: delete cached models (all, or "
                       "those of the recipes named); train: train the recipes named (default: all) "
                       "unless cached")  # fmt: skip
    cache.add_argument("names", nargs="*", help="recipe names (default: all)")
    cache.add_argument("--device", default="cpu", help="cpu (default) or cuda; part of the cache key")
    cache.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bars when training (default: on, unless MTL_TUTORIAL_PROGRESS=0)",
    )
    cache.set_defaults(run=_cache)
    return parser


def help_text(argv: Sequence[str], width: int = 80) -> str:
    """What ``mtl-tutorial ARGV --help`` prints in a terminal ``width`` columns wide (the book's
    pages show it; a test keeps them current)."""
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)  # argparse wraps to the terminal's width
    shown, errors = io.StringIO(), io.StringIO()
    try:  # ask argparse itself, as a user would: --help prints and exits
        with contextlib.redirect_stdout(shown), contextlib.redirect_stderr(errors):
            build_parser().parse_args([*argv, "--help"])
    except SystemExit as stop:
        if stop.code != 0:
            command = " ".join(["mtl-tutorial", *argv])
            raise ValueError(f"no help for {command}: {errors.getvalue().strip()}") from None
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous
    return shown.getvalue()


def _start_processes(args: argparse.Namespace) -> None:
    """Under ``torchrun`` (``WORLD_SIZE`` > 1): join the process group, on this process's GPU for
    ``--device cuda``; each learner's training then splits its batches between the processes."""
    from . import distributed

    device = getattr(args, "device", "cpu")
    if distributed.init_from_environment(device):
        args.device = str(distributed.local_device(device))
        if not distributed.is_main_process():  # rank 0 writes the results and shows progress
            for name, quiet in (("json", None), ("figure", None), ("progress", False)):
                if hasattr(args, name):
                    setattr(args, name, quiet)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.command_line = "mtl-tutorial " + " ".join(argv)  # recorded in JSON reports
    try:
        _start_processes(args)
        return args.run(args)
    except ValueError as error:  # bad input: say what is wrong, without a traceback
        print(f"mtl-tutorial: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
