#!/usr/bin/env bash
# Build a Jupyter Book from scratch, executing every notebook, and fail on any warning.
#
# Jupyter Book 1 exits 0 when a notebook fails unless warnings are errors, and an incremental
# build skips unchanged notebooks, so a failure seen once could vanish on the next build.
# Hence: remove the previous build, rebuild all files, warnings are errors.
# Usage: scripts/jb_build_strict.sh [BOOK_ROOT]   (default: the repository root)
set -euo pipefail
BOOK="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
rm -rf "$BOOK/_build"
python "$(dirname "${BASH_SOURCE[0]}")/vendor_mathjax.py" "$BOOK"  # equations that render offline
jupyter-book build --all --warningiserror --keep-going "$BOOK"
