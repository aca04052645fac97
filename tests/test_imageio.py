"""Tests of the image pipeline: decoding (8/16-bit, RGBA, DICOM), antialiased resize, parallel load and cache."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from PIL import Image
from skimage.measure import block_reduce

from lecture_lib.datasets import imageio
from lecture_lib.datasets.arraycache import ArrayCache


def test_area_resize_equals_block_mean_for_integer_factors():
    rng = np.random.default_rng(0)
    image = rng.random((64, 48)).astype(np.float32)
    result = imageio.resize(image, 16)  # 4x in y, 3x in x: still block means
    expected = np.stack([block_reduce(image[:, c * 3 : c * 3 + 3], (4, 3), np.mean)[:, 0] for c in range(16)], 1)
    np.testing.assert_allclose(result, expected, atol=1e-6)


def test_area_resize_of_8bit_image_keeps_float_precision():
    pixels = np.array([[0, 1], [2, 4]], np.uint8)
    result = imageio.resize(Image.fromarray(pixels), 8)  # upsampling: constant blocks of the original values
    small = imageio.resize(Image.fromarray(np.kron(pixels, np.ones((4, 4), np.uint8))), 2)
    np.testing.assert_allclose(small, pixels / 255.0, atol=1e-7)
    assert result.dtype == np.float32 and result.shape == (8, 8)


def test_lanczos_resize_is_antialiased():
    # A one-pixel checkerboard has no content below Nyquist: antialiased shrinking gives flat grey 0.5.
    board = (np.indices((64, 64)).sum(0) % 2).astype(np.float32)
    for method in ("area", "lanczos"):
        np.testing.assert_allclose(imageio.resize(board, 16, method), 0.5, atol=0.02)


def test_read_image_grey_rgba_and_16_bit(tmp_path):
    Image.fromarray(np.full((4, 4, 4), (200, 100, 50, 255), np.uint8), mode="RGBA").save(tmp_path / "rgba.png")
    grey = imageio.read_image(tmp_path / "rgba.png")
    # ITU-R BT.601 luma: 0.299 * 200 + 0.587 * 100 + 0.114 * 50 = 124.2 -> 124
    assert grey.mode == "L" and np.asarray(grey)[0, 0] == 124
    sixteen = np.array([[0, 1000], [40000, 65535]], np.uint16)
    Image.fromarray(sixteen).save(tmp_path / "16.png")
    decoded = imageio.read_image(tmp_path / "16.png")
    assert decoded.mode == "F"
    np.testing.assert_allclose(np.asarray(decoded), sixteen / 65535.0, rtol=1e-6)


def test_read_image_errors_name_the_file(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(ValueError, match="broken.png"):
        imageio.read_image(tmp_path / "broken.png")
    with pytest.raises(FileNotFoundError, match="missing.png"):
        imageio.read_image(tmp_path / "missing.png")
    with pytest.raises(ValueError, match="image_size must be an integer between 2 and 8192 pixels, got 1"):
        imageio.resize(np.zeros((4, 4), np.float32), 1)


def test_load_images_parallel_cache_and_sizes(tmp_path):
    paths = []
    for index in range(6):
        path = tmp_path / "imgs" / f"{index}.png"
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(np.full((32, 48), 10 * index, np.uint8)).save(path)
        paths.append(path)
    calls = []

    def counting_reader(path):
        calls.append(path)
        return imageio.read_image(path)

    images, sizes = imageio.load_images(paths, 16, reader=counting_reader, cache_dir=tmp_path / "cache",
                                        root=tmp_path, num_workers=2, progress=False)  # fmt: skip
    assert images.shape == (6, 16, 16, 1) and images.dtype == np.float32
    np.testing.assert_allclose(images[:, 0, 0, 0], np.arange(6) * 10 / 255.0, atol=1e-6)
    assert sizes.tolist() == [[32, 48]] * 6
    shards = sorted(p.suffix for p in (tmp_path / "cache" / "16px").iterdir())
    assert shards == [".json", ".npy"]  # one shard: the images in one array, keys and sizes in its index
    entries = ArrayCache(tmp_path / "cache" / "16px", 16).entries()
    assert sorted(entries) == [f"imgs__{i}.png" for i in range(6)]
    assert {(e.height, e.width) for e in entries.values()} == {(32, 48)}
    again, sizes_again = imageio.load_images(paths, 16, reader=counting_reader, cache_dir=tmp_path / "cache",
                                             root=tmp_path, progress=False)  # fmt: skip
    assert len(calls) == 6  # second load read the cache only
    np.testing.assert_allclose(again, images, atol=1.0 / 65535)
    assert sizes_again.tolist() == sizes.tolist()
    other, _ = imageio.load_images(paths[:1], 8, cache_dir=tmp_path / "cache", root=tmp_path, progress=False)
    assert other.shape == (1, 8, 8, 1) and (tmp_path / "cache" / "8px").is_dir()  # keyed by image size


def test_cache_is_rebuilt_when_the_source_is_newer(tmp_path):
    path = tmp_path / "a.png"
    Image.fromarray(np.full((8, 8), 100, np.uint8)).save(path)
    imageio.load_images([path], 8, cache_dir=tmp_path / "cache", root=tmp_path, progress=False)
    Image.fromarray(np.full((8, 8), 200, np.uint8)).save(path)
    later = os.stat(path).st_mtime + 10
    os.utime(path, (later, later))
    images, _ = imageio.load_images([path], 8, cache_dir=tmp_path / "cache", root=tmp_path, progress=False)
    assert images[0, 0, 0, 0] == pytest.approx(200 / 255.0, abs=1e-5)


def test_cache_is_rebuilt_when_the_source_is_replaced_by_an_older_file(tmp_path):
    """`tar -x`, `cp -p`, `rsync -t` and unzip give a new file the (older) modification time it had before."""
    path = tmp_path / "a.png"
    Image.fromarray(np.full((8, 8), 100, np.uint8)).save(path)
    imageio.load_images([path], 8, cache_dir=tmp_path / "cache", root=tmp_path, progress=False)
    incoming = tmp_path / "incoming.png"
    Image.fromarray(np.full((8, 8), 200, np.uint8)).save(incoming)
    a_day_earlier = os.stat(path).st_mtime_ns - 86_400 * 10**9
    os.utime(incoming, ns=(a_day_earlier, a_day_earlier))
    os.replace(incoming, path)  # what rsync -t does; tar -x and unzip unlink and recreate
    images, _ = imageio.load_images([path], 8, cache_dir=tmp_path / "cache", root=tmp_path, progress=False)
    assert images[0, 0, 0, 0] == pytest.approx(200 / 255.0, abs=1e-5)


def test_cache_is_rebuilt_when_the_source_is_rewritten_in_place_with_its_old_size_and_mtime(tmp_path):
    """`cp -p` onto an existing file keeps its inode; the size and mtime can come out the same too."""
    path = tmp_path / "a.png"
    Image.fromarray(np.full((8, 8), 100, np.uint8)).save(path)
    before = os.stat(path)
    imageio.load_images([path], 8, cache_dir=tmp_path / "cache", root=tmp_path, progress=False)
    time.sleep(0.05)  # more than the file system's clock tick
    Image.fromarray(np.full((8, 8), 200, np.uint8)).save(path)  # opened "w+b": the same inode
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)
    images, _ = imageio.load_images([path], 8, cache_dir=tmp_path / "cache", root=tmp_path, progress=False)
    assert images[0, 0, 0, 0] == pytest.approx(200 / 255.0, abs=1e-5)


def test_unreadable_files_go_to_on_error_and_are_not_cached(tmp_path):
    paths = []
    for index in range(3):
        paths.append(tmp_path / f"{index}.png")
        Image.fromarray(np.full((8, 8), 50 * (index + 1), np.uint8)).save(paths[-1])
    paths[1].write_bytes(paths[1].read_bytes()[:40])
    paths.append(tmp_path / "gone.png")
    failed = []
    images, sizes = imageio.load_images(paths, 4, cache_dir=tmp_path / "cache", root=tmp_path, progress=False,
                                        on_error=lambda path, error: failed.append((path.name, type(error))))  # fmt: skip
    assert sorted(failed) == [("1.png", ValueError), ("gone.png", FileNotFoundError)]
    assert sizes.tolist() == [[8, 8], [0, 0], [8, 8], [0, 0]] and not images[[1, 3]].any()
    np.testing.assert_allclose(images[[0, 2], 0, 0, 0], [50 / 255, 150 / 255], atol=1e-6)
    assert sorted(ArrayCache(tmp_path / "cache" / "4px", 4).entries()) == ["0.png", "2.png"]
    with pytest.raises(ValueError, match="1.png as an image"):
        imageio.load_images(paths, 4, cache_dir=tmp_path / "cache", root=tmp_path, progress=False)


def test_dicom_files_go_through_read_dicom(tmp_path):
    from lecture_lib.datasets.dicom import write_dicom

    image = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (64, 1))
    path = write_dicom(tmp_path / "x.dcm", image, patient_id="P1", bits_stored=8, compression="jpeg_baseline")
    images, sizes = imageio.load_images([path], 32, progress=False)
    assert sizes.tolist() == [[64, 64]]
    np.testing.assert_allclose(images[0, :, :, 0], block_reduce(image, (2, 2), np.mean), atol=0.03)
