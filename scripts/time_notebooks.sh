#!/usr/bin/env bash
# Time each notebook run alone (nbval, one process), first from an empty cache (a fresh
# $MTL_TUTORIAL_CACHE: no glyph data, no trained models), then again with what that run cached:
# the budgets of a notebook (120 s and 15 s on 2 cores). Measured and printed, never asserted.
# Usage: scripts/time_notebooks.sh [NOTEBOOK ...]   (default: every notebook of the book)
set -euo pipefail
EXTRAS=test,book
source "$(dirname "${BASH_SOURCE[0]}")/setup_env.sh"
notebooks=("$@")
[ ${#notebooks[@]} -gt 0 ] || notebooks=(book/*.ipynb)
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
printf "%-30s %9s %9s\n" notebook "cold (s)" "cached (s)"
for notebook in "${notebooks[@]}"; do
    export MTL_TUTORIAL_CACHE="$scratch/$(basename "$notebook" .ipynb)"
    times=()
    for run in cold cached; do
        started=$(date +%s.%N)
        if ! python -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider -q "$notebook" \
            > "$scratch/log" 2>&1; then
            cat "$scratch/log"
            echo "error: $notebook failed ($run run)" >&2
            exit 1
        fi
        times+=("$(python -c 'import sys, time; print(f"{time.time() - float(sys.argv[1]):.1f}")' "$started")")
    done
    printf "%-30s %9s %9s\n" "$(basename "$notebook")" "${times[@]}"
done
