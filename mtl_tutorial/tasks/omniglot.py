"""The real Omniglot (Lake et al. 2015), read from its standard folders.

Layout expected under ``root`` (what the official zips unpack to)::

    root/images_background/<alphabet>/<character>/<drawing>.png   (30 alphabets, 964 characters)
    root/images_evaluation/<alphabet>/<character>/<drawing>.png   (20 alphabets, 659 characters)

Each character has 20 drawings of 105×105 pixels, black strokes on white; they are resized to
``size``×``size`` and inverted so that ink is 1. Nothing is downloaded unless you call
:func:`download_omniglot`, which verifies the archives' published MD5 checksums.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import torch

from .._checks import check_int
from .images import ImageClasses

SETS = ("images_background", "images_evaluation")
URL = "https://github.com/brendenlake/omniglot/raw/master/python/{name}.zip"
#: MD5 of the official archives, as published with torchvision's Omniglot dataset.
MD5 = {
    "images_background": "68d2efa1b9178cc56df9314c21c6e718",
    "images_evaluation": "6b91aef0f799c5bb55b94e3f2daec811",
}
#: The Vinyals et al. (2016) split as the meta-learning libraries distribute it (whole alphabets):
#: validation = these five background alphabets (172 characters); training = the other 25
#: background alphabets plus these eight evaluation alphabets (1,028); test = the remaining
#: 12 evaluation alphabets (423).
VINYALS_VAL_ALPHABETS = frozenset({"Armenian", "Bengali", "Early_Aramaic", "Hebrew", "Mkhedruli_(Georgian)"})
VINYALS_TRAIN_EVALUATION_ALPHABETS = frozenset(
    {"Angelic", "Atemayar_Qelisayer", "Atlantean", "Aurek-Besh", "Avesta", "Ge_ez", "Glagolitic", "Gurmukhi"}
)

HOW_TO_GET = (
    "Get Omniglot with mtl_tutorial.tasks.omniglot.download_omniglot({root!r}) (about 10 MB, "
    "checksums verified), or unpack images_background.zip and images_evaluation.zip from "
    "https://github.com/brendenlake/omniglot (folder python/) into {root!r}."
)


def _characters(root: Path, name: str) -> list[Path]:
    folder = root / name
    if not folder.is_dir():
        raise FileNotFoundError(f"no Omniglot folder {folder}. " + HOW_TO_GET.format(root=str(root)))
    return sorted(
        c for alphabet in sorted(folder.iterdir()) if alphabet.is_dir() for c in sorted(alphabet.iterdir())
    )


def _load_character(folder: Path, size: int) -> torch.Tensor:
    from PIL import Image  # Pillow comes with matplotlib

    drawings = sorted(folder.glob("*.png"))
    if not drawings:
        raise ValueError(f"no .png drawings in {folder}")
    images = []
    for path in drawings:
        with Image.open(path) as image:
            small = image.convert("L").resize((size, size), Image.Resampling.BOX)
            images.append(255 - np.asarray(small, dtype=np.uint8))  # ink is bright
    return torch.from_numpy(np.stack(images)).unsqueeze(1)


def load_omniglot(
    root: str | os.PathLike, *, split: str = "background", size: int = 28, rotations: bool = False
) -> ImageClasses:
    """Omniglot characters as :class:`ImageClasses` (uint8, ``(classes, 20, 1, size, size)``).

    Args:
        root: the folder holding ``images_background`` and ``images_evaluation``.
        split: ``"background"`` or ``"evaluation"`` (the official sets), or ``"vinyals-train"``,
            ``"vinyals-val"``, ``"vinyals-test"``: Vinyals et al.'s 1,028 / 172 / 423 characters,
            by whole alphabets (:data:`VINYALS_VAL_ALPHABETS`,
            :data:`VINYALS_TRAIN_EVALUATION_ALPHABETS`).
        size: side of the resized images (default 28).
        rotations: add each character rotated by 90°, 180° and 270° as three more classes (the
            usual Omniglot augmentation).

    Raises:
        FileNotFoundError: when a folder is missing, saying how to get the data.
        ValueError: for an unknown split or a character folder without drawings.
    """
    root = Path(root)
    check_int("size", size, minimum=8)
    if split in ("background", "evaluation"):
        folders = _characters(root, f"images_{split}")
    elif split in ("vinyals-train", "vinyals-val", "vinyals-test"):
        background, evaluation = (
            _characters(root, "images_background"),
            _characters(root, "images_evaluation"),
        )
        if split == "vinyals-val":
            folders = [f for f in background if f.parent.name in VINYALS_VAL_ALPHABETS]
        elif split == "vinyals-train":
            folders = [f for f in background if f.parent.name not in VINYALS_VAL_ALPHABETS]
            folders += [f for f in evaluation if f.parent.name in VINYALS_TRAIN_EVALUATION_ALPHABETS]
        else:
            folders = [f for f in evaluation if f.parent.name not in VINYALS_TRAIN_EVALUATION_ALPHABETS]
        if not folders:
            raise ValueError(f"{root} holds no character of the {split} alphabets")
    else:
        raise ValueError(
            "split must be 'background', 'evaluation', 'vinyals-train', 'vinyals-val' or 'vinyals-test', "
            f"got {split!r}"
        )
    images = torch.stack([_load_character(f, size) for f in folders])
    names = [f"{f.parent.name}/{f.name}" for f in folders]
    groups = [f.parent.name for f in folders]
    if rotations:
        turned = [torch.rot90(images, k, dims=(3, 4)) for k in (1, 2, 3)]
        images = torch.cat([images, *turned])
        names = names + [f"{n} rot{90 * k}" for k in (1, 2, 3) for n in names]
        groups = groups * 4
    return ImageClasses(images, names, groups=groups)


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_omniglot(root: str | os.PathLike, *, url: str = URL, md5: dict[str, str] | None = None) -> Path:
    """Download and unpack both Omniglot archives into ``root``, verifying each archive's MD5.

    An archive whose checksum does not match is deleted and an error raised; nothing is unpacked
    from it. Already unpacked sets are left alone. ``url`` (with ``{name}``) and ``md5`` exist for
    mirrors and tests.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    expected = md5 or MD5
    for name in SETS:
        if (root / name).is_dir():
            continue
        archive = root / f"{name}.zip"
        with urllib.request.urlopen(url.format(name=name)) as response, open(archive, "wb") as file:
            shutil.copyfileobj(response, file)
        found = _md5(archive)
        if found != expected[name]:
            archive.unlink()
            raise ValueError(
                f"{name}.zip has MD5 {found}, expected {expected[name]}; the download is corrupt"
            )
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(root)
        archive.unlink()
    return root
