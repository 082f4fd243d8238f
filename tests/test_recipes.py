"""The trained-model cache and the named recipes: computed once, reloaded exactly, recomputed
when stale or damaged, loaded with weights_only=True, shared safely between processes."""

import json
import warnings

import pytest
import torch

from mtl_tutorial import MAML, MLP, ProtoNet, SinusoidTasks, cli, seed_everything
from mtl_tutorial.recipes import (
    RECIPES,
    Recipe,
    cache_entries,
    cache_key,
    cached,
    cached_call,
    clear_cache,
    is_cached,
    recipe,
    store,
    train_in_background,
    train_recipe,
    untrained,
)

from helpers import run_at_once


def counting_compute(calls, value=1.0):
    def compute():
        calls.append(1)
        return {"weights": torch.full((3,), value), "note": "a string", "steps": [1, 2]}

    return compute


def test_second_lookup_loads_what_the_first_computed(tmp_path):
    calls = []
    first = cached("entry", {"a": 1}, counting_compute(calls), cache_dir=tmp_path)
    second = cached("entry", {"a": 1}, counting_compute(calls), cache_dir=tmp_path)
    assert (first.from_cache, second.from_cache, len(calls)) == (False, True, 1)
    assert torch.equal(second.payload["weights"], first.payload["weights"])
    assert second.payload["steps"] == [1, 2] and second.payload["note"] == "a string"


def test_other_settings_are_another_entry_and_replace_the_stale_file(tmp_path):
    calls = []
    old = cached("entry", {"a": 1}, counting_compute(calls), cache_dir=tmp_path)
    new = cached("entry", {"a": 2}, counting_compute(calls, 2.0), cache_dir=tmp_path)
    assert len(calls) == 2 and not new.from_cache
    assert not old.path.exists() and cache_entries(tmp_path) == [new.path]


def test_a_change_in_the_code_changes_the_key(tmp_path, monkeypatch):
    source = tmp_path / "trainer.py"
    source.write_text("step = 0.01\n")
    monkeypatch.setattr(store, "source_files", lambda objects: [source])
    monkeypatch.setattr(store, "PACKAGE_ROOT", tmp_path)
    before = cache_key("entry", {"a": 1}, ())
    source.write_text("step = 0.02\n")
    assert cache_key("entry", {"a": 1}, ()) != before


def test_the_key_covers_the_learner_and_its_base_classes():
    files = {p.name for p in store.source_files([MAML])}
    assert {"maml.py", "learner.py"} <= files
    assert cache_key("m", {}, [MAML]) != cache_key("m", {}, [ProtoNet])


@pytest.mark.parametrize("damage", ["truncate", "tamper", "garbage"])
def test_a_damaged_file_is_recomputed_with_a_warning(tmp_path, damage):
    calls = []
    path = cached("entry", {}, counting_compute(calls), cache_dir=tmp_path).path
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "garbage":
        path.write_bytes(b"not a checkpoint")
    else:  # a valid file whose tensors no longer match their checksum
        saved = torch.load(path, weights_only=True)
        saved["payload"]["weights"][0] = 7.0
        torch.save(saved, path)
    with pytest.warns(UserWarning, match="unusable"):
        again = cached("entry", {}, counting_compute(calls), cache_dir=tmp_path)
    assert len(calls) == 2 and not again.from_cache
    assert torch.equal(again.payload["weights"], torch.ones(3))


