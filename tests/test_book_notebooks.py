"""Conventions every notebook of the book keeps, checked without executing anything: each is in
the table of contents, and each cell that shows a figure gives it alt text (the site's browser
check finds a missing one too, but only at the end of CI)."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
SHOWS_A_FIGURE = re.compile(r"plt\.show\(\)|display\(Image\(")


def test_every_notebook_is_in_the_table_of_contents():
    listed = set(re.findall(r"file:\s*(\S+)", (ROOT / "_toc.yml").read_text()))
    missing = [p.stem for p in NOTEBOOKS if f"book/{p.stem}" not in listed]
    assert NOTEBOOKS and not missing, f"notebooks missing from _toc.yml: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_has_alt_text(path):
    cells = json.loads(path.read_text())["cells"]
    without = [
        "".join(c["source"]).splitlines()[0]
        for c in cells
        if c["cell_type"] == "code"
        and SHOWS_A_FIGURE.search("".join(c["source"]))
        and not c["metadata"].get("mystnb", {}).get("image", {}).get("alt")
    ]
    assert not without, f"figures without alt text (add them to scripts/figure_alt_text.py): {without}"
