#!/usr/bin/env bash
# Test the built site (_build/html): what each page must contain (check_site.py), every internal
# link, anchor and image (check_links.py; external links listed, not fetched), and every page in
# headless Chromium served on localhost (check_browser.py: no console errors, no failed or
# external requests, equations rendered, images with alt text; screenshots in _build/screenshots).
# Installs Debian's chromium and chromium-driver when missing (needs root or sudo), and
# Playwright's Python package, which drives that Chromium: no browser is downloaded.
set -euo pipefail
EXTRAS=site
source "$(dirname "${BASH_SOURCE[0]}")/setup_env.sh"
SITE="${1:-$ROOT/_build/html}"
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    echo "==> installing Debian's chromium and chromium-driver"
    SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
echo "==> check_site.py"
python scripts/check_site.py "$SITE"
echo "==> check_links.py"
python scripts/check_links.py "$SITE" --report "$ROOT/_build/external-links.txt"
echo "==> check_browser.py"
python scripts/check_browser.py "$SITE" --screenshots "$ROOT/_build/screenshots"
