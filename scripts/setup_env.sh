# Sourced by the other scripts: creates the virtual environment (if missing), installs the
# package with the extras in $EXTRAS through constraints.txt, and puts the environment first
# on PATH. Override the interpreter with PYTHON=..., the environment's place with MTL_VENV=...
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
VENV="${MTL_VENV:-$ROOT/.venv}"

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    echo "error: Python >= 3.10 is needed; '$PYTHON' is $("$PYTHON" --version 2>&1 || echo missing)." >&2
    echo "       Point PYTHON at a newer interpreter, e.g. PYTHON=python3.11 $0" >&2
    exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating virtual environment in $VENV"
    "$PYTHON" -m venv "$VENV"
fi
echo "==> installing mtl_tutorial[$EXTRAS] (pinned by constraints.txt)"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -c "$ROOT/constraints.txt" -e "$ROOT[$EXTRAS]"
export PATH="$VENV/bin:$PATH"
cd "$ROOT"
