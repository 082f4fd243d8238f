"""A few-shot image benchmark in the spirit of Omniglot, rendered from the fonts matplotlib ships.

Characters are classes and writing systems are the "alphabets". Each class gets 20 images of
28×28 pixels, made different by font, affine distortion, stroke width and elastic noise. Nothing
is downloaded: the glyphs come from DejaVu (Sans, Serif, Mono, in their styles) and STIX, which
matplotlib installs. Generation is deterministic for a seed and takes seconds; the result is
cached on disk under a key that changes whenever the generator, its settings or its inputs do.

How the classes are chosen (see :func:`candidate_characters` and :func:`drop_lookalikes`):

- a character is a candidate if it lies in one of :data:`SCRIPTS`' Unicode ranges, at least one
  shipped font has a glyph for it (fonts that would draw a box are never used), and it has no
  Unicode decomposition (so accented letters, ligatures and presentation forms are out);
- glyphs that render alike are then removed greedily, test scripts first, so a test character
  never has a look-alike in training (Latin "A", Greek "Α" and Cyrillic "А" become one class).

Splits are by script (:data:`SPLITS`): no script is in two splits.
"""

from __future__ import annotations

import hashlib
import json
import os
import unicodedata
import warnings
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import matplotlib
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import ft2font

from .._checks import check_int
from .images import ImageClasses

#: Unicode ranges of each writing system used (inclusive).
SCRIPTS: dict[str, tuple[tuple[int, int], ...]] = {
    "Latin": ((0x41, 0x5A), (0x61, 0x7A), (0x100, 0x24F), (0xA720, 0xA7FF)),
    "IPA": ((0x250, 0x2AF), (0x1D00, 0x1D7F)),
    "Greek": ((0x391, 0x3A9), (0x3B1, 0x3C9)),
    "Coptic": ((0x3E2, 0x3EF),),
    "Cyrillic": ((0x400, 0x52F), (0xA640, 0xA69F)),
    "Armenian": ((0x531, 0x556), (0x561, 0x586)),
    "Hebrew": ((0x5D0, 0x5EA),),
    "Arabic": ((0x621, 0x64A), (0x671, 0x6D3)),
    "NKo": ((0x7C0, 0x7FF),),
    "Lao": ((0xE81, 0xEDF),),
    "Georgian": ((0x10A0, 0x10FF), (0x2D00, 0x2D2F)),
    "Canadian syllabics": ((0x1400, 0x167F),),
    "Ogham": ((0x1680, 0x169C),),
    "Braille": ((0x2801, 0x28FF),),
    "Tifinagh": ((0x2D30, 0x2D7F),),
    "Lisu": ((0xA4D0, 0xA4FF),),
    "Old Italic": ((0x10300, 0x1032F),),
}

#: Which scripts form each split. Test scripts share little with the training ones.
SPLITS: dict[str, tuple[str, ...]] = {
    "train": ("Latin", "IPA", "Cyrillic", "Canadian syllabics", "Braille", "Arabic", "Hebrew", "Georgian"),
    "val": ("Greek", "Coptic", "Ogham", "Lisu"),
    "test": ("Armenian", "NKo", "Lao", "Tifinagh", "Old Italic"),
}

#: Fonts shipped with matplotlib that are used (LastResort, which draws boxes, and the
#: TeX fonts, whose character maps are not Unicode, are not).
FONT_FILES: tuple[str, ...] = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerif-Italic.ttf",
    "DejaVuSerif-BoldItalic.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansMono-Bold.ttf",
    "DejaVuSansMono-Oblique.ttf",
    "DejaVuSansMono-BoldOblique.ttf",
    "STIXGeneral.ttf",
    "STIXGeneralBol.ttf",
    "STIXGeneralItalic.ttf",
    "STIXGeneralBolIta.ttf",
)

CANVAS = 56  # glyphs are rendered and distorted at twice the final size, then averaged down
FONT_PIXELS = 34  # em size in canvas pixels: capital letters fill about half the canvas
BASELINE = 40  # canvas row of the baseline: room for ascenders above and descenders below


