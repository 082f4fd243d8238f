"""The package's layering: each part imports only from the layers below it.

The layers, bottom up, are the module map of the README. A part that needs something from a
higher layer is a sign that the thing belongs lower down (or is passed in), not a reason to
import upwards.
"""

import ast
from pathlib import Path

import mtl_tutorial

ROOT = Path(mtl_tutorial.__file__).parent
LAYERS = (
    # argument checks; the plain-PyTorch reference methods; data-parallel helpers and the
    # threads that run a meta-batch's tasks side by side (torch only)
    {"_checks", "from_scratch", "distributed", "task_threads"},
    {"training", "models"},  # the training loop and checkpoints; networks
    {"tasks"},  # task distributions and episodes
    {"adaptation"},  # inner-loop steps, functional parameters
    {"learner"},  # the Learner interface and the one training contract
    {"meta", "transfer", "evaluation"},  # the methods; scoring, statistics, cost
    {"registry", "plotting"},  # learners by name; figures of given numbers
    {"diagrams"},  # concept figures drawn by code (with the book's style from plotting)
    {"recipes"},  # named trained models and the cache
    {"experiments"},  # runners, claims, chapter experiments
    {"cli", "book"},
    {"__init__", "__main__"},
)
LAYER_OF = {part: i for i, parts in enumerate(LAYERS) for part in parts}


def part_of(path: Path, root: Path = ROOT) -> str:
    """The top-level part of the package a file belongs to (``meta`` for ``meta/maml.py``)."""
    return path.relative_to(root).with_suffix("").parts[0]


def imported_parts(path: Path, root: Path = ROOT) -> set[str]:
    """The top-level parts of the package that ``path`` imports from."""
    package = list(path.relative_to(root).parent.parts)
    parts = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level == 0:
            if node.module and node.module.split(".")[0] == "mtl_tutorial":
                dotted = node.module.split(".")[1:]
                parts.add(dotted[0] if dotted else "__init__")
            continue
        target = package[: len(package) - node.level + 1] + (node.module.split(".") if node.module else [])
        parts.update([target[0]] if target else [alias.name for alias in node.names])
    return parts


def test_every_part_of_the_package_has_a_layer():
    parts = {part_of(path) for path in ROOT.rglob("*.py")}
    assert parts == set(LAYER_OF), "add new parts of the package to LAYERS"


def test_imports_only_go_down():
    upward = []
    for path in sorted(ROOT.rglob("*.py")):
        part = part_of(path)
        for imported in imported_parts(path) - {part}:
            if LAYER_OF[imported] >= LAYER_OF[part]:
                upward.append(f"{path.relative_to(ROOT)} imports {imported}")
    assert not upward


def test_relative_and_absolute_imports_are_both_resolved(tmp_path):
    (tmp_path / "tasks").mkdir()
    bad = tmp_path / "tasks" / "bad.py"
    bad.write_text(
        "from ..experiments import glyphs\nfrom mtl_tutorial.cli import main\nfrom . import images\n"
    )
    assert imported_parts(bad, root=tmp_path) == {"experiments", "cli", "tasks"}
    (tmp_path / "top.py").write_text("from . import registry\nfrom .meta.maml import MAML\n")
    assert imported_parts(tmp_path / "top.py", root=tmp_path) == {"registry", "meta"}
