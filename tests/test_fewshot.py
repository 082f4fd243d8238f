"""N-way K-shot episodes from image classes: invariants (property-based) and errors."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mtl_tutorial import GaussianClusterTasks
from mtl_tutorial.tasks import EpisodeIndices, FewShotTasks, ImageClasses


def numbered_classes(classes: int = 12, per_class: int = 20) -> ImageClasses:
    """Each image holds its own (class, index) code, so episodes can be decoded exactly."""
    code = torch.arange(classes * per_class, dtype=torch.float32).view(classes, per_class, 1, 1, 1)
    return ImageClasses(code.expand(-1, -1, 1, 2, 2).clone(), [f"c{i}" for i in range(classes)])


@settings(max_examples=40, deadline=None)
@given(
    ways=st.integers(2, 12),
    shots=st.integers(1, 10),
    queries=st.integers(1, 10),
    tasks=st.integers(1, 4),
    seed=st.integers(0, 10_000),
)
def test_episode_invariants(ways, shots, queries, tasks, seed):
    classes = numbered_classes()
    if shots + queries > classes.images_per_class:
        return
    sampler = FewShotTasks(classes, ways=ways, shots=shots, queries=queries)
    episode = sampler.sample(tasks, seed=seed)
    assert episode.support_x.shape == (tasks, ways * shots, 1, 2, 2)
    assert episode.query_x.shape == (tasks, ways * queries, 1, 2, 2)
    assert episode.num_ways == ways
    for y in (episode.support_y, episode.query_y):
        assert y.min() >= 0 and y.max() == ways - 1
    codes_s = episode.support_x[:, :, 0, 0, 0].long()
    codes_q = episode.query_x[:, :, 0, 0, 0].long()
    for t in range(tasks):
        support, query = set(codes_s[t].tolist()), set(codes_q[t].tolist())
        assert not support & query  # support and query are disjoint
        assert len(support) == ways * shots and len(query) == ways * queries  # no repeats
        # a label always means the same class within a task, and different labels differ
        label_to_class = {}
        for code, label in zip(
            codes_s[t].tolist() + codes_q[t].tolist(),
            episode.support_y[t].tolist() + episode.query_y[t].tolist(),
            strict=True,
        ):
            label_to_class.setdefault(label, set()).add(code // 20)
        assert all(len(c) == 1 for c in label_to_class.values())
        assert len({next(iter(c)) for c in label_to_class.values()}) == ways


def test_the_same_seed_gives_the_same_episodes_and_lists_save_and_load(tmp_path):
    sampler = FewShotTasks(numbered_classes(), ways=5, shots=1, queries=3)
    a, b = sampler.fixed_episodes(10, seed=3), sampler.fixed_episodes(10, seed=3)
    assert torch.equal(a.classes, b.classes) and torch.equal(a.images, b.images)
    a.save(tmp_path / "episodes.pt")
    loaded = EpisodeIndices.load(tmp_path / "episodes.pt")
    assert torch.equal(sampler.episode(loaded).query_x, sampler.episode(a).query_x)
    assert len(loaded) == 10
    assert torch.equal(sampler.episode(a, slice(2, 4)).support_x, sampler.episode(a).support_x[2:4])


def test_impossible_requests_name_both_numbers_and_the_fix():
    classes = numbered_classes(classes=4, per_class=20)
    with pytest.raises(ValueError, match="5-way tasks but there are only 4 classes; use at most 4 ways"):
        FewShotTasks(classes, ways=5)
    with pytest.raises(
        ValueError, match=r"5 shots \+ 16 queries = 21 images per class, but each class has 20"
    ):
        FewShotTasks(classes, ways=2, shots=5, queries=16)
    with pytest.raises(ValueError, match="ways must be an integer >= 2, got 1"):
        FewShotTasks(classes, ways=1)


def test_uint8_images_become_floats_in_the_unit_interval():
    images = torch.full((3, 4, 1, 2, 2), 255, dtype=torch.uint8)
    episode = FewShotTasks(ImageClasses(images, ["a", "b", "c"]), ways=2, shots=1, queries=1).sample(
        1, seed=0
    )
    assert episode.support_x.dtype == torch.float32 and episode.support_x.max() == 1.0


def test_image_classes_check_their_shape():
    with pytest.raises(ValueError, match="images must be"):
        ImageClasses(torch.zeros(3, 4, 2, 2), ["a", "b", "c"])
    with pytest.raises(ValueError, match="names has 2 entries for 3 classes"):
        ImageClasses(torch.zeros(3, 4, 1, 2, 2), ["a", "b"])


def test_cluster_tasks_still_satisfy_the_protocol():
    assert GaussianClusterTasks().sample(2, seed=0).num_ways == 5
