#!/usr/bin/env bash
# Execute the book's notebooks under nbval, two at a time, and keep their outputs for the build
# (book/conftest.py adds them to the build's jupyter-cache and writes _build/executed/report.json).
# Usage: scripts/execute_notebooks.sh [--only-uncached] [more pytest options]
# With --only-uncached, notebooks whose code has not changed since they last passed are skipped.
set -euo pipefail
WORKERS="${MTL_WORKERS:-2}"
# the notebooks already run one per core: none starts a second process to train its models
export MTL_TUTORIAL_BACKGROUND="${MTL_TUTORIAL_BACKGROUND:-0}"
status=0
python -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider -n "$WORKERS" --dist loadscope --no-loadscope-reorder \
    --durations=0 book "$@" || status=$?
if [ "$status" -eq 5 ]; then  # pytest: nothing to run (every notebook was cached)
    echo "every notebook's outputs are in the cache: nothing to execute"
    status=0
fi
exit "$status"
