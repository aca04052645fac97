"""An on-disk cache of resized images: a few large uint16 arrays with a JSON index, read back through memory maps.

One cache folder holds the images of one dataset at one size (e.g. `data/nih/cache/256px/`). It is made of
*shards*; each shard is a pair

    <id>.npy    uint16 array (n, S, S): the images, value * 65535 rounded (a quantization step of 1/65535)
    <id>.json   {"format": 2, "shape": [n, S, S], "keys": [...], "heights": [...], "widths": [...], "stamps": [...]}

`keys` name the source files (paths relative to the dataset folder), `heights`/`widths` are the sizes of the
decoded files before resizing and `stamps` the sources' `file_stamp` (size, mtime, inode, ctime) when they were
decoded; an entry is used only while its source still has that stamp. A modification time alone is not enough:
`tar -x`, `cp -p`, `rsync -t` and unzip give a replaced file the older mtime it had in the archive. The `.npy` is
written first and the `.json` last, each to a temporary name and then renamed: a shard without its index, or whose
array does not have the indexed shape (an interrupted write, a full disk), is ignored and removed on the next
compaction; a shard of an older index format is ignored and removed by the next `compact`. Later shards win when a
key is in several.

Reading `n` cached images is one memory-mapped gather per shard instead of `n` file opens; this is what takes the
second load of a dataset from about 3,000 to tens of thousands of images per second (`benchmarks/bench_loaders.py`).
Many small shards (one per interrupted or partial load) are merged by `compact(if_more_than=MAX_SHARDS)`, which
`imageio.load_images` calls after writing.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SCALE = 65535.0
"""Cached value = round(image * SCALE) as uint16."""
FORMAT = 2
"""Version of the index; format 1 keyed the sources on their mtime alone."""
MAX_SHARDS = 8
"""`load_images` merges the shards of a folder into one when there are more than this many."""
_CHUNK = 256


Stamp = tuple[int, int, int, int]


def file_stamp(path: Path | str) -> Stamp:
    """Return what tells one version of a file from another: `(size, mtime_ns, inode, ctime_ns)`, one `os.stat`.

    Another file put in its place has a new inode or a new status-change time (ctime): creating, writing or
    re-dating a file sets its ctime to the current time, and no tool can set it back. So a replacement is noticed
    even when its size and modification time equal the old file's (`cp -p`, `tar -x`, `rsync -t`, unzip). On
    Windows, where `st_ctime` is the creation time, an in-place rewrite with the same size and a restored mtime
    goes unnoticed.

    Raises:
        FileNotFoundError: if the file is missing.
    """
    status = os.stat(path)
    return status.st_size, status.st_mtime_ns, status.st_ino, status.st_ctime_ns


def quantize(images: np.ndarray) -> np.ndarray:
    """Float values in [0, 1] -> uint16 `round(value * 65535)` (values outside [0, 1] are clipped)."""
    scaled = np.clip(images, 0.0, 1.0) * np.float32(SCALE)
    return np.rint(scaled, out=scaled).astype(np.uint16)


@dataclass(frozen=True)
class Entry:
    """Where one cached image is: shard file, row, original (height, width) and the source's stamp when cached."""

    shard: Path
    row: int
    height: int
    width: int
    stamp: Stamp


