"""Browser tests of the built site: every page opened in headless Chromium, served on localhost.

For every HTML page of the site (default: _build/html) this checks, in a real browser:

- the page loads with no console errors, no uncaught exceptions and no failed requests;
- no request leaves localhost (the site is complete offline: MathJax, fonts, search, styles);
- every image loads and has alt text that is not a file name;
- equations are rendered: every math element holds MathJax's output, and no raw TeX
  (``$$``, ``\\frac``, ``\\begin{``, ``\\(``) is left in the visible text;
- the search page finds pages for a query the book answers.

It saves screenshots of the landing page and of one chapter (also in dark mode), and prints a
summary. The browser
is Debian's Chromium (``/usr/bin/chromium``, or ``$CHROMIUM``), driven by Playwright's Python
package; nothing is downloaded at test time.

Usage: python scripts/check_browser.py [SITE] [--screenshots DIR]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import re
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import sync_playwright

RAW_TEX = re.compile(r"\$\$|\\frac|\\begin\{|\\\(|\\\[|\\mathcal|\\theta")
SEARCH_QUERY = "meta-gradient"  # a term several chapters explain
SCREENSHOTS = {"landing.png": "book/intro.html", "chapter.png": "book/claims.html"}

# Visible text without code, scripts and MathJax's own output, where TeX may legitimately appear.
VISIBLE_TEXT = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('pre, code, script, style, mjx-container, mjx-assistive-mml, .MathJax')
      .forEach(e => e.remove());
  return body.innerText;
}"""
UNRENDERED_MATH = """() => Array.from(document.querySelectorAll('div.math, span.math'))
  .filter(e => !e.querySelector('mjx-container')).length"""
IMAGES = """() => Array.from(document.images).map(i => ({
  src: i.getAttribute('src'), alt: i.getAttribute('alt') || '',
  loaded: i.complete && i.naturalWidth > 0}))"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # one line per request would drown the summary
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:  # the browser may drop a connection
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(QuietHandler, directory=str(site))
    server = QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def check_page(page, url: str) -> tuple[list[str], dict[str, int]]:
    """Open ``url``; return the problems found and what was counted."""
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"uncaught exception: {e}"))
    page.on("requestfailed", lambda r: urlparse(r.url).hostname == "127.0.0.1"
            and problems.append(f"request failed: {r.url} ({r.failure})"))  # fmt: skip
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
    page.goto(url, wait_until="networkidle")
    if page.evaluate("() => Boolean(window.MathJax && MathJax.startup && MathJax.startup.promise)"):
        page.evaluate("() => MathJax.startup.promise")
    images = page.evaluate(IMAGES)
    for image in images:
        if not image["loaded"]:
            problems.append(f"image did not load: {image['src']}")
        alt = image["alt"].strip()
        if not alt or re.search(r"\.(png|jpe?g|svg|gif)$", alt):
            problems.append(f"image without alt text: {image['src']} (alt={alt!r})")
    unrendered = page.evaluate(UNRENDERED_MATH)
    if unrendered:
        problems.append(f"{unrendered} math element(s) not rendered by MathJax")
    raw = RAW_TEX.findall(page.evaluate(VISIBLE_TEXT))
    if raw:
        problems.append(f"raw TeX left in the text: {sorted(set(raw))}")
    rendered = page.evaluate("() => document.querySelectorAll('mjx-container').length")
    return problems, {"images": len(images), "equations": rendered}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "site", nargs="?", default="_build/html", help="the built site (default: _build/html)"
    )
    parser.add_argument("--screenshots", default="_build/screenshots", help="where to save screenshots")
    args = parser.parse_args()
    site = Path(args.site).resolve()
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html") if "_static" not in p.parts)
    if not pages:
        print(f"error: no HTML pages under {site}; build the book first", file=sys.stderr)
        return 1
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    server, base = serve(site)
    external: set[str] = set()
    failures: dict[str, list[str]] = {}
    totals = {"images": 0, "equations": 0}
    shots = Path(args.screenshots)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})

        def offline(route) -> None:  # the site must not need the network: refuse and record
            if urlparse(route.request.url).hostname != "127.0.0.1":
                external.add(route.request.url)
                route.abort()
            else:
                route.continue_()

        context.route("**/*", offline)
        for name in pages:
            page = context.new_page()
            problems, counts = check_page(page, f"{base}/{name}")
            for key in totals:
                totals[key] += counts[key]
            if problems:
                failures[name] = problems
            for shot, target in SCREENSHOTS.items():
                if name == target:
                    page.screenshot(path=str(shots / shot), full_page=True)
            page.close()
        # search works offline: a query the book answers lists pages
        page = context.new_page()
        page.goto(f"{base}/search.html?q={SEARCH_QUERY}", wait_until="networkidle")
        try:
            page.wait_for_selector("ul.search li", timeout=15_000)
            hits = page.locator("ul.search li").count()
        except Exception:  # Playwright's timeout: no result appeared
            hits = 0
        if hits == 0:
            failures.setdefault("search.html", []).append(f"searching {SEARCH_QUERY!r} found no page")
        page.close()
        # dark mode: the same chapter with the reader's system in dark mode (figures keep their
        # white background, so they stay readable on the dark page)
        dark = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="dark")
        dark.route("**/*", offline)
        page = dark.new_page()
        page.goto(f"{base}/{SCREENSHOTS['chapter.png']}", wait_until="networkidle")
        if page.evaluate("() => document.documentElement.dataset.theme") != "dark":
            failures.setdefault(SCREENSHOTS["chapter.png"], []).append("dark mode not applied")
        page.screenshot(path=str(shots / "chapter-dark.png"), full_page=True)
        browser.close()
    server.shutdown()

    for name, problems in failures.items():
        for problem in problems:
            print(f"FAIL {name}: {problem}")
    for url in sorted(external):
        print(f"FAIL request to another host: {url}")
    problems = sum(map(len, failures.values()))
    print(f"browser check: {len(pages)} pages, {totals['images']} images, {totals['equations']} rendered "
          f"equations, search found {hits} pages; {problems} problems, {len(external)} external "
          "requests")  # fmt: skip
    for shot in (*SCREENSHOTS, "chapter-dark.png"):
        print(f"screenshot: {(shots / shot).resolve()}")
    return 1 if failures or external else 0


if __name__ == "__main__":
    sys.exit(main())
