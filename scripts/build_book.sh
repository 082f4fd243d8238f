#!/usr/bin/env bash
# Build the whole book into _build/html (a static site). Notebooks changed since they last
# executed without error are executed first, two at a time, under nbval; the others come from
# the jupyter-cache. Sets up its own virtual environment (.venv) on first use.
set -euo pipefail
EXTRAS=test,book
source "$(dirname "${BASH_SOURCE[0]}")/setup_env.sh"
echo "==> executing the notebooks whose code changed (nbval, two at a time)"
bash scripts/execute_notebooks.sh --only-uncached -q
echo "==> building the book (clean, warnings are errors)"
bash scripts/jb_build_strict.sh "$ROOT"
echo "==> the site is in $ROOT/_build/html (open _build/html/index.html)"
