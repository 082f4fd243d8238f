"""An on-disk cache of computed results: trained weights, experiment outputs.

Each entry is one file, ``<name>-<key>.pt``, under ``<cache>/models/`` next to the glyph data
(``$MTL_TUTORIAL_CACHE``, else ``~/.cache/mtl_tutorial``). The key hashes the entry's name, its
settings, the source files of the code that computes it and torch's version, so a change to any
of them makes the old entry stale: it is not found, the result is computed again, and the stale
file is removed. Files are written atomically, carry a SHA-256 checksum of their tensors and are
read with ``torch.load(weights_only=True)``; one that is unreadable, fails its checksum or holds
another key is recomputed, with a warning. A lock file per entry makes processes that need the
same entry at once (notebooks tested in parallel) compute it once: the others wait and load it.
Every result is computed on one thread (:data:`COMPUTE_THREADS`), so that it does not depend on
how many cores the machine that computed it had.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import os
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..tasks.glyphs import default_cache_dir
from ..training import exclusive_lock, save_atomically

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
#: Set to a file path to have every cache lookup appended there as one JSON line
#: (the book's build records which notebook trained what, for its status page).
LOG_VARIABLE = "MTL_TUTORIAL_CACHE_LOG"
#: Set by the book's test run to the notebook being executed; written into the log.
NOTEBOOK_VARIABLE = "MTL_TUTORIAL_NOTEBOOK"


def models_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """Where cached results live: ``<cache_dir>/models`` (default cache: :func:`default_cache_dir`)."""
    return Path(cache_dir or default_cache_dir()) / "models"


def package_files() -> list[Path]:
    """Every source file of the package (for results that depend on much of it)."""
    return sorted(PACKAGE_ROOT.rglob("*.py"))


def source_files(objects: Sequence[object]) -> list[Path]:
    """The package's source files that define ``objects`` (modules, classes, functions, or paths)
    and, for classes, their base classes: the code whose change makes a cached result stale."""
    files: set[Path] = set()
    for obj in objects:
        if isinstance(obj, Path):
            files.add(obj.resolve())
            continue
        targets = obj.__mro__ if isinstance(obj, type) else (obj,)
        for target in targets:
            try:
                path = Path(inspect.getfile(target)).resolve()
            except TypeError:  # built-in
                continue
            if PACKAGE_ROOT in path.parents:
                files.add(path)
    return sorted(files)


def cache_key(name: str, settings: Mapping[str, Any], code: Sequence[object]) -> str:
    """20 hex digits of SHA-256 over the name, the settings (as sorted JSON), the source of
    ``code`` (see :func:`source_files`) and torch's major.minor version."""
    digest = hashlib.sha256(name.encode())
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for path in source_files(code):
        digest.update(str(path.relative_to(PACKAGE_ROOT)).encode())
        digest.update(path.read_bytes())
    digest.update(".".join(torch.__version__.split(".")[:2]).encode())
    return digest.hexdigest()[:20]