@dataclass(frozen=True)
class GlyphConfig:
    """Settings of the generator; each one is part of the cache key.

    Defaults: 20 images per class, 28×28 pixels, seed 0; rotations up to ±6°, scaling by
    0.95–1.05, shear up to ±0.1, shifts up to ±6% of the image; elastic displacements of about
    0.5 pixel (at 56×56); strokes thinned or thickened by one pixel with probability 0.15 each;
    look-alikes removed above a cosine similarity of 0.9 between canonical renderings; every
    script of :data:`SCRIPTS` (``scripts`` names a subset, for quick tests of the generator).

    The distortion strengths set the difficulty. They were calibrated so that, at the default
    budget of ``mtl-tutorial compare glyphs``, the best method's 5-way 1-shot accuracy on the test
    scripts lies between 80% and 97%: with twice to three times these strengths Prototypical
    Networks reached 62% (±15°, elastic 2 px) and 79% (±10°, elastic 1 px) on 200 episodes.
    """

    images_per_class: int = 20
    size: int = 28
    seed: int = 0
    max_rotation_degrees: float = 6.0
    scale_range: tuple[float, float] = (0.95, 1.05)
    max_shear: float = 0.1
    max_shift: float = 0.06
    elastic_pixels: float = 0.5
    stroke_change_probability: float = 0.15
    lookalike_similarity: float = 0.9
    scripts: tuple[str, ...] = ()  # only these writing systems (default: all of SCRIPTS)

    def __post_init__(self) -> None:
        check_int("images_per_class", self.images_per_class, minimum=2)
        check_int("size", self.size, minimum=8)
        unknown = [s for s in self.scripts if s not in SCRIPTS]
        if unknown:
            raise ValueError(f"unknown scripts {unknown}; the scripts are {sorted(SCRIPTS)}")


@dataclass
class GlyphBenchmark:
    """The generated benchmark: images of every class and what each class is."""

    images: torch.Tensor  # (classes, images per class, 1, size, size), uint8
    characters: list[str]
    scripts: list[str]
    config: GlyphConfig
    generation_seconds: float = 0.0
    splits: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(SPLITS))

    def split(self, name: str) -> ImageClasses:
        """The classes of the scripts in split ``name`` (``"train"``, ``"val"`` or ``"test"``)."""
        if name not in self.splits:
            raise ValueError(f"split must be one of {sorted(self.splits)}, got {name!r}")
        keep = [i for i, s in enumerate(self.scripts) if s in self.splits[name]]
        return ImageClasses(
            self.images[keep],
            [f"{self.scripts[i]} U+{ord(self.characters[i]):04X}" for i in keep],
            groups=[self.scripts[i] for i in keep],
        )

    def summary(self) -> dict[str, dict[str, int]]:
        """Number of classes per script, per split."""
        return {
            name: {s: self.scripts.count(s) for s in scripts if s in self.scripts}
            for name, scripts in self.splits.items()
        }


# -- choosing the classes -------------------------------------------------------------------------


@cache
def _font(name: str) -> ft2font.FT2Font:
    path = Path(matplotlib.get_data_path(), "fonts", "ttf", name)
    font = ft2font.FT2Font(str(path))
    font.set_size(FONT_PIXELS, 72)  # at 72 dpi, points are pixels
    return font


@cache
def _charmap(name: str) -> frozenset[int]:
    return frozenset(_font(name).get_charmap())


def candidate_characters(scripts: tuple[str, ...] = ()) -> list[tuple[str, str, list[str]]]:
    """``(character, script, fonts that have it)`` for every candidate of ``scripts`` (default:
    all), test scripts first."""
    order = [s for split in ("test", "val", "train") for s in SPLITS[split] if not scripts or s in scripts]
    found = []
    for script in order:
        for low, high in SCRIPTS[script]:
            for code in range(low, high + 1):
                char = chr(code)
                if unicodedata.category(char)[0] not in "LS" or unicodedata.decomposition(char):
                    continue  # marks, digits, punctuation; accented and compatibility forms
                fonts = [f for f in FONT_FILES if code in _charmap(f)]
                if fonts:
                    found.append((char, script, fonts))
    return found


