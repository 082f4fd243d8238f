"""Link check of the built site: every internal link, anchor and image must resolve.

Reads every HTML page of the site (default: _build/html) and checks each ``href`` and ``src``
that points inside the site: the file it names must exist, and a ``#fragment`` must be the ``id``
(or ``name``) of an element of that page. External links are not fetched (CI has no network
to spare, and a dead external link is no reason to fail a build); they are written, with the
pages that use them, to a report (default: _build/external-links.txt).

Usage: python scripts/check_links.py [SITE] [--report FILE]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse


class PageParser(HTMLParser):
    """Collects a page's link targets (with the tag they came from) and its anchors."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[tuple[str, str]] = []
        self.anchors: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for key in ("id", "name") if tag in ("a", "span", "div", "section", "dt", "p") else ("id",):
            if values.get(key):
                self.anchors.add(values[key])
        attribute = {"a": "href", "link": "href", "img": "src", "script": "src", "iframe": "src"}.get(tag)
        if attribute and values.get(attribute):
            self.targets.append((tag, values[attribute]))


def parse(path: Path) -> PageParser:
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("site", nargs="?", default="_build/html")
    arguments.add_argument("--report", default="_build/external-links.txt")
    args = arguments.parse_args()
    site = Path(args.site).resolve()
    pages = sorted(
        p for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts
    )  # theme templates
    if not pages:
        print(f"error: no HTML pages under {site}; build the book first", file=sys.stderr)
        return 1
    parsed = {page: parse(page) for page in pages}
    anchors_of: dict[Path, set[str]] = {page: p.anchors for page, p in parsed.items()}
    broken: list[str] = []
    external: dict[str, set[str]] = defaultdict(set)
    counts = {"links": 0, "anchors": 0, "images": 0}
    for page, parser in parsed.items():
        name = page.relative_to(site).as_posix()
        for tag, target in parser.targets:
            url = urlparse(target)
            if url.scheme in ("http", "https"):
                external[target].add(name)
                continue
            if url.scheme or target.startswith("//"):  # mailto:, data:, javascript: and the like
                continue
            path_part, fragment = urldefrag(target)
            path_part = unquote(urlparse(path_part).path)
            resolved = (page.parent / path_part).resolve() if path_part else page
            if resolved.is_dir():
                resolved = resolved / "index.html"
            counts["images" if tag == "img" else "links"] += 1
            if not resolved.is_file() or site not in resolved.parents and resolved != site:
                broken.append(f"{name}: <{tag}> {target} -> missing file")
                continue
            if fragment and resolved.suffix == ".html":
                counts["anchors"] += 1
                if resolved not in anchors_of:
                    anchors_of[resolved] = parse(resolved).anchors
                if unquote(fragment) not in anchors_of[resolved]:
                    broken.append(f"{name}: <{tag}> {target} -> no anchor #{fragment}")
    report = Path(args.report)
    report.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{url}\t{', '.join(sorted(used))}" for url, used in sorted(external.items())]
    report.write_text(
        "# external links (not fetched), and the pages that use them\n" + "\n".join(lines) + "\n"
    )
    for problem in broken:
        print(f"FAIL {problem}")
    print(f"link check: {len(pages)} pages, {counts['links']} internal links, {counts['anchors']} anchors, "
          f"{counts['images']} images; {len(broken)} broken; {len(external)} external links listed in "
          f"{report}")  # fmt: skip
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
