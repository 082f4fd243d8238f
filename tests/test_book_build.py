"""The book build fails when a notebook raises, on a first and on a repeated build.

Jupyter Book 1 exits 0 on a failed notebook unless warnings are errors, and an incremental build
skips unchanged notebooks. This builds a two-page book with the repository's own _config.yml
through the same script CI uses: once with a notebook that works (the build must pass), then with
a notebook that raises, twice (both builds must fail).
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "scripts" / "jb_build_strict.sh"

pytestmark = pytest.mark.skipif(shutil.which("jupyter-book") is None, reason="jupyter-book not installed")


def notebook(source: str) -> str:
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "id": "c0",
        "metadata": {},
        "outputs": [],
        "source": source,
    }
    nb = {
        "cells": [{"cell_type": "markdown", "id": "m0", "metadata": {}, "source": "# A chapter"}, cell],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb)


def build(book: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(BUILD), str(book)], capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_a_raising_notebook_fails_the_build_every_time(tmp_path):
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    (tmp_path / "book").mkdir()
    shutil.copy(ROOT / "book" / "references.bib", tmp_path / "book" / "references.bib")
    shutil.copytree(ROOT / "book" / "_ext", tmp_path / "book" / "_ext")  # the config's local extension
    # MathJax's files are not needed to test execution; the stamp keeps the build from fetching them
    (tmp_path / "book" / "_static" / "mathjax").mkdir(parents=True)
    version = re.search(r'VERSION = "(.+)"', (ROOT / "scripts" / "vendor_mathjax.py").read_text()).group(1)
    (tmp_path / "book" / "_static" / "mathjax" / "VERSION").write_text(version + "\n")
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n  - file: book/chapter\n"
    )
    (tmp_path / "book" / "intro.md").write_text("# Intro\n")
    chapter = tmp_path / "book" / "chapter.ipynb"

    chapter.write_text(notebook("print(1 + 1)"))
    working = build(tmp_path)
    assert working.returncode == 0, working.stdout[-3000:] + working.stderr[-3000:]
    assert (tmp_path / "_build" / "html" / "book" / "chapter.html").exists()

    chapter.write_text(notebook("raise RuntimeError('this notebook is broken')"))
    for attempt in ("first", "repeated"):
        failing = build(tmp_path)
        output = failing.stdout + failing.stderr
        assert failing.returncode != 0, (
            f"{attempt} build passed despite a raising notebook:\n{output[-3000:]}"
        )
        assert "this notebook is broken" in output


def small_book(root: Path, source: str) -> Path:
    """A one-chapter book with the repository's configuration and the notebook-test plugin."""
    shutil.copy(ROOT / "_config.yml", root / "_config.yml")
    (root / "book").mkdir()
    for name in ("references.bib", "conftest.py"):
        shutil.copy(ROOT / "book" / name, root / "book" / name)
    shutil.copytree(ROOT / "book" / "_ext", root / "book" / "_ext")
    (root / "book" / "_static" / "mathjax").mkdir(parents=True)
    version = re.search(r'VERSION = "(.+)"', (ROOT / "scripts" / "vendor_mathjax.py").read_text()).group(1)
    (root / "book" / "_static" / "mathjax" / "VERSION").write_text(version + "\n")
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: book/chapter\n")
    (root / "book" / "intro.md").write_text("# Intro\n")
    chapter = root / "book" / "chapter.ipynb"
    chapter.write_text(notebook(source))
    return chapter


def run_notebook_tests(root: Path, *options: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider",
               "--rootdir", str(root), str(root / "book"), *options]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=root)


@pytest.mark.slow
def test_the_build_reuses_what_the_notebook_tests_executed(tmp_path):
    # the notebook counts its own executions in a file beside it
    chapter = small_book(tmp_path, "open('runs.txt', 'a').write('run\\n')\nprint(6 * 7)")
    runs = tmp_path / "book" / "runs.txt"
    tested = run_notebook_tests(tmp_path)
    assert tested.returncode == 0, tested.stdout[-3000:]
    assert runs.read_text() == "run\n"
    report = json.loads((tmp_path / "_build" / "executed" / "report.json").read_text())
    assert report["book/chapter.ipynb"]["passed"] is True and report["book/chapter.ipynb"]["seconds"] > 0

    built = build(tmp_path)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert runs.read_text() == "run\n"  # not executed again ...
    assert "42" in (tmp_path / "_build" / "html" / "book" / "chapter.html").read_text()  # ... but shown

    # --only-uncached: nothing to execute while the code is unchanged; a changed cell runs again
    assert run_notebook_tests(tmp_path, "--only-uncached").returncode == 5
    chapter.write_text(notebook("open('runs.txt', 'a').write('run\\n')\nprint(6 * 8)"))
    assert run_notebook_tests(tmp_path, "--only-uncached").returncode == 0
    assert runs.read_text() == "run\nrun\n"


@pytest.mark.slow
def test_a_notebook_that_fails_its_tests_is_not_reused(tmp_path):
    small_book(tmp_path, "raise RuntimeError('broken at test time')")
    assert run_notebook_tests(tmp_path).returncode == 1
    failing = build(tmp_path)  # executes it again, and fails
    assert failing.returncode != 0 and "broken at test time" in failing.stdout + failing.stderr
