"""The resized-image cache: one memory-mapped array per shard, newest copy wins, interrupted work is kept."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PIL import Image

from lecture_lib.datasets import imageio
from lecture_lib.datasets.arraycache import FORMAT, ArrayCache, file_stamp

STAMP = (100, 1_700_000_000_000_000_000, 42, 1_700_000_000_000_000_000)
"""A source's (size, mtime_ns, inode, ctime_ns)."""


def _pngs(folder, count, size=(24, 40)):
    paths = []
    for index in range(count):
        path = folder / "imgs" / f"{index:02d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full(size, 20 * index, np.uint8)).save(path)
        paths.append(path)
    return paths


def test_round_trip_is_within_half_a_quantization_step(tmp_path):
    cache = ArrayCache(tmp_path, 8)
    images = np.random.default_rng(0).random((5, 8, 8)).astype(np.float32)
    cache.add(images, list("abcde"), np.full((5, 2), 100), [STAMP] * 5)
    entries = cache.entries()
    out = np.zeros((5, 8, 8, 1), np.float32)
    cache.read([entries[k] for k in "edcba"], out)
    assert np.abs(out[::-1, ..., 0] - images).max() <= 0.5 / 65535 + 1e-7
    placed = np.zeros((7, 8, 8), np.float32)
    cache.read([entries["b"], entries["d"]], placed, positions=[6, 0])
    np.testing.assert_allclose(placed[6], images[1], atol=1e-5)
    np.testing.assert_allclose(placed[0], images[3], atol=1e-5)
    assert not placed[1:6].any()


def test_a_later_shard_wins_and_compaction_keeps_only_the_newest_copies(tmp_path):
    cache = ArrayCache(tmp_path, 4)
    cache.add(np.zeros((2, 4, 4)), ["a", "b"], [[10, 10], [10, 10]], [STAMP, STAMP])
    cache.add(np.ones((1, 4, 4)), ["b"], [[20, 30]], [(5, 6, 7, 8)])
    entries = cache.entries()
    assert (entries["b"].height, entries["b"].width, entries["b"].stamp) == (20, 30, (5, 6, 7, 8))
    cache.compact()
    assert len(list(tmp_path.glob("*.npy"))) == 1 and len(cache) == 2
    out = np.zeros((2, 4, 4), np.float32)
    entries = cache.entries()
    cache.read([entries["a"], entries["b"]], out)
    assert out[0].max() == 0.0 and out[1].min() == 1.0


def test_interrupted_and_corrupt_shards_are_ignored(tmp_path):
    cache = ArrayCache(tmp_path, 4)
    cache.add(np.zeros((3, 4, 4)), ["a", "b", "c"], np.full((3, 2), 4), [STAMP] * 3)
    (shard,) = tmp_path.glob("*.npy")
    shard.write_bytes(shard.read_bytes()[:-10])  # a write cut short
    assert cache.entries() == {}
    cache.add(np.zeros((1, 4, 4)), ["d"], [[4, 4]], [STAMP])
    orphan = tmp_path / "00000000000000000000-1-abcdef.npy"  # an array whose index was never written
    np.save(orphan, np.zeros((1, 4, 4), np.uint16))
    index = tmp_path / "00000000000000000001-1-abcdef.json"  # an index that disagrees with its array
    index.write_text(json.dumps({"format": FORMAT, "shape": [2, 4, 4], "keys": ["x"], "heights": [4], "widths": [4],
                                 "stamps": [list(STAMP)]}))  # fmt: skip
    np.save(index.with_suffix(".npy"), np.zeros((2, 4, 4), np.uint16))
    assert sorted(cache.entries()) == ["d"]


def test_file_stamp_is_size_mtime_inode_and_ctime_in_nanoseconds(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"12345")
    status = os.stat(path)
    assert file_stamp(path) == (5, status.st_mtime_ns, status.st_ino, status.st_ctime_ns)


def test_shards_of_the_mtime_only_format_1_are_ignored_and_removed(tmp_path):
    old = tmp_path / "00000000000000000000-1-abcdef.json"  # written by the version keyed on mtime alone
    old.write_text(json.dumps({"format": 1, "shape": [1, 4, 4], "keys": ["a"], "heights": [4], "widths": [4],
                               "mtimes": [1.0]}))  # fmt: skip
    np.save(old.with_suffix(".npy"), np.zeros((1, 4, 4), np.uint16))
    cache = ArrayCache(tmp_path, 4)
    assert cache.entries() == {}
    cache.add(np.zeros((1, 4, 4)), ["b"], [[4, 4]], [STAMP])
    cache.compact(if_more_than=8)  # one valid shard: nothing to merge, but the outdated files go
    assert not old.exists() and not old.with_suffix(".npy").exists() and sorted(cache.entries()) == ["b"]


