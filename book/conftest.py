"""pytest plugin for the book's notebooks under nbval: execute each notebook once per change.

nbval executes every code cell of a notebook and fails the test of a cell that raises. This
plugin keeps what that execution produced, so the book's build does not execute it again:

- after a notebook's last cell, if every cell passed, the notebook with its outputs is written
  to ``_build/executed/`` and, at the end of the session, added to the build's jupyter-cache
  (``_build/.jupyter_cache``, where myst-nb's ``execute_notebooks: cache`` finds it: the cache
  is keyed by the code cells, so a notebook whose code is unchanged is not executed again, and a
  notebook that failed is never cached);
- ``--only-uncached`` deselects the notebooks the cache already holds, and those the build
  executes itself (``scripts/build_book.sh`` executes only the notebooks that changed);
- each notebook's execution time and the trained models it loaded or trained (from the
  trained-model cache's log) are merged into ``_build/executed/report.json``, which the status
  page shows and ``scripts/check_budgets.py`` holds against the time budgets.

Notebooks whose metadata sets ``mystnb.execution_mode: force`` (pages that read files written
after the tests, such as the full-scale results) are tested but not cached: the build runs them.
Works with pytest-xdist (``-n 2 --dist loadscope``: one notebook per worker at a time).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
EXECUTED = BUILD / "executed"
REPORT = EXECUTED / "report.json"
JUPYTER_CACHE = BUILD / ".jupyter_cache"
SESSION_VARIABLE = "MTL_TUTORIAL_NBVAL_SESSION"


def pytest_addoption(parser):
    parser.addoption(
        "--only-uncached",
        action="store_true",
        help="skip notebooks whose executed outputs the build's jupyter-cache already holds",
    )


def _is_notebook_cell(item) -> bool:
    return type(item).__name__ == "IPyNbCell"


def _forced(nb) -> bool:
    return nb.metadata.get("mystnb", {}).get("execution_mode") == "force"


def _relative(path) -> str:
    return Path(str(path)).resolve().relative_to(ROOT).as_posix()


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        os.environ.setdefault(SESSION_VARIABLE, uuid.uuid4().hex)
        EXECUTED.mkdir(parents=True, exist_ok=True)
        log = EXECUTED / f"cache-log-{os.environ[SESSION_VARIABLE]}.jsonl"
        os.environ["MTL_TUTORIAL_CACHE_LOG"] = str(log)  # inherited by workers and their kernels
    os.environ.setdefault("MTL_TUTORIAL_PROGRESS", "0")  # no progress bars in the book's outputs


#: The notebooks that take longest from an empty cache (measured on 2 cores, December 2026),
#: longest first; the tests run them first, so that the two workers finish together instead of
#: one waiting on the other's last long notebook. The rest follow in the order of the book.
LONGEST_FIRST = ("claims_images", "04_images", "05_trends_shift", "claims", "05_trends_meta", "02_concepts",
                 "05_trends_transfer", "05_trends_in_context", "03_proto_maml", "04_code")  # fmt: skip
#: Tests that start processes of their own (torchrun): last, so that they do not take a core
#: from a notebook whose time is held against its budget.
LAST = ("test_distributed", "test_omniglot")


def _longest_first(items) -> None:
    def rank(item) -> int:
        stem = Path(str(item.fspath)).stem
        if stem in LAST:
            return len(LONGEST_FIRST) + 1
        return LONGEST_FIRST.index(stem) if stem in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: cells keep their order within a notebook


def pytest_collection_modifyitems(config, items):
    _longest_first(items)
    if not config.getoption("--only-uncached"):
        return
    from jupyter_cache import get_cache

    cache = get_cache(str(JUPYTER_CACHE))
    cached_files, kept, skipped = {}, [], []
    for item in items:
        if not _is_notebook_cell(item):
            kept.append(item)
            continue
        path = str(item.parent.fspath)
        if path not in cached_files:
            nb = item.parent.nb
            try:
                # forced pages are executed by the build itself, after the files they read exist
                cached_files[path] = _forced(nb) or cache.match_cache_notebook(nb) is not None
            except KeyError:
                cached_files[path] = False
        (skipped if cached_files[path] else kept).append(item)
    if skipped:
        config.hook.pytest_deselected(items=skipped)
        items[:] = kept


_started: dict[str, float] = {}
_failed: set[str] = set()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if _is_notebook_cell(item):
        notebook = _relative(item.parent.fspath)
        if notebook not in _started:  # before nbval starts this notebook's kernel
            _started[notebook] = time.perf_counter()
            os.environ["MTL_TUTORIAL_NOTEBOOK"] = notebook


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if _is_notebook_cell(item) and report.failed:
        _failed.add(_relative(item.parent.fspath))
    if _is_notebook_cell(item) and call.when == "call" and report.passed:
        item.cell.outputs = [nbformat.from_dict(dict(o)) for o in (item.test_outputs or [])]
        item.cell.execution_count = item.cell_num + 1


def pytest_runtest_teardown(item, nextitem):
    if not _is_notebook_cell(item):
        return
    if nextitem is not None and nextitem.parent is item.parent:
        return
    notebook = _relative(item.parent.fspath)  # its last cell: the notebook is done
    seconds = time.perf_counter() - _started[notebook]
    name = notebook.removesuffix(".ipynb").replace("/", "__")
    record = {"notebook": notebook, "seconds": round(seconds, 1), "passed": notebook not in _failed,
              "session": os.environ.get(SESSION_VARIABLE), "finished": time.time()}  # fmt: skip
    if record["passed"] and not _forced(item.parent.nb):
        nbformat.write(item.parent.nb, EXECUTED / f"{name}.ipynb")
        record["executed"] = f"{name}.ipynb"
    (EXECUTED / f"{name}.json").write_text(json.dumps(record))


def pytest_sessionfinish(session, exitstatus):
    if hasattr(session.config, "workerinput"):
        return  # the controller collects what the workers wrote
    session_id = os.environ.get(SESSION_VARIABLE)
    records = []
    for path in sorted(EXECUTED.glob("*.json")):
        if path.name == REPORT.name:
            continue
        record = json.loads(path.read_text())
        if record.get("session") == session_id:
            records.append(record)
    if not records:
        return
    _add_to_jupyter_cache(records)
    _update_report(records, session_id)


def _add_to_jupyter_cache(records: list[dict]) -> None:
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(JUPYTER_CACHE))
    for record in records:
        if "executed" in record:
            nb = nbformat.read(EXECUTED / record["executed"], as_version=4)
            bundle = CacheBundleIn(nb, str(ROOT / record["notebook"]),
                                   data={"execution_seconds": record["seconds"]})  # fmt: skip
            cache.cache_notebook_bundle(bundle, check_validity=False, overwrite=True)


def _update_report(records: list[dict], session_id: str) -> None:
    log = Path(os.environ["MTL_TUTORIAL_CACHE_LOG"])
    lookups = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    report = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    for record in records:
        models = [
            {"entry": x["entry"], "from_cache": x["from_cache"], "seconds": x["seconds"]}
            for x in lookups
            if x.get("notebook") == record["notebook"]
        ]
        report[record["notebook"]] = {
            "seconds": record["seconds"],
            "passed": record["passed"],
            "models": models,
            "finished": record["finished"],
        }
    REPORT.write_text(json.dumps(report, indent=1, sort_keys=True))
    log.unlink(missing_ok=True)
