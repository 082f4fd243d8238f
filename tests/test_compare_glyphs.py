"""compare_glyphs with fixed iteration counts: deterministic, and strict about its input."""

import pytest
import torch

from mtl_tutorial.experiments.glyphs import GlyphBudget, compare_glyphs

SMALL = GlyphBudget(test_episodes=6, queries=3, meta_batch_size=1, eval_batch=3)


def quiet(_: str) -> None:
    pass


def test_fixed_iterations_give_identical_results_twice():
    runs = [
        compare_glyphs(
            ["protonet", "centroid"],
            shots=(1,),
            budget=SMALL,
            log=quiet,
            iterations={"protonet": 2, "pretraining": 2},
        )  # fmt: skip
        for _ in range(2)
    ]
    (rows_a, per_a), (rows_b, per_b) = runs
    for key in per_a:
        assert torch.equal(per_a[key], per_b[key])
    assert [r["accuracy"] for r in rows_a] == [r["accuracy"] for r in rows_b]
    assert all(r["train_seconds"] > 0 for r in rows_a)


def test_more_iterations_change_the_result():
    """The counts are really used: 1 and 30 protonet iterations do not give the same model."""
    per = [
        compare_glyphs(["protonet"], shots=(1,), budget=SMALL, log=quiet, iterations={"protonet": n})[1]
        for n in (1, 30)
    ]
    assert not torch.equal(per[0][("protonet", 1)], per[1][("protonet", 1)])


def test_missing_or_bad_iteration_counts_are_refused():
    with pytest.raises(ValueError, match=r"no entry for \['pretraining'\]"):
        compare_glyphs(["protonet", "centroid"], shots=(1,), budget=SMALL, log=quiet,
                       iterations={"protonet": 2})  # fmt: skip
    with pytest.raises(ValueError, match="iterations\\['maml'\\]"):
        compare_glyphs(["maml"], shots=(1,), budget=SMALL, log=quiet, iterations={"maml": 0})
