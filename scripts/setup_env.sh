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
# Install once per set of extras: the stamp records which extras were installed for this
# pyproject.toml and constraints.txt, so the next script that needs no new extra skips pip
# (the package is installed editable: code changes need no reinstall).
STAMP="$VENV/.mtl_tutorial-installed"
PINS="$(cat "$ROOT/pyproject.toml" "$ROOT/constraints.txt" | sha256sum | cut -c1-16)"
missing=""
for extra in ${EXTRAS//,/ }; do
    grep -qx "$PINS $extra" "$STAMP" 2>/dev/null || missing="$missing $extra"
done
if [ -n "$missing" ] || [ -z "$EXTRAS" ]; then
    echo "==> installing mtl_tutorial[$EXTRAS] (pinned by constraints.txt)"
    # --no-compile: Python compiles only the modules it imports, when it first imports them
    # (installing torch and the book's tools compiled every file: half of the install's time)
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile --upgrade pip
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile \
        -c "$ROOT/constraints.txt" -e "$ROOT[$EXTRAS]"
    for extra in ${EXTRAS//,/ }; do echo "$PINS $extra" >> "$STAMP"; done
else
    echo "==> mtl_tutorial[$EXTRAS] already installed in $VENV (pins unchanged)"
fi
export PATH="$VENV/bin:$PATH"
cd "$ROOT"
