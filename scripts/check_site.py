"""Check that the built site shows what the chapters compute: figures and result tables.

Usage: python scripts/check_site.py [SITE_DIR]   (default: _build/html)

A notebook whose figures silently fail to render (for example under a non-interactive matplotlib
backend) still builds without a warning; this catches it. Each entry of EXPECTED names a page and
the least number of images, tables and display equations ("math": elements whose class names
include "math", which is how Sphinx renders numbered and unnumbered display math) it must contain.
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path

EXPECTED = {
    "book/01_background.html": {"img": 3, "table": 1},
    "book/02_concepts.html": {"img": 6, "table": 6, "math": 3},
    "book/03_algorithms.html": {"img": 3, "table": 1, "math": 9},
    "book/03_from_scratch.html": {"img": 1, "table": 1},
    "book/03_methods.html": {"img": 2, "table": 2, "math": 10},
    "book/03_proto_maml.html": {"table": 1, "math": 2},
    "book/04_code.html": {"img": 1, "table": 3},
    "book/04_images.html": {"img": 1, "table": 3},
    "book/04_scaling.html": {"table": 2, "math": 1},
    "book/claims.html": {"img": 3, "table": 8, "math": 1},
    "book/claims_images.html": {"img": 3, "table": 7},
    "book/05_trends_meta.html": {"img": 3, "table": 5, "math": 3},
    "book/05_trends_transfer.html": {"img": 1, "table": 3, "math": 1},
    "book/05_trends_shift.html": {"img": 1, "table": 1},
    "book/05_trends_in_context.html": {"img": 1, "table": 2},
    "book/glossary.html": {"dt": 25},
    "book/bibliography.html": {"table": 1},
    "book/faq.html": {"table": 1},
    "book/errata.html": {"table": 5},
    "book/notation.html": {"table": 3},
    "book/api.html": {"dl": 100},
    "book/full_scale.html": {},
    # filled by results/ from scripts/full_scale.sh, which .ci/run runs before the build
    "book/full_scale_results.html": {"img": 1, "table": 4},
    "book/status.html": {"table": 2},
}


class TagCounter(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + 1
        classes = (dict(attrs).get("class") or "").split()
        if tag == "div" and "math" in classes:
            self.counts["math"] = self.counts.get("math", 0) + 1


def main(site: Path) -> int:
    problems = []
    for page, minimum in EXPECTED.items():
        path = site / page
        if not path.exists():
            problems.append(f"{page}: missing")
            continue
        counter = TagCounter()
        counter.feed(path.read_text(encoding="utf-8"))
        for tag, least in minimum.items():
            found = counter.counts.get(tag, 0)
            status = "ok" if found >= least else "TOO FEW"
            print(f"{page}: {found} <{tag}> (expected >= {least}) {status}")
            if found < least:
                problems.append(f"{page}: {found} <{tag}>, expected at least {least}")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "_build/html")))
