import json
import runpy
import shutil
from pathlib import Path

import pytest
import torch

from mtl_tutorial import MAML, MLP, MetaSGD, SinusoidTasks
from mtl_tutorial.cli import help_text, main
from mtl_tutorial.experiments import SinusoidBudget, reproduce_sinusoid
from mtl_tutorial.experiments.sinusoid import SETUPS, reproduction_learner, training_tasks
from mtl_tutorial.tasks import load_glyphs
from mtl_tutorial.tasks.glyphs import cache_key as glyph_cache_key
from mtl_tutorial.tasks.glyphs import default_cache_dir


@pytest.mark.slow
def test_reproduce_sinusoid_writes_one_row_per_method_and_step_count(tmp_path, capsys):
    path, figure = tmp_path / "rows.json", tmp_path / "figure.png"
    # not maml: its training here is compiled (tens of seconds to compile, on a fresh machine),
    # and the compiled meta-gradient has its own test below
    code = main(
        ["reproduce", "sinusoid", "--methods", "pretrained,film,scratch", "--scale", "0.002",
         "--json", str(path), "--figure", str(figure)]
    )  # fmt: skip
    assert code == 0
    report = json.loads(path.read_text())
    rows = report["rows"]
    assert [(r["method"], r["steps"]) for r in rows] == [
        (m, s) for m in ("pretrained", "film", "scratch") for s in (1, 5, 10)
    ]
    for row in rows:
        fields = {"method", "shots", "steps", "metric", "value", "ci95", "median", "diverged", "compiled"}
        assert fields <= set(row)
        assert row["shots"] == 5 and row["value"] > 0 and row["ci95"] > 0 and row["median"] > 0
        assert row["diverged"] == 0 and row["compiled"] is False
    environment = report["environment"]
    assert environment["torch"] == torch.__version__ and environment["threads"] == torch.get_num_threads()
    assert environment["cpu"] and environment["compiled"] == []
    assert report["settings"]["test_seed"] == 2017 and report["command"].startswith("mtl-tutorial reproduce")
    assert report["settings"]["setup"] == "multi-step"  # the default
    assert figure.stat().st_size > 10_000
    printed = capsys.readouterr().out
    assert "[2.41]" in printed and "pretrained" in printed  # the paper's figure beside ours


def test_unknown_methods_are_a_clear_error(capsys):
    assert main(["reproduce", "sinusoid", "--methods", "maml,nope"]) == 2
    assert "unknown methods ['nope']" in capsys.readouterr().err
    with pytest.raises(ValueError, match="setup must be one of"):
        reproduce_sinusoid(["maml"], setup="mine")


def test_the_setups_are_the_paper_and_weighted_multi_step_losses():
    assert SETUPS["paper"] == {}  # every learner as in the paper: one inner step, K = 10
    maml = SETUPS["multi-step"]["maml"]
    assert maml["inner_steps"] == 5 and MAML(MLP(), **maml).step_weights == (0.5, 0.125, 0.125, 0.125, 0.125)
    anil = SETUPS["multi-step"]["anil"]
    weights = torch.tensor(anil["multi_step_loss"])
    assert anil["inner_steps"] == 10 and weights[0] == 0.5 and torch.isclose(weights.sum(), torch.tensor(1.0))
    assert training_tasks("anil", "multi-step").support_size == 5  # the test's K
    assert training_tasks("maml", "multi-step").support_size == 10
    assert training_tasks("anil", "paper").support_size == 10
    # Meta-SGD keeps one inner step; its step sizes are bounded, and the reproduction builds it so
    assert SETUPS["multi-step"]["metasgd"] == {"max_rate": 0.05}
    assert reproduction_learner("metasgd", setup="multi-step").max_rate == 0.05
    assert reproduction_learner("metasgd", setup="paper").max_rate is None


def test_budgets_scale_and_the_paper_budget_is_70000():
    assert SinusoidBudget.paper().iterations["maml"] == 70_000
    assert (
        SinusoidBudget().scaled(0.5).iterations["pretrained"]
        == SinusoidBudget().iterations["pretrained"] // 2
    )
    assert SinusoidBudget().scaled(1e-9).iterations["maml"] == 1  # never zero for a trained method
    with pytest.raises(ValueError, match="factor must be > 0"):
        SinusoidBudget().scaled(0)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None, reason="needs a C++ compiler")
