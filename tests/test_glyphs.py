"""The rendered-glyph benchmark: determinism, size, splits, look-alikes, and its cache."""

import warnings

import pytest
import torch

from mtl_tutorial.tasks import GlyphConfig, load_glyphs
from mtl_tutorial.tasks.glyphs import (
    SPLITS,
    cache_key,
    candidate_characters,
    default_cache_dir,
    distort,
    drop_lookalikes,
    generate,
    render_glyph,
)

from helpers import run_at_once


@pytest.fixture(scope="module")
def cache():
    # the cache the book, the command line and the tests share: generated once per machine
    return default_cache_dir()


@pytest.fixture(scope="module")
def benchmark(cache):
    return load_glyphs(cache_dir=cache)


def test_at_least_1000_classes_from_at_least_12_scripts_20_images_each(benchmark):
    assert benchmark.images.shape[0] >= 1000
    assert benchmark.images.shape[1:] == (20, 1, 28, 28)
    assert benchmark.images.dtype == torch.uint8
    assert len(set(benchmark.scripts)) >= 12


def test_splits_are_disjoint_by_script_and_cover_every_class(benchmark):
    scripts = [set(s) for s in SPLITS.values()]
    assert all(not (a & b) for i, a in enumerate(scripts) for b in scripts[i + 1 :])
    sizes = {name: benchmark.split(name).num_classes for name in SPLITS}
    assert sum(sizes.values()) == benchmark.images.shape[0]
    for name in SPLITS:
        assert set(benchmark.split(name).groups) <= set(SPLITS[name])
    with pytest.raises(ValueError, match="split must be one of"):
        benchmark.split("holdout")


#: Two small scripts: the generator's determinism and its cache are tested on these (a second
#: or two, not the quarter of a minute of the whole set). The shared cache's own file is
#: protected by its key (the generator's source and settings) and its checksum.
SMALL = GlyphConfig(scripts=("Greek", "Armenian"))


def test_generation_is_deterministic():
    first, again = generate(SMALL), generate(SMALL)
    assert torch.equal(again.images, first.images) and again.characters == first.characters
    assert set(first.scripts) == {"Greek", "Armenian"} and first.images.shape[1:] == (20, 1, 28, 28)


def test_unknown_scripts_are_refused():
    with pytest.raises(ValueError, match="unknown scripts"):
        GlyphConfig(scripts=("Klingon",))


def test_images_of_a_class_differ_and_every_image_has_ink(benchmark):
    images = benchmark.images.float()
    assert (images.flatten(2).amax(dim=2) > 100).all()  # nothing blank
    within = (images[:, 0] - images[:, 1]).abs().mean()
    assert within > 5  # distortions make the 20 images of a class differ


def test_lookalikes_across_scripts_are_merged_and_accented_letters_excluded():
    characters = {c for c, _, _ in candidate_characters()}
    assert "é" not in characters and "ё" not in characters  # decomposable: excluded up front
    canonical = torch.stack([render_glyph(c, "DejaVuSans.ttf") for c in ("Α", "A", "Б")])
    assert drop_lookalikes(canonical, 0.9) == [0, 2]  # Latin A repeats Greek Alpha


def test_no_box_glyphs_from_fallback_fonts():
    for _, _, fonts in candidate_characters():
        assert all(not f.startswith("LastResort") for f in fonts)


def test_distortions_are_seeded():
    canvas = torch.stack([render_glyph("ш", "DejaVuSans.ttf")] * 3)
    config = GlyphConfig()
    a = distort(canvas, config, torch.Generator().manual_seed(1))
    b = distort(canvas, config, torch.Generator().manual_seed(1))
    c = distort(canvas, config, torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_the_cache_key_changes_with_the_settings():
    assert cache_key(GlyphConfig()) == cache_key(GlyphConfig())
    assert cache_key(GlyphConfig(seed=1)) != cache_key(GlyphConfig())
    assert cache_key(GlyphConfig(max_rotation_degrees=5.0)) != cache_key(GlyphConfig())


def test_a_corrupt_cache_is_regenerated(tmp_path):
    original = load_glyphs(SMALL, cache_dir=tmp_path)
    (cached,) = tmp_path.glob("glyphs-*.pt")
    cached.write_bytes(cached.read_bytes()[:1000])  # truncated, as by a killed write
    with pytest.warns(UserWarning, match="unusable"):
        again = load_glyphs(SMALL, cache_dir=tmp_path)
    assert torch.equal(again.images, original.images)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rebuilt file loads cleanly
        assert torch.equal(load_glyphs(SMALL, cache_dir=tmp_path).images, original.images)


def test_tampered_images_fail_the_checksum(tmp_path):
    load_glyphs(SMALL, cache_dir=tmp_path)
    (cached,) = tmp_path.glob("glyphs-*.pt")
    saved = torch.load(cached, weights_only=True)
    saved["images"][0, 0, 0, 0, 0] += 1
    torch.save(saved, cached)
    with pytest.warns(UserWarning, match="checksum"):
        load_glyphs(SMALL, cache_dir=tmp_path)


def _load_small_in_another_process(cache_dir, log):
    from mtl_tutorial.tasks import glyphs

    original = glyphs.generate

    def generate_and_log(config):
        with open(log, "a") as file:
            file.write("generated\n")
        return original(config)

    glyphs.generate = generate_and_log
    glyphs.load_glyphs(SMALL, cache_dir=cache_dir)


def test_processes_loading_at_once_generate_once(tmp_path):
    log = tmp_path / "generations.txt"
    assert run_at_once(_load_small_in_another_process, (tmp_path, log)) == [0, 0, 0]
    assert log.read_text() == "generated\n"
