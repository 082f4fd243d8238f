#!/usr/bin/env bash
# Build the whole book, executing every notebook, into _build/html (a static site).
# Sets up its own virtual environment (.venv) on first use.
set -euo pipefail
EXTRAS=book
source "$(dirname "${BASH_SOURCE[0]}")/setup_env.sh"
echo "==> building the book (clean, every notebook executed, warnings are errors)"
bash scripts/jb_build_strict.sh "$ROOT"
echo "==> the site is in $ROOT/_build/html (open _build/html/index.html)"
