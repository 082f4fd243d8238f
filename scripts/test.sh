#!/usr/bin/env bash
# Run every check: lint, every test of the package (the slow ones included), and every notebook
# of the book under nbval (their outputs are kept, so a build afterwards does not execute them
# again). Sets up its own virtual environment (.venv) on first use.
set -euo pipefail
EXTRAS=test,book,benchmark
source "$(dirname "${BASH_SOURCE[0]}")/setup_env.sh"
echo "==> ruff"
ruff check .
echo "==> unit, numerical and learning tests (the slow ones too), two processes"
python -m pytest tests -m "slow or not slow" -n 2 --durations=15
echo "==> every notebook of the book, executed by nbval, two at a time"
bash scripts/execute_notebooks.sh