def test_a_shard_of_another_size_is_an_error_that_says_what_to_delete(tmp_path):
    ArrayCache(tmp_path, 4).add(np.zeros((1, 4, 4)), ["a"], [[4, 4]], [STAMP])
    with pytest.raises(ValueError, match=r"holds 4x4 images but this folder is for 8x8; delete"):
        ArrayCache(tmp_path, 8).entries()
    with pytest.raises(ValueError, match=r"expected 1 images of 4x4 and 1 stamps, got shape \(1, 8, 8\)"):
        ArrayCache(tmp_path, 4).add(np.zeros((1, 8, 8)), ["a"], [[8, 8]], [STAMP])


def test_an_interrupted_load_keeps_what_it_decoded(tmp_path, monkeypatch):
    monkeypatch.setattr(imageio, "FLUSH_EVERY", 2)
    paths = _pngs(tmp_path, 6)
    calls = []

    def failing_reader(path):
        calls.append(path.name)
        if path.name == "04.png":
            raise KeyboardInterrupt
        return imageio.read_image(path)

    with pytest.raises(KeyboardInterrupt):
        imageio.load_images(paths, 8, reader=failing_reader, cache_dir=tmp_path / "cache", root=tmp_path,
                            num_workers=1, progress=False)  # fmt: skip
    assert sorted(ArrayCache(tmp_path / "cache" / "8px", 8).entries()) == [f"imgs__{i:02d}.png" for i in range(4)]
    decoded = []
    images, sizes = imageio.load_images(paths, 8, reader=lambda p: decoded.append(p.name) or imageio.read_image(p),
                                        cache_dir=tmp_path / "cache", root=tmp_path, progress=False)  # fmt: skip
    assert sorted(decoded) == ["04.png", "05.png"]  # only what the interrupted load had not finished
    np.testing.assert_allclose(images[:, 0, 0, 0], np.arange(6) * 20 / 255, atol=1e-6)
    assert sizes.tolist() == [[24, 40]] * 6


def test_many_shards_are_merged_into_one_and_reads_stay_exact(tmp_path, monkeypatch):
    monkeypatch.setattr(imageio, "FLUSH_EVERY", 1)
    monkeypatch.setattr(imageio, "MAX_SHARDS", 3)
    paths = _pngs(tmp_path, 6)
    first, _ = imageio.load_images(paths, 8, cache_dir=tmp_path / "cache", root=tmp_path, progress=False)
    folder = tmp_path / "cache" / "8px"
    assert len(list(folder.glob("*.npy"))) == 1  # six one-image shards, then merged
    decoded = []
    again, _ = imageio.load_images(paths, 8, reader=lambda p: decoded.append(p) or imageio.read_image(p),
                                   cache_dir=tmp_path / "cache", root=tmp_path, progress=False)  # fmt: skip
    assert decoded == [] and np.abs(again - first).max() <= 0.5 / 65535 + 1e-7


def test_a_shard_removed_by_another_process_between_scan_and_read_is_looked_up_again(tmp_path, monkeypatch):
    paths = _pngs(tmp_path, 3)
    first, _ = imageio.load_images(paths, 8, cache_dir=tmp_path / "cache", root=tmp_path, progress=False)
    cache_type = imageio.ArrayCache
    real_entries = cache_type.entries
    calls = []

    def entries_then_compact(self, shards=None):
        found = real_entries(self, shards)
        if not calls:  # the first scan sees the old shard; another "process" then rewrites it under a new name
            calls.append(1)
            self.add(np.zeros((1, 8, 8)), ["other"], [[8, 8]], [STAMP])
            self.compact()
        return found

    monkeypatch.setattr(cache_type, "entries", entries_then_compact)
    decoded = []
    again, _ = imageio.load_images(paths, 8, reader=lambda p: decoded.append(p) or imageio.read_image(p),
                                   cache_dir=tmp_path / "cache", root=tmp_path, progress=False)  # fmt: skip
    assert decoded == [] and np.abs(again - first).max() <= 0.5 / 65535 + 1e-7
