#!/usr/bin/env bash
# Run every check: lint, the package's tests, and every notebook of the book under nbval.
# Sets up its own virtual environment (.venv) on first use.
set -euo pipefail
EXTRAS=test,book,benchmark
source "$(dirname "${BASH_SOURCE[0]}")/setup_env.sh"
echo "==> ruff"
ruff check .
echo "==> unit, numerical and learning tests"
python -m pytest tests
echo "==> every notebook of the book, executed by nbval"
python -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider book --durations=0