@pytest.mark.parametrize(
    "learner_class, setup",
    [(MAML, SETUPS["multi-step"]["maml"]), (MAML, {}), (MetaSGD, {})],
    ids=["maml-multi-step", "maml-paper", "metasgd"],
)
def test_compiled_meta_gradient_equals_the_eager_one(learner_class, setup):
    # the reproduction's network and meta-batch (the compiled graph is then reused, from the
    # compiler's cache, by the short reproduction below)
    episode = SinusoidTasks().sample(25, seed=0)
    gradients = []
    for compile in (False, True):
        torch.manual_seed(0)
        learner = learner_class(MLP(), compile=compile, **setup)
        learner.meta_loss(episode).backward()
        gradients.append(torch.cat([p.grad.flatten() for p in learner.optimizer.param_groups[0]["params"]]))
    torch.testing.assert_close(gradients[1], gradients[0], rtol=1e-5, atol=1e-7)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None, reason="needs a C++ compiler")
def test_compiled_and_eager_reproductions_agree_on_a_short_run():
    # 30 iterations of the reproduction's MAML, compiled and eager, scored on the same test tasks:
    # the same numbers up to rounding (the compiled meta-gradient differs in the last bits only)
    budget = SinusoidBudget({"maml": 30})
    per_task = {}
    for compile in (False, True):
        rows, scores = reproduce_sinusoid(
            ["maml"], budget=budget, test_tasks=50, compile=compile, log=lambda _: None
        )
        assert all(r["compiled"] is compile for r in rows)
        per_task[compile] = scores["maml"]
    torch.testing.assert_close(per_task[True], per_task[False], rtol=1e-3, atol=1e-5)


@pytest.mark.slow
def test_compare_glyphs_writes_the_table_rows(tmp_path, capsys, monkeypatch):
    # a cache of its own for what the command computes, with the shared glyph data copied in
    # (generating them again would be most of this test's time)
    (tmp_path / "cache").mkdir()
    shared = load_glyphs()
    shutil.copy(default_cache_dir() / f"glyphs-{glyph_cache_key(shared.config)}.pt", tmp_path / "cache")
    monkeypatch.setenv("MTL_TUTORIAL_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "glyphs.json"
    code = main(
        ["compare", "glyphs", "--methods", "protonet,centroid,linear_probe", "--shots", "1",
         "--episodes", "25", "--scale", "0.02", "--json", str(path)]
    )  # fmt: skip
    assert code == 0
    rows = json.loads(path.read_text())
    assert [r["method"] for r in rows] == ["protonet", "centroid", "linear_probe"]
    keys = {
        "method",
        "shots",
        "metric",
        "value",
        "ci95",
        "train_seconds",
        "test_ms_per_episode",
        "train_peak_mib",
        "test_peak_mib",
    }
    for row in rows:
        assert keys <= set(row) and 0 <= row["value"] <= 1 and row["test_peak_mib"] > 0
    printed = capsys.readouterr().out
    assert "whole comparison" in printed and "Paired on identical episodes" in printed


def test_the_full_scale_page_shows_the_current_help():
    """book/full_scale.md quotes each command's --help; `python scripts/refresh_cli_help.py` updates it."""
    page = Path(__file__).parents[1] / "book" / "full_scale.md"
    script = runpy.run_path(str(Path(__file__).parents[1] / "scripts" / "refresh_cli_help.py"))
    text = page.read_text()
    assert len(script["HELP_BLOCK"].findall(text)) >= 5  # top level and four commands
    assert script["refreshed"](text) == text, "run: python scripts/refresh_cli_help.py"


def test_help_text_is_what_help_prints_and_refuses_an_unknown_command(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit):
        main(["claims", "--help"])
    assert help_text(["claims"], width=80) == capsys.readouterr().out
    with pytest.raises(ValueError, match="(?s)no help for mtl-tutorial nonsense: .*invalid choice"):
        help_text(["nonsense"])