class ArrayCache:
    """The shards of one cache folder (see the module docstring).

    Args:
        folder: e.g. `data/nih/cache/256px`; created on the first write.
        image_size: the side `S` of every cached image; a shard of another size is an error.
    """

    def __init__(self, folder: Path | str, image_size: int):
        self.folder = Path(folder)
        self.image_size = int(image_size)

    # ------------------------------------------------------------------------------------------------ reading
    @staticmethod
    def _by_shard(entries: Sequence[Entry]) -> dict[Path, tuple[np.ndarray, np.ndarray]]:
        """Group entries by shard: `{shard: (numbers, rows)}`, `entries[numbers[i]]` is row `rows[i]`, rows sorted
        so that reads go through each file in order."""
        groups: dict[Path, list[int]] = {}
        for number, entry in enumerate(entries):
            groups.setdefault(entry.shard, []).append(number)
        result = {}
        for shard, numbers in groups.items():
            rows = np.asarray([entries[n].row for n in numbers])
            order = np.argsort(rows, kind="stable")
            result[shard] = np.asarray(numbers)[order], rows[order]
        return result

    def _shards(self, outdated: list[Path] | None = None) -> list[tuple[Path, dict, np.ndarray]]:
        """Valid shards, oldest first, as `(path, index, memory map)`: the array has the indexed shape and size.

        The index files of an older format are appended to `outdated` when it is given.
        """
        if not self.folder.is_dir():
            return []
        shards = []
        for index_path in sorted(self.folder.glob("[!.]*.json")):
            data_path = index_path.with_suffix(".npy")
            try:
                index = json.loads(index_path.read_text())
                if isinstance(index, dict) and isinstance(index.get("format"), int) and index["format"] < FORMAT:
                    if outdated is not None:
                        outdated.append(index_path)
                    continue
                data = np.load(data_path, mmap_mode="r")  # a truncated file fails here
                shape, columns = (
                    tuple(index["shape"]),
                    [index[name] for name in ("keys", "heights", "widths", "stamps")],
                )
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if index.get("format") != FORMAT or data.shape != shape or data.dtype != np.uint16 or data.ndim != 3:
                continue
            if any(len(column) != shape[0] for column in columns):
                continue
            if not all(isinstance(stamp, list) and len(stamp) == 4 for stamp in index["stamps"]):
                continue
            if shape[1:] != (self.image_size, self.image_size):
                raise ValueError(
                    f"cache shard {data_path} holds {shape[1]}x{shape[2]} images but this folder is for "
                    f"{self.image_size}x{self.image_size}; delete {self.folder} to rebuild it"
                )
            shards.append((data_path, index, data))
        return shards

    def entries(self, shards: list | None = None) -> dict[str, Entry]:
        """Every cached key and where its newest copy is (in `shards`, default the folder's valid shards)."""
        found: dict[str, Entry] = {}
        for data_path, index, _ in self._shards() if shards is None else shards:
            for row, (key, height, width, stamp) in enumerate(
                zip(index["keys"], index["heights"], index["widths"], index["stamps"], strict=True)
            ):
                found[key] = Entry(data_path, row, int(height), int(width), tuple(stamp))
        return found

    def read(self, entries: Sequence[Entry], out: np.ndarray, positions: Sequence[int] | None = None) -> None:
        """Copy cached images into a float32 array, as values in [0, 1].

        Args:
            entries: where the images are (from `entries()`).
            out: `(N, S, S)` or `(N, S, S, 1)` float32 array.
            positions: `out[positions[i]]` receives the image of `entries[i]`; default `range(len(entries))`.
        """
        if len(entries) == 0:
            return
        target = out[..., 0] if out.ndim == 4 else out
        positions = np.arange(len(entries)) if positions is None else np.asarray(positions)
        scale = np.float32(1.0 / SCALE)
        tasks = []
        for shard, (numbers, rows) in self._by_shard(entries).items():
            try:
                data = np.load(shard, mmap_mode="r")
            except FileNotFoundError:
                raise FileNotFoundError(
                    f"cache shard {shard} is gone (another process compacted it?); load again"
                ) from None
            places = positions[numbers]
            tasks += [(data, rows[i : i + _CHUNK], places[i : i + _CHUNK]) for i in range(0, len(rows), _CHUNK)]

        def copy(task) -> None:
            data, rows, places = task
            if (np.diff(rows) == 1).all() and (np.diff(places) == 1).all():
                block = slice(rows[0], rows[-1] + 1), slice(places[0], places[-1] + 1)  # runs: no gather, no scatter
                np.multiply(data[block[0]], scale, out=target[block[1]])
            else:
                target[places] = data[rows] * scale

        with ThreadPoolExecutor(max_workers=min(len(tasks), os.cpu_count() or 1)) as pool:  # numpy frees the GIL
            list(pool.map(copy, tasks))

    # ------------------------------------------------------------------------------------------------ writing
    def _write(self, images: np.ndarray, keys: Sequence[str], sizes: np.ndarray, stamps: Sequence[Stamp]) -> Path:
        """Write one shard from uint16 `images (n, S, S)`; returns its `.npy` path."""
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = f"{time.time_ns():020d}-{os.getpid()}-{os.urandom(3).hex()}"
        data_path, index_path = self.folder / f"{stem}.npy", self.folder / f"{stem}.json"
        index = {
            "format": FORMAT,
            "shape": list(images.shape),
            "keys": list(keys),
            "heights": [int(h) for h in sizes[:, 0]],
            "widths": [int(w) for w in sizes[:, 1]],
            "stamps": [[int(value) for value in stamp] for stamp in stamps],
        }
        for path, write in (
            (data_path, lambda s: np.save(s, images)),
            (index_path, lambda s: s.write(json.dumps(index).encode())),
        ):
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=path.suffix)
            try:
                with os.fdopen(handle, "wb") as stream:
                    write(stream)
                os.replace(temporary, path)
            finally:
                if os.path.exists(temporary):
                    os.unlink(temporary)
        return data_path

    def add(self, images: np.ndarray, keys: Sequence[str], sizes: np.ndarray, stamps: Sequence[Stamp]) -> None:
        """Cache images, `(n, S, S)` or `(n, S, S, 1)`, with their keys, original sizes and the sources' stamps.

        A stamp is the source's `file_stamp`, taken before it was decoded (so that a file rewritten meanwhile is
        decoded again next time).

        Float images are values in [0, 1] and are quantized here; uint16 images are taken as already quantized
        (`quantize`), which lets callers spread that work over their worker threads.
        """
        images = np.asarray(images)
        if images.ndim == 4:
            images = images[..., 0]
        if images.shape[1:] != (self.image_size, self.image_size) or not len(images) == len(keys) == len(stamps):
            raise ValueError(
                f"expected {len(keys)} images of {self.image_size}x{self.image_size} and {len(keys)} stamps, got "
                f"shape {images.shape} and {len(stamps)} stamps"
            )
        if len(keys):
            quantized = images if images.dtype == np.uint16 else quantize(images)
            self._write(quantized, keys, np.asarray(sizes).reshape(-1, 2), stamps)

    def compact(self, if_more_than: int = 1) -> None:
        """Merge the shards into one that holds the newest copy of each key, when there are more than `if_more_than`.

        Shards of an older index format are removed in any case. Files of other shards that are invalid (interrupted
        writes) are removed once they are an hour old, so that a shard another process is writing right now is
        never touched.
        """
        outdated: list[Path] = []
        shards = self._shards(outdated)
        for index_path in outdated:
            index_path.unlink(missing_ok=True)  # the index first, as below
            index_path.with_suffix(".npy").unlink(missing_ok=True)
        if len(shards) <= if_more_than:
            return
        found = self.entries(shards)
        keys, entries = list(found), list(found.values())
        maps = {path: data for path, _, data in shards}
        merged = np.empty((len(keys), self.image_size, self.image_size), dtype=np.uint16)
        for shard, (numbers, rows) in self._by_shard(entries).items():
            merged[numbers] = maps[shard][rows]
        sizes = np.asarray([(entry.height, entry.width) for entry in entries], dtype=np.int64)
        valid = {self._write(merged, keys, sizes, [entry.stamp for entry in entries])}
        for path, _, _ in shards:
            path.with_suffix(".json").unlink(missing_ok=True)  # the index first: no reader sees a lost array
            path.unlink(missing_ok=True)
        for path in self.folder.iterdir() if self.folder.is_dir() else ():
            try:
                if path.with_suffix(".npy") not in valid and time.time() - path.stat().st_mtime > 3600:
                    path.unlink(missing_ok=True)
            except FileNotFoundError:  # removed by another process meanwhile
                pass

    def __len__(self) -> int:
        return len(self.entries())
