#!/usr/bin/env bash
# Run every check: lint, every test of the package (the slow ones included), and every notebook
# of the book under nbval (their outputs are kept, so a build afterwards does not execute them
# again), all in one pytest session. Sets up its own virtual environment (.venv) on first use.
set -euo pipefail
EXTRAS=test,book,benchmark
source "$(dirname "${BASH_SOURCE[0]}")/setup_env.sh"
echo "==> ruff"
ruff check .
echo "==> every notebook of the book under nbval, and every test (the slow ones too), in one session of"
echo "    two processes: the longest notebooks first, the tests filling in (no worker waits on the other)"
bash scripts/execute_notebooks.sh tests -m "slow or not slow" --durations=25