def entry_path(name: str, key: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """Where the entry ``name`` with key ``key`` (:func:`cache_key`) lives: ``<models>/<name>-<key>.pt``."""
    return models_dir(cache_dir) / f"{name}-{key}.pt"


def tensors_checksum(payload: Any) -> str:
    """SHA-256 over every tensor in ``payload`` (nested dicts, lists, tuples), in a fixed order."""
    digest = hashlib.sha256()

    def visit(value: Any, where: str) -> None:
        if isinstance(value, torch.Tensor):
            flat = value.detach().cpu().contiguous().reshape(-1)
            digest.update(f"{where}:{value.dtype}:{tuple(value.shape)}".encode())
            digest.update(flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b"")
        elif isinstance(value, Mapping):
            for k in sorted(value, key=str):
                visit(value[k], f"{where}/{k}")
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                visit(v, f"{where}[{i}]")

    visit(payload, "")
    return digest.hexdigest()


#: Results are computed on this many threads, whoever asks for them: with more, the order of
#: floating-point sums changes with the machine's core count and so do the trained weights (a
#: glyph ProtoNet trained on two threads scored differently from the same recipe on one).
COMPUTE_THREADS = 1


@contextlib.contextmanager
def _threads(count: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass(frozen=True)
class Lookup:
    """What :func:`cached` returns: the payload, and whether it came from the cache."""

    payload: dict[str, Any]
    from_cache: bool
    path: Path
    seconds: float  # spent in this call: loading, or computing and saving


def _log(name: str, lookup: Lookup) -> None:
    log = os.environ.get(LOG_VARIABLE)
    if not log:
        return
    entry = {
        "entry": name,
        "from_cache": lookup.from_cache,
        "seconds": round(lookup.seconds, 3),
        "notebook": os.environ.get(NOTEBOOK_VARIABLE),
    }
    with open(log, "a", encoding="utf-8") as file:
        file.write(json.dumps(entry) + "\n")


def _read(path: Path, key: str, safe_types: Sequence[type]) -> dict[str, Any] | None:
    """The payload at ``path`` if it is readable, intact and made under ``key``; else ``None``."""
    if not path.exists():
        return None
    try:
        with torch.serialization.safe_globals(list(safe_types)):
            saved = torch.load(path, map_location="cpu", weights_only=True)
        if saved.get("key") != key:
            raise ValueError(f"it holds key {saved.get('key')!r}, not {key!r}")
        if tensors_checksum(saved["payload"]) != saved["sha256"]:
            raise ValueError("checksum mismatch")
        return saved["payload"]
    except Exception as error:  # corrupt, truncated or foreign: say so, then recompute
        warnings.warn(f"cached result {path} is unusable ({error}); computing it again", stacklevel=3)
        return None


def cached(
    name: str,
    settings: Mapping[str, Any],
    compute: Callable[[], dict[str, Any]],
    *,
    code: Sequence[object] = (),
    cache_dir: str | os.PathLike | None = None,
    recompute: bool = False,
    safe_types: Sequence[type] = (),
) -> Lookup:
    """``compute()``'s payload for ``name`` and ``settings``: from the cache when a valid entry is
    there, else computed now and cached.

    Args:
        name: the entry's name (letters, digits, ``_`` and ``-``); part of its file name.
        settings: everything ``compute`` depends on besides code, JSON-serialisable.
        compute: returns the payload, a dict of tensors, numbers, strings and plain containers
            (and instances of ``safe_types``), which ``torch.load(weights_only=True)`` can read.
        code: modules, classes or functions of this package whose source is part of the key.
        cache_dir: the cache's root (default :func:`~mtl_tutorial.tasks.glyphs.default_cache_dir`).
        recompute: ignore a cached entry and compute again (default False).
        safe_types: classes, beyond tensors and plain containers, the payload may hold; they
            are allowed through ``torch.serialization.safe_globals`` when loading.

    Raises:
        ValueError: for a name with other characters, or a payload that is not a dict.
    """
    if not name or not all(c.isalnum() or c in "_-" for c in name):
        raise ValueError(f"name must be letters, digits, '_' or '-', got {name!r}")
    key = cache_key(name, settings, code)
    path = entry_path(name, key, cache_dir)
    directory = path.parent
    began = time.perf_counter()
    with exclusive_lock(path):
        payload = None if recompute else _read(path, key, safe_types)
        from_cache = payload is not None
        if payload is None:
            with _threads(COMPUTE_THREADS):
                payload = compute()
            if not isinstance(payload, dict):
                raise ValueError(f"compute() must return a dict, got {type(payload).__name__}")
            saved = {"name": name, "key": key, "settings": json.dumps(settings, sort_keys=True, default=str),
                     "payload": payload, "sha256": tensors_checksum(payload)}  # fmt: skip
            save_atomically(saved, path)
            for stale in directory.glob(f"{name}-*.pt"):  # older versions of this entry
                if stale != path and stale.name[len(name) + 1 : -3].isalnum():
                    stale.unlink(missing_ok=True)
                    stale.with_name(stale.name + ".lock").unlink(missing_ok=True)
    lookup = Lookup(payload, from_cache, path, time.perf_counter() - began)
    _log(name, lookup)
    return lookup


def cache_entries(cache_dir: str | os.PathLike | None = None) -> list[Path]:
    """Every cached result file, sorted by name."""
    directory = models_dir(cache_dir)
    return sorted(directory.glob("*.pt")) if directory.is_dir() else []


def clear_cache(cache_dir: str | os.PathLike | None = None, names: Sequence[str] = ()) -> list[Path]:
    """Delete cached results (all of them, or those of the entries ``names``); return the files
    deleted. The glyph data beside them is kept (it is regenerated in seconds anyway)."""
    removed = []
    for path in cache_entries(cache_dir):
        entry = path.name.rsplit("-", 1)[0]
        if not names or entry in names:
            path.unlink(missing_ok=True)
            path.with_name(path.name + ".lock").unlink(missing_ok=True)
            removed.append(path)
    return removed
