"""The claims experiments: the rows they write, their determinism and their input checks."""

import pytest

from mtl_tutorial.cli import main
from mtl_tutorial.experiments.claims import data_scarcity_sinusoid


def test_data_scarcity_rows_cover_every_method_and_support_size_and_repeat_exactly():
    rows = data_scarcity_sinusoid((1, 10), iterations=30, steps=1, test_tasks=20)
    assert [(r["method"], r["x"]) for r in rows] == [
        ("maml", 1), ("pretrained", 1), ("maml", 10), ("pretrained", 10)
    ]  # fmt: skip
    for row in rows:
        assert row["claim"] == "data_scarcity" and row["benchmark"] == "sinusoid"
        assert row["value"] > 0 and row["ci95"] > 0 and row["diverged"] == 0 and row["median"] > 0
    assert rows == data_scarcity_sinusoid((1, 10), iterations=30, steps=1, test_tasks=20)


def test_more_support_points_lower_the_error_after_fine_tuning():
    rows = data_scarcity_sinusoid((1, 50), iterations=200, steps=10, test_tasks=50)
    value = {(r["method"], r["x"]): r["value"] for r in rows}
    assert value[("maml", 50)] < value[("maml", 1)]


def test_bad_requests_are_refused_with_the_value():
    with pytest.raises(ValueError, match="shots entry"):
        data_scarcity_sinusoid((0, 5), iterations=1)
    with pytest.raises(ValueError, match="at least one"):
        data_scarcity_sinusoid((), iterations=1)


def test_the_claims_command_writes_json(tmp_path):
    import json

    path = tmp_path / "claims.json"
    code = main(["claims", "--json", str(path), "--shots", "2", "5", "--iterations", "20",
                 "--test-tasks", "10"])  # fmt: skip
    assert code == 0
    rows = json.loads(path.read_text())
    assert {r["x"] for r in rows} == {2, 5} and {r["method"] for r in rows} == {"maml", "pretrained"}