def test_entries_are_read_with_weights_only(tmp_path, monkeypatch):
    cached("entry", {}, counting_compute([]), cache_dir=tmp_path)
    seen = []
    original = torch.load

    def spy(*args, **kwargs):
        seen.append(kwargs.get("weights_only"))
        return original(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    assert cached("entry", {}, counting_compute([]), cache_dir=tmp_path).from_cache
    assert seen == [True]


class Opaque:
    """Any class weights_only refuses to build unless it is allowlisted."""


def test_an_object_outside_the_allowlist_is_not_unpickled(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = cached("entry", {}, lambda: {"thing": Opaque.__new__(Opaque)}, cache_dir=tmp_path).path
    calls = []
    with pytest.warns(UserWarning, match="unusable"):
        cached("entry", {}, counting_compute(calls), cache_dir=tmp_path)
    assert len(calls) == 1 and path.exists()


def test_bad_names_and_payloads_are_refused(tmp_path):
    with pytest.raises(ValueError, match="letters, digits"):
        cached("../escape", {}, counting_compute([]), cache_dir=tmp_path)
    with pytest.raises(ValueError, match="must return a dict"):
        cached("entry", {}, lambda: [1, 2], cache_dir=tmp_path)


def _compute_in_another_process(cache_dir, log):
    def compute():
        with open(log, "a") as file:
            file.write("computed\n")
        return {"value": torch.arange(4)}

    cached("shared", {}, compute, cache_dir=cache_dir)


def test_processes_needing_one_entry_at_once_compute_it_once(tmp_path):
    log = tmp_path / "computations.txt"
    assert run_at_once(_compute_in_another_process, (tmp_path, log)) == [0, 0, 0]
    assert log.read_text() == "computed\n"


def test_lookups_are_logged_with_the_notebook(tmp_path, monkeypatch):
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv(store.LOG_VARIABLE, str(log))
    monkeypatch.setenv(store.NOTEBOOK_VARIABLE, "book/01_background.ipynb")
    cached("entry", {}, counting_compute([]), cache_dir=tmp_path)
    cached("entry", {}, counting_compute([]), cache_dir=tmp_path)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["from_cache"] for line in lines] == [False, True]
    assert {line["notebook"] for line in lines} == {"book/01_background.ipynb"}


def test_clear_removes_all_or_the_named_entries(tmp_path):
    for name in ("one", "two"):
        cached(name, {}, counting_compute([]), cache_dir=tmp_path)
    assert [p.name.split("-")[0] for p in clear_cache(tmp_path, names=["one"])] == ["one"]
    assert len(cache_entries(tmp_path)) == 1
    clear_cache(tmp_path)
    assert cache_entries(tmp_path) == []


# -- recipes ------------------------------------------------------------------------------------


def _build_tiny(settings, device):
    seed_everything(settings["seed"])
    return MAML(MLP(hidden=(8,)).to(device), inner_lr=0.01)


def _fit_tiny(learner, settings, progress):
    return learner.fit(SinusoidTasks(), iterations=settings["iterations"], meta_batch_size=4, seed=0,
                       progress=progress)  # fmt: skip


@pytest.fixture
def tiny_recipe(monkeypatch):
    tiny = Recipe("tiny_maml", "a test recipe", {"seed": 0, "iterations": 5}, _build_tiny, _fit_tiny, (MAML,))
    monkeypatch.setitem(RECIPES, tiny.name, tiny)
    return tiny


def test_a_recipe_trains_once_and_reloads_the_same_learner(tmp_path, tiny_recipe):
    first = train_recipe("tiny_maml", cache_dir=tmp_path, progress=False)
    second = train_recipe("tiny_maml", cache_dir=tmp_path, progress=False)
    assert (first.from_cache, second.from_cache) == (False, True)
    assert len(first.losses) == 5 and second.losses == first.losses
    assert second.learner.train_seconds == first.learner.train_seconds > 0  # what the training took
    for a, b in zip(first.learner.model.parameters(), second.learner.model.parameters(), strict=True):
        assert torch.equal(a, b)
    untrained = _build_tiny(tiny_recipe.settings, "cpu")
    pairs = zip(untrained.model.parameters(), second.learner.model.parameters(), strict=True)
    assert any(not torch.equal(a, b) for a, b in pairs)  # cached: the trained weights, not the initial


def test_retrain_trains_again_and_gives_the_same_weights(tmp_path, tiny_recipe):
    first = train_recipe("tiny_maml", cache_dir=tmp_path, progress=False)
    again = train_recipe("tiny_maml", cache_dir=tmp_path, progress=False, retrain=True)
    assert not again.from_cache
    pairs = zip(first.learner.model.parameters(), again.learner.model.parameters(), strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)


def test_unknown_recipes_and_devices_are_refused(tmp_path, tiny_recipe):
    with pytest.raises(ValueError, match="sinusoid_maml"):
        recipe("sinusoid_mamll")
    with pytest.raises(ValueError, match="'cpu' or 'cuda'"):
        train_recipe("tiny_maml", cache_dir=tmp_path, device="tpu")


def test_the_book_recipes_are_named_and_distinct():
    assert {"sinusoid_maml", "sinusoid_pretrained", "glyph_backbone", "glyph_protonet"} <= set(RECIPES)
    keys = {cache_key(r.name, r.key_settings("cpu"), r.key_code()) for r in RECIPES.values()}
    assert len(keys) == len(RECIPES)


def test_cache_command_lists_trains_and_clears(tmp_path, tiny_recipe, monkeypatch, capsys):
    monkeypatch.setenv("MTL_TUTORIAL_CACHE", str(tmp_path))
    assert cli.main(["cache", "train", "tiny_maml", "--no-progress"]) == 0
    assert "trained and cached" in capsys.readouterr().out
    assert cli.main(["cache", "train", "tiny_maml"]) == 0
    assert "already cached" in capsys.readouterr().out
    assert cli.main(["cache", "list"]) == 0
    assert "tiny_maml-" in capsys.readouterr().out
    assert cli.main(["cache", "clear", "no_such_recipe"]) == 2
    assert cli.main(["cache", "clear"]) == 0
    assert cache_entries(tmp_path) == []


def test_untrained_is_the_recipes_start(tiny_recipe, tmp_path):
    start = untrained("tiny_maml")
    again = untrained("tiny_maml")
    pairs = zip(start.model.parameters(), again.model.parameters(), strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)


EXPERIMENT_CALLS = []


def _experiment(scale: float) -> dict:
    EXPERIMENT_CALLS.append(scale)
    return {"score": torch.tensor([scale])}


def test_cached_call_runs_an_experiment_once_per_argument(tmp_path):
    EXPERIMENT_CALLS.clear()
    results = [cached_call("experiment", _experiment, cache_dir=tmp_path, scale=s) for s in (2.0, 2.0, 3.0)]
    assert EXPERIMENT_CALLS == [2.0, 3.0]
    assert [r["score"].item() for r in results] == [2.0, 2.0, 3.0]
    # both arguments stay cached side by side: going back to the first computes nothing
    assert cached_call("experiment", _experiment, cache_dir=tmp_path, scale=2.0)["score"].item() == 2.0
    assert EXPERIMENT_CALLS == [2.0, 3.0] and len(cache_entries(tmp_path)) == 2


def test_results_are_computed_on_one_thread_whoever_asks(tmp_path):
    """The weights must not depend on the caller's thread count (it changes the order of sums)."""
    seen = []
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        cached("threads", {}, lambda: seen.append(torch.get_num_threads()) or {"x": torch.ones(1)},
               cache_dir=tmp_path)  # fmt: skip
        assert seen == [store.COMPUTE_THREADS] == [1]
        assert torch.get_num_threads() == 2  # the caller's setting is restored
    finally:
        torch.set_num_threads(before)


def test_background_training_starts_only_when_it_helps(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="no recipe named"):
        train_in_background(["sinusoid_film", "nope"], cache_dir=tmp_path)
    assert train_in_background(["sinusoid_film"], cache_dir=tmp_path) is None  # one: trained in place
    monkeypatch.setenv("MTL_TUTORIAL_BACKGROUND", "0")
    assert train_in_background(["sinusoid_film", "sinusoid_metasgd"], cache_dir=tmp_path) is None


@pytest.mark.slow
def test_a_second_process_trains_the_later_recipes_with_the_same_weights(tmp_path, monkeypatch):
    """The caller trains the first recipe while the second process trains the other; the
    caller then loads it from the cache, bit for bit what it would have trained itself."""
    monkeypatch.delenv("MTL_TUTORIAL_BACKGROUND", raising=False)
    monkeypatch.setattr("mtl_tutorial.recipes._cores", lambda: 2)
    process = train_in_background(["sinusoid_film", "sinusoid_metasgd"], cache_dir=tmp_path)
    assert process is not None
    first = train_recipe("sinusoid_film", cache_dir=tmp_path, progress=False)
    assert process.wait(timeout=600) == 0
    second = train_recipe("sinusoid_metasgd", cache_dir=tmp_path, progress=False)
    assert not first.from_cache and second.from_cache and is_cached("sinusoid_metasgd", cache_dir=tmp_path)
    here = train_recipe("sinusoid_metasgd", cache_dir=tmp_path / "again", progress=False)
    assert not here.from_cache
    checksum = store.tensors_checksum
    assert checksum(second.learner.state_dict()) == checksum(here.learner.state_dict())
