"""Fail when a notebook took more than FACTOR times its time budget (CI only).

Reads the execution report the notebook tests write (_build/executed/report.json) and holds each
notebook's time against its budget (mtl_tutorial.book: 120 s when it trains models, 15 s when
they all came from the cache). Only .ci/run calls this, loosely (three times the budget): the
README's commands must work on any machine, however slow, so no lesson or test checks time.

Usage: python scripts/check_budgets.py [REPORT] [--factor 3]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mtl_tutorial.book import execution_rows

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", nargs="?", default=ROOT / "_build" / "executed" / "report.json")
    parser.add_argument("--factor", type=float, default=3.0)
    args = parser.parse_args()
    rows = execution_rows(json.loads(Path(args.report).read_text()))
    over = []
    print(f"{'notebook':<34} {'seconds':>8} {'own':>6} {'budget':>7}  models")
    for row in rows:
        models = ", ".join([f"trained {m}" for m in row["trained"]] + [f"cached {m}" for m in row["loaded"]])
        times = f"{row['seconds']:>8.1f} {row['own_seconds']:>6.1f} {row['budget']:>7.0f}"
        print(f"{row['notebook']:<34} {times}  {models}")
        if row["own_seconds"] > args.factor * row["budget"]:
            over.append(row)
    for row in over:
        print(f"over budget: {row['notebook']} took {row['own_seconds']:.0f} s, more than "
              f"{args.factor:g} x {row['budget']:.0f} s", file=sys.stderr)  # fmt: skip
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
