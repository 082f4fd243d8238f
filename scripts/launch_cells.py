"""Give every notebook of the book a first cell that installs the package, on Google Colab only.

The launch buttons of the site (Binder, Colab) open a chapter's notebook on a hosted service.
Binder builds the repository's environment itself (binder/); Colab does not, so each notebook
starts with a cell that, on Colab alone, installs ``mtl-tutorial`` from the repository at the
book's version (the tag ``v<version>`` of pyproject.toml). Elsewhere the cell does nothing; the
book hides it. The repository's address comes from _config.yml (``repository: url``): change it
there and rerun this script.

Usage: python scripts/launch_cells.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = "# Runs only on Google Colab"


def cell_source(url: str, version: str) -> str:
    spec = f"mtl-tutorial @ git+{url}@v{version}"
    return (
        f"{MARKER}: install the book's package at the book's version (v{version}).\n"
        "import sys\n\n"
        'if "google.colab" in sys.modules:\n'
        f'    package = "{spec}"\n'
        '    get_ipython().run_line_magic("pip", f\'install --quiet "{package}"\')\n'
    )


def main() -> int:
    config = (ROOT / "_config.yml").read_text()
    url = re.search(r"^repository:\n(?:  .*\n)*?  url: (\S+)", config, re.MULTILINE)
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    if not url or not version:
        raise SystemExit("error: need repository.url in _config.yml and version in pyproject.toml")
    source = cell_source(url.group(1), version.group(1))
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        notebook = json.loads(path.read_text())
        cells = notebook["cells"]
        cell = {"cell_type": "code", "execution_count": None, "id": "colab-install",
                "metadata": {"tags": ["remove-cell"]}, "outputs": [],
                "source": source.rstrip("\n").splitlines(keepends=True)}  # fmt: skip
        existing = next((i for i, c in enumerate(cells) if "".join(c["source"]).startswith(MARKER)), None)
        if existing is not None and cells[existing]["source"] == cell["source"]:
            continue
        if existing is not None:
            cells[existing] = cell
        else:
            cells.insert(1 if cells and cells[0]["cell_type"] == "markdown" else 0, cell)
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
        print(f"launch cell written: {path.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