def render_glyph(char: str, font_name: str) -> torch.Tensor:
    """The glyph on a ``CANVAS``×``CANVAS`` float canvas in [0, 1].

    It is placed by the font's metrics — baseline at a fixed row, advance box centred — not by
    its ink, so position carries meaning as in print (Braille dots, a high or low stroke); it is
    shrunk (never enlarged) if it would not fit.
    """
    font = _font(font_name)
    glyph = font.load_char(ord(char))
    font.set_text(char, 0.0)
    font.draw_glyphs_to_bitmap(antialiased=True)
    bitmap = torch.from_numpy(np.asarray(font.get_image(), dtype=np.float32) / 255.0)
    rows, cols = bitmap.sum(1).nonzero(), bitmap.sum(0).nonzero()
    canvas = torch.zeros(CANVAS, CANVAS)
    if len(rows) == 0:
        return canvas
    bitmap = bitmap[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    top = round(BASELINE - glyph.horiBearingY / 64)
    left = round((CANVAS - glyph.horiAdvance / 64) / 2 + glyph.horiBearingX / 64)
    limit = CANVAS - 4
    if max(bitmap.shape) > limit:  # too big: shrink, and centre it instead
        factor = limit / max(bitmap.shape)
        new = (max(1, round(bitmap.shape[0] * factor)), max(1, round(bitmap.shape[1] * factor)))
        bitmap = F.interpolate(bitmap[None, None], size=new, mode="area")[0, 0]
        top, left = (CANVAS - bitmap.shape[0]) // 2, (CANVAS - bitmap.shape[1]) // 2
    h, w = bitmap.shape
    top, left = min(max(top, 0), CANVAS - h), min(max(left, 0), CANVAS - w)
    canvas[top : top + h, left : left + w] = bitmap
    return canvas


def drop_lookalikes(canonical: torch.Tensor, threshold: float, max_shift: int = 2) -> list[int]:
    """Indices to keep: greedily, in order, drop any glyph whose canonical rendering (at 28×28)
    has cosine similarity above ``threshold`` with one already kept, at any relative shift of up
    to ``max_shift`` pixels — the benchmark's distortions move glyphs about that much, so glyphs
    that differ only by position (single Braille dots) would be impossible to tell apart."""
    small = F.avg_pool2d(canonical[:, None], 2, 2)[:, 0]
    vectors = F.normalize(small.flatten(1), dim=1)
    similarity = torch.full((len(vectors), len(vectors)), -1.0)
    for dy in range(-max_shift, max_shift + 1):
        for dx in range(-max_shift, max_shift + 1):
            shifted = torch.roll(small, (dy, dx), dims=(1, 2)).flatten(1)
            similarity = torch.maximum(similarity, vectors @ F.normalize(shifted, dim=1).T)
    close = (similarity > threshold).numpy()
    kept_mask = np.zeros(len(vectors), dtype=bool)
    for i in range(len(vectors)):
        if not (close[i] & kept_mask).any():
            kept_mask[i] = True
    return np.flatnonzero(kept_mask).tolist()


# -- distorting ---------------------------------------------------------------------------------


def distort(images: torch.Tensor, config: GlyphConfig, generator: torch.Generator) -> torch.Tensor:
    """Random affine, elastic and stroke-width changes of a batch of canvases ``(B, CANVAS, CANVAS)``."""
    b = images.shape[0]

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(b, generator=generator)

    angle = torch.deg2rad(uniform(-config.max_rotation_degrees, config.max_rotation_degrees))
    scale = uniform(*config.scale_range)
    shear = uniform(-config.max_shear, config.max_shear)
    shift = (torch.rand(b, 2, generator=generator) * 2 - 1) * 2 * config.max_shift
    cos, sin = torch.cos(angle), torch.sin(angle)
    # inverse map from output to input coordinates: rotation · shear, divided by the scale
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = cos / scale, (cos * shear - sin) / scale
    theta[:, 1, 0], theta[:, 1, 1] = sin / scale, (sin * shear + cos) / scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, (b, 1, CANVAS, CANVAS), align_corners=False)
    coarse = torch.randn(b, 2, 5, 5, generator=generator)
    field = F.interpolate(coarse, size=(CANVAS, CANVAS), mode="bicubic", align_corners=False)
    grid = grid + field.permute(0, 2, 3, 1) * (2 * config.elastic_pixels / CANVAS)
    out = F.grid_sample(images[:, None], grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    stroke = torch.rand(b, generator=generator)
    p = config.stroke_change_probability
    # dilate or erode only the few images whose strokes change (pooling all of them was the
    # slowest step of generation)
    changed = out.clone()
    thick = (stroke < p).nonzero().squeeze(1)
    changed[thick] = F.max_pool2d(out[thick], 3, 1, 1)
    thin = (stroke > 1 - p).nonzero().squeeze(1)
    thinner = -F.max_pool2d(-out[thin], 3, 1, 1)
    # thin only where the glyph survives it (hairlines and small dots would vanish)
    survives = thinner.sum(dim=(1, 2, 3)) > 0.5 * out[thin].sum(dim=(1, 2, 3))
    changed[thin[survives]] = thinner[survives]
    return changed[:, 0]


# -- generating, caching, loading ----------------------------------------------------------------


def generate(config: GlyphConfig = GlyphConfig()) -> GlyphBenchmark:
    """Render the benchmark from scratch (deterministic for ``config``)."""
    import time

    started = time.perf_counter()
    candidates = candidate_characters(config.scripts)
    # each (character, font) is drawn once, however many images use it
    drawn = {(char, fonts[0]): render_glyph(char, fonts[0]) for char, _, fonts in candidates}
    canonical = torch.stack([drawn[char, fonts[0]] for char, _, fonts in candidates])
    ink = canonical.flatten(1).sum(1)
    candidates = [c for c, amount in zip(candidates, ink, strict=True) if amount > 4.0]
    canonical = canonical[ink > 4.0]
    kept = drop_lookalikes(canonical, config.lookalike_similarity)
    candidates = [candidates[i] for i in kept]

    generator = torch.Generator().manual_seed(config.seed)
    n = config.images_per_class
    sources = []
    for char, _, fonts in candidates:
        order = torch.randperm(len(fonts), generator=generator).tolist()
        for i in range(n):
            font = fonts[order[i % len(fonts)]]
            if (char, font) not in drawn:
                drawn[char, font] = render_glyph(char, font)
            sources.append(drawn[char, font])
    canvases = torch.stack(sources)
    distorted = torch.cat([distort(chunk, config, generator) for chunk in canvases.split(4096)])
    small = F.interpolate(distorted[:, None], size=(config.size, config.size), mode="area")
    # thin strokes averaged down come out faint: stretch each image so its darkest pixel is full ink
    small = small / small.amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-3)
    images = (
        (small.clamp(0, 1) * 255)
        .round()
        .to(torch.uint8)
        .view(len(candidates), n, 1, config.size, config.size)
    )
    return GlyphBenchmark(
        images,
        [c for c, _, _ in candidates],
        [s for _, s, _ in candidates],
        config,
        generation_seconds=time.perf_counter() - started,
    )


