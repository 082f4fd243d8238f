#!/usr/bin/env bash
# The Chinese edition is complete and current: cut the English book into messages again, merge
# them into the catalogues (a changed English paragraph marks its translation stale), and fail
# unless every message of every page is translated, current and keeps its markup.
set -euo pipefail
EXTRAS=book,i18n
source "$(dirname "${BASH_SOURCE[0]}")/setup_env.sh"
mkdir -p _build
python scripts/i18n.py extract > _build/i18n-extract.log 2>&1 || { tail -40 _build/i18n-extract.log; exit 1; }
python scripts/i18n.py check
