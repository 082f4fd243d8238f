"""The Omniglot loader, on a small folder tree made here (nothing is downloaded)."""

import hashlib
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from mtl_tutorial.tasks import FewShotTasks
from mtl_tutorial.tasks.omniglot import download_omniglot, load_omniglot


def make_tree(root, sets=("images_background", "images_evaluation"), alphabets=2, characters=3, drawings=20):
    for s, name in enumerate(sets):
        for a in range(alphabets):
            for c in range(characters):
                folder = root / name / f"Alphabet_{s}{a}" / f"character{c + 1:02d}"
                folder.mkdir(parents=True)
                for d in range(drawings):
                    pixels = np.full((105, 105), 255, dtype=np.uint8)
                    pixels[10 + 10 * c : 20 + 10 * c, 5 + 3 * a : 60 + d] = 0  # a black stroke
                    Image.fromarray(pixels).save(folder / f"{d:02d}.png")
    return root


def test_loads_classes_resized_and_inverted(tmp_path):
    classes = load_omniglot(make_tree(tmp_path), split="background")
    assert classes.images.shape == (6, 20, 1, 28, 28) and classes.images.dtype == torch.uint8
    assert classes.names[0] == "Alphabet_00/character01" and classes.groups[0] == "Alphabet_00"
    assert classes.images[0, 0].float().mean() < 60  # mostly background (dark), ink bright
    assert classes.images[0, 0].max() == 255
    episode = FewShotTasks(classes, ways=5, shots=1, queries=5).sample(2, seed=0)
    assert episode.support_x.shape == (2, 5, 1, 28, 28)


def test_rotations_quadruple_the_classes(tmp_path):
    plain = load_omniglot(make_tree(tmp_path), split="evaluation")
    turned = load_omniglot(tmp_path, split="evaluation", rotations=True)
    assert turned.num_classes == 4 * plain.num_classes
    assert torch.equal(turned.images[plain.num_classes], torch.rot90(plain.images[0], 1, dims=(2, 3)))
    assert turned.names[plain.num_classes].endswith("rot90")


def test_vinyals_split_by_whole_alphabets(tmp_path):
    for name, alphabet in [("images_background", "Latin"), ("images_background", "Hebrew"),
                           ("images_evaluation", "Angelic"), ("images_evaluation", "Kannada")]:  # fmt: skip
        for c in range(2):
            folder = tmp_path / name / alphabet / f"character{c + 1:02d}"
            folder.mkdir(parents=True)
            Image.fromarray(np.full((105, 105), 255, dtype=np.uint8)).save(folder / "01.png")
    parts = {p: load_omniglot(tmp_path, split=f"vinyals-{p}") for p in ("train", "val", "test")}
    assert set(parts["train"].groups) == {"Latin", "Angelic"}  # background minus val, plus 8 evaluation
    assert set(parts["val"].groups) == {"Hebrew"}
    assert set(parts["test"].groups) == {"Kannada"}
    assert sum(p.num_classes for p in parts.values()) == 8


def test_the_vinyals_alphabet_lists_have_the_papers_sizes():
    from mtl_tutorial.tasks.omniglot import VINYALS_TRAIN_EVALUATION_ALPHABETS, VINYALS_VAL_ALPHABETS

    assert len(VINYALS_VAL_ALPHABETS) == 5 and len(VINYALS_TRAIN_EVALUATION_ALPHABETS) == 8


def test_a_missing_folder_says_how_to_get_the_data(tmp_path):
    with pytest.raises(FileNotFoundError, match="download_omniglot"):
        load_omniglot(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="split must be"):
        load_omniglot(make_tree(tmp_path), split="everything")


def zip_sets(source, target):
    for name in ("images_background", "images_evaluation"):
        with zipfile.ZipFile(target / f"{name}.zip", "w") as zipped:
            for path in (source / name).rglob("*.png"):
                zipped.write(path, path.relative_to(source))
    return {
        name: hashlib.md5((target / f"{name}.zip").read_bytes()).hexdigest()
        for name in ("images_background", "images_evaluation")
    }


def test_download_verifies_the_checksum_and_unpacks(tmp_path):
    source, mirror = make_tree(tmp_path / "source", drawings=2), tmp_path / "mirror"
    mirror.mkdir()
    md5 = zip_sets(source, mirror)
    url = mirror.as_uri() + "/{name}.zip"
    root = download_omniglot(tmp_path / "data", url=url, md5=md5)
    assert load_omniglot(root, split="background").num_classes == 6
    with pytest.raises(ValueError, match="the download is corrupt"):
        download_omniglot(tmp_path / "other", url=url, md5={**md5, "images_background": "0" * 32})
    assert not (tmp_path / "other" / "images_background").exists()


@pytest.mark.slow
def test_the_reproduce_command_runs_the_protocol_end_to_end(tmp_path, capsys):
    import json

    from mtl_tutorial.cli import main
    from mtl_tutorial.experiments.omniglot import PAPER, SETTINGS

    root = make_tree(tmp_path / "omniglot")  # 6 training and 6 test characters, 24 classes each
    report, figure = tmp_path / "omniglot.json", tmp_path / "omniglot.png"
    argv = ["reproduce", "omniglot", "--data", str(root), "--episodes", "3", "--json", str(report),
            "--figure", str(figure)]  # fmt: skip
    assert main(argv) == 0
    rows = json.loads(report.read_text())["rows"]
    assert [(r["ways"], r["shots"]) for r in rows[::2]] == list(SETTINGS)
    assert [r["method"] for r in rows[:2]] == ["protonet", "maml"]
    for r in rows:
        assert 0 <= r["accuracy"] <= 1 and r["ci95"] >= 0 and r["test_episodes"] == 3
        assert r["paper"] == PAPER[r["method"]][(r["ways"], r["shots"])] / 100
        assert r["iterations"] == {"protonet": 20, "maml": 10}[r["method"]]
    assert figure.stat().st_size > 0
    shown = capsys.readouterr().out
    assert "| maml | 20-way 5-shot |" in shown and "98.9%" in shown and "smoke run" in shown


def test_the_reproduce_command_refuses_a_malformed_setting(tmp_path, capsys):
    from mtl_tutorial.cli import main

    assert main(["reproduce", "omniglot", "--data", str(tmp_path), "--settings", "5-way"]) == 2
    assert "WAYSwSHOTSs" in capsys.readouterr().err


@pytest.mark.slow
def test_the_command_runs_under_torchrun_and_only_rank_0_reports(tmp_path):
    import json
    import os
    import subprocess
    from pathlib import Path

    from mtl_tutorial.distributed import torchrun_command

    root = make_tree(tmp_path / "omniglot")
    report = tmp_path / "omniglot.json"
    command = torchrun_command(2, "-m", "mtl_tutorial", "reproduce", "omniglot", "--data", str(root),
                               "--settings", "5w1s", "--episodes", "2", "--json", str(report))  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).parents[1])}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("| protonet | 5-way 1-shot |") == 1  # one table, from rank 0
    rows = json.loads(report.read_text())["rows"]
    assert [(r["method"], r["ways"], r["shots"]) for r in rows] == [("protonet", 5, 1), ("maml", 5, 1)]
