"""Domain shift: which classes each source holds, and what shuffling pixels keeps and destroys."""

import pytest
import torch

from mtl_tutorial.experiments.domain_shift import domain_shift_scores, shuffle_pixels, take_scripts
from mtl_tutorial.tasks import ImageClasses


def classes_of(scripts: dict[str, int]) -> ImageClasses:
    groups = [s for s, n in scripts.items() for _ in range(n)]
    images = torch.arange(len(groups) * 2 * 16, dtype=torch.uint8).reshape(len(groups), 2, 1, 4, 4)
    return ImageClasses(images, [f"{g} {i}" for i, g in enumerate(groups)], groups)


def test_scripts_are_taken_in_order_until_enough_classes():
    classes = classes_of({"a": 3, "b": 2, "c": 4})
    taken = take_scripts(classes, ["c", "a", "b"], at_least=5)
    assert sorted(set(taken.groups)) == ["a", "c"] and taken.num_classes == 7
    assert taken.names == [n for n in classes.names if n.split()[0] in ("a", "c")]
    with pytest.raises(ValueError, match="fewer than the 20"):
        take_scripts(classes, ["a", "b", "c"], at_least=20)


def test_shuffled_pixels_keep_each_image_s_values_and_move_them_all_alike():
    classes = classes_of({"a": 2, "b": 1})
    shuffled = shuffle_pixels(classes, seed=0)
    before, after = classes.images.flatten(2), shuffled.images.flatten(2)
    assert torch.equal(before.sort(-1).values, after.sort(-1).values)  # the same values per image
    assert not torch.equal(before, after)
    # one permutation for every image: where pixel 0 of one image went, every image's went
    position = (after[0, 0] == before[0, 0, 0]).nonzero().item()
    assert torch.equal(after[..., position], before[..., 0])
    assert shuffled.groups == classes.groups and shuffled.names == classes.names


def test_unknown_sources_are_refused():
    with pytest.raises(ValueError, match="sources must be among"):
        domain_shift_scores(sources=("near", "imagenet"))


@pytest.mark.slow
def test_a_tiny_run_scores_every_source_on_the_same_episodes():
    out = domain_shift_scores(classes=50, iterations=2, channels=4, episodes=3, shots=1, queries=2)
    assert set(out["accuracy"]) == {"near", "far", "shuffled pixels", "none"}
    assert all(len(a) == 3 for a in out["accuracy"].values())
    assert set(out["scripts"]["near"]).isdisjoint(out["scripts"]["far"])
    distances = list(out["distances"].values())
    assert distances == sorted(distances)
