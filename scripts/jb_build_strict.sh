#!/usr/bin/env bash
# Build a Jupyter Book from scratch and fail on any warning.
#
# Jupyter Book 1 exits 0 when a notebook fails unless warnings are errors, and an incremental
# build skips unchanged pages, so a failure seen once could vanish on the next build. Hence:
# remove the previous build (all of _build but the jupyter-cache of executed notebooks and the
# notebook tests' execution report), rebuild all files, warnings are errors. Notebooks whose
# code is unchanged since they last executed without error come from the jupyter-cache; any
# other is executed (see execute: in _config.yml).
# Usage: scripts/jb_build_strict.sh [BOOK_ROOT]   (default: the repository root)
set -euo pipefail
BOOK="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
if [ -d "$BOOK/_build" ]; then
    find "$BOOK/_build" -mindepth 1 -maxdepth 1 ! -name .jupyter_cache ! -name executed -exec rm -rf {} +
fi
python "$(dirname "${BASH_SOURCE[0]}")/vendor_mathjax.py" "$BOOK"  # equations that render offline
jupyter-book build --all --warningiserror --keep-going "$BOOK"