def cache_key(config: GlyphConfig) -> str:
    """Changes with the generator's code, its settings, the fonts and the library versions."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(json.dumps(asdict(config), sort_keys=True).encode())
    digest.update(f"{matplotlib.__version__} {torch.__version__.split('+')[0]}".encode())
    for name in FONT_FILES:
        digest.update(Path(matplotlib.get_data_path(), "fonts", "ttf", name).read_bytes()[:65536])
    return digest.hexdigest()[:20]


def default_cache_dir() -> Path:
    """``$MTL_TUTORIAL_CACHE``, else ``~/.cache/mtl_tutorial``."""
    return Path(os.environ.get("MTL_TUTORIAL_CACHE", Path.home() / ".cache" / "mtl_tutorial"))


def load_glyphs(
    config: GlyphConfig = GlyphConfig(),
    *,
    cache_dir: str | os.PathLike | None = None,
    regenerate: bool = False,
) -> GlyphBenchmark:
    """The benchmark for ``config``: from the cache if a valid copy is there, else generated
    (and cached). A cache file that is missing, unreadable or fails its checksum is regenerated.
    """
    path = Path(cache_dir or default_cache_dir()) / f"glyphs-{cache_key(config)}.pt"
    from ..training import exclusive_lock, save_atomically

    with exclusive_lock(path):  # processes started together generate it once; the others wait
        if path.exists() and not regenerate:
            try:
                saved = torch.load(path, weights_only=True)
                images = saved["images"]
                if hashlib.sha256(images.numpy().tobytes()).hexdigest() != saved["sha256"]:
                    raise ValueError("checksum mismatch")
                return GlyphBenchmark(images, list(saved["characters"]), list(saved["scripts"]), config,
                                      float(saved["generation_seconds"]))  # fmt: skip
            except Exception as error:  # corrupt or truncated: say so, then rebuild it
                warnings.warn(f"glyph cache {path} is unusable ({error}); regenerating it", stacklevel=2)
        benchmark = generate(config)
        save_atomically(
            {
                "images": benchmark.images,
                "characters": benchmark.characters,
                "scripts": benchmark.scripts,
                "generation_seconds": benchmark.generation_seconds,
                "sha256": hashlib.sha256(benchmark.images.numpy().tobytes()).hexdigest(),
            },
            path,
        )
    return benchmark
