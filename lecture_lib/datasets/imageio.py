"""Decode, resize and cache chest radiographs in parallel: the image pipeline behind every `load_*` function.

`load_images` turns a list of files (PNG, JPEG, GIF, 16-bit PNG, DICOM, raw JSRT `.IMG` through a custom reader)
into one `(N, S, S, 1)` float32 array in `[0, 1]`:

1. **decode** with Pillow (which releases the GIL, so a thread pool keeps every core busy) or pydicom;
   colour and RGBA images become grey with the ITU-R BT.601 luma weights, 16-bit images are divided by 65535;
2. **resize** to `S x S` with antialiasing: area averaging by default (each output pixel is the mean of the input
   pixels it covers, exactly `skimage.measure.block_reduce(..., np.mean)` for integer factors), or Lanczos;
   images that are not square are stretched, and the original `(height, width)` is returned so that boxes,
   landmarks and pixel spacing can be scaled the same way;
3. **cache** the resized images in `<data>/<name>/cache/<tag><S>px/`: a few large uint16 arrays (a quantization
   step of 1/65535) with a JSON index, read back through memory maps (see `arraycache`), so a second load costs a
   memory copy per image. An image whose source file changed since it was cached (another size, modification
   time, inode or status-change time: `arraycache.file_stamp`) is decoded again, even when the new file carries an
   older modification time; writes are atomic (temporary file + rename), and an interrupted load keeps what it had
   decoded.

Example:
    >>> from lecture_lib.datasets import imageio
    >>> images, sizes = imageio.load_images(paths, image_size=256, root=folder, cache_dir=folder / "cache")
    >>> images.shape, sizes[0]
    ((100, 256, 256, 1), array([1024, 1024]))
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from lecture_lib.datasets.arraycache import MAX_SHARDS, ArrayCache, file_stamp, quantize
from lecture_lib.datasets.loader_options import choose_positions

RESAMPLING = {"area": Image.Resampling.BOX, "lanczos": Image.Resampling.LANCZOS, "bilinear": Image.Resampling.BILINEAR}
"""Antialiased resampling filters by name (Pillow widens the kernel by the scale factor when shrinking)."""

FLUSH_EVERY = 2048
"""A cold load writes a cache shard every this many decoded images, so an interrupted load keeps its work."""
Reader = Callable[[Path], "Image.Image | np.ndarray"]
ErrorHandler = Callable[[Path, Exception], None]


def _check_size(image_size) -> int:
    if isinstance(image_size, bool) or not isinstance(image_size, int | np.integer) or not 2 <= image_size <= 8192:
        raise ValueError(f"image_size must be an integer between 2 and 8192 pixels, got {image_size!r}; e.g. 256")
    return int(image_size)


def to_grey(image: Image.Image) -> Image.Image:
    """Return a grey Pillow image: mode `"L"` for 8-bit data, `"F"` (float, [0, 1]) for 16-bit data.

    RGB, RGBA, LA and palette images use the BT.601 luma `L = 0.299 R + 0.587 G + 0.114 B`; the alpha channel is
    dropped (NIH ChestX-ray14 has a few RGBA files whose alpha is opaque).
    """
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        array = np.asarray(image)
        if array.dtype != np.uint16 and (array.min() < 0 or array.max() > 65535):
            raise ValueError(f"{getattr(image, 'filename', 'image')}: 32-bit integer pixels out of the 16-bit range")
        return Image.fromarray(array.astype(np.float32) / 65535.0, mode="F")
    if image.mode == "F":
        return image
    if image.mode == "1":
        return image.convert("L")
    if image.mode != "L":
        return image.convert("RGB").convert("L") if image.mode in ("P", "PA", "LA", "RGBA") else image.convert("L")
    return image


def read_image(path: Path | str, draft_size: int | None = None) -> Image.Image:
    """Decode an image file into a grey Pillow image (mode `"L"` or `"F"`; see `to_grey`).

    Args:
        path: a PNG (8 or 16 bit, grey, RGB or RGBA), JPEG, GIF, BMP or TIFF file.
        draft_size: for JPEGs, let the decoder shrink by a power of two while keeping at least this many pixels
            per side (much faster for the 2-3 kpixel JPEGs of MIMIC-CXR and CheXpert).

    Raises:
        FileNotFoundError: if the file is missing.
        ValueError: if Pillow cannot decode it.
    """
    path = Path(path)
    try:
        with Image.open(path) as image:
            if draft_size and image.format == "JPEG":
                image.draft("L", (draft_size, draft_size))
            image.load()
            return to_grey(image)
    except FileNotFoundError:
        raise FileNotFoundError(f"no image at {path}; check the dataset folder layout in data/README.md") from None
    except (OSError, SyntaxError) as error:
        raise ValueError(
            f"cannot decode {path} as an image ({error}); the file may be truncated: fetch it again"
        ) from error


def read_dicom_image(path: Path | str) -> np.ndarray:
    """Decode a DICOM file into a `(rows, columns)` float32 image in [0, 1], display convention."""
    from lecture_lib.datasets.dicom import read_dicom

    image, _ = read_dicom(path)
    return image[..., 0]


def default_reader(path: Path) -> Image.Image | np.ndarray:
    """Pick the decoder from the suffix: `.dcm` / `.dicom` go to pydicom, everything else to Pillow."""
    if path.suffix.lower() in (".dcm", ".dicom"):
        return read_dicom_image(path)
    return read_image(path)


def resize(image: Image.Image | np.ndarray, image_size: int, method: str = "area") -> np.ndarray:
    """Resize one grey image to `image_size x image_size` with antialiasing.

    Args:
        image: a Pillow image (`"L"` is read as `value / 255`) or a `(H, W)` float array in [0, 1].
        image_size: output side `S` in pixels.
        method: `"area"` (default), `"lanczos"` or `"bilinear"`; see `RESAMPLING`.

    Returns:
        `(S, S)` float32 array in [0, 1].

    Raises:
        ValueError: for an unknown method or an image that is not 2-D.
    """
    size = _check_size(image_size)
    if method not in RESAMPLING:
        raise ValueError(f"method must be one of {sorted(RESAMPLING)}, got {method!r}")
    scale = 1.0
    if isinstance(image, np.ndarray):
        if image.ndim == 3 and image.shape[-1] == 1:
            image = image[..., 0]
        if image.ndim != 2:
            raise ValueError(f"expected a (height, width) grey image, got shape {image.shape}")
        image = Image.fromarray(np.ascontiguousarray(image, dtype=np.float32), mode="F")
    else:
        image = to_grey(image)
        if image.mode == "L":
            image = image.convert("F")  # resample in float so 8-bit inputs lose no precision
            scale = 1.0 / 255.0
    width, height = image.size
    if method == "area" and width % size == 0 and height % size == 0:
        if (width, height) != (size, size):
            image = image.reduce((width // size, height // size))  # the same box average, about 3x faster
    elif (width, height) != (size, size):
        image = image.resize((size, size), RESAMPLING[method])
    result = np.asarray(image, dtype=np.float32) * np.float32(scale)
    return result if scale != 1.0 else np.clip(result, 0.0, 1.0, out=result)  # 8-bit averages stay in [0, 1]


def _cache_keys(paths: Sequence[Path], root: Path | None) -> list[str]:
    """Cache keys: the path relative to `root` with `/` -> `__`; outside `root`, the name plus a hash of the path."""
    base = os.path.abspath(root) + os.sep if root is not None else None
    keys = []
    for path in paths:
        absolute = os.path.abspath(path)
        if base is not None and absolute.startswith(base):
            keys.append(absolute[len(base) :].replace(os.sep, "__"))
        else:
            keys.append(path.name + "-" + hashlib.sha1(absolute.encode()).hexdigest()[:12])
    return keys


def load_images(
    paths: Sequence[Path | str],
    image_size: int = 256,
    reader: Reader | None = None,
    cache_dir: Path | str | None = None,
    root: Path | str | None = None,
    tag: str = "",
    method: str = "area",
    num_workers: int | None = None,
    progress: bool = True,
    desc: str = "images",
    on_error: ErrorHandler | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Decode and resize many images in parallel, reading from / writing to an on-disk cache.

    Args:
        paths: the image files, in the order wanted.
        image_size: output side `S` in pixels.
        reader: `path -> Pillow image or (H, W) float array in [0, 1]`; default `default_reader`.
        cache_dir: folder for the cache, e.g. `data/nih/cache`; `None` disables caching.
        root: the dataset folder; cache keys are the paths relative to it (so the cache survives renaming or
            moving the dataset folder on one disk; a copy is decoded again). Files outside it get a hashed name.
        tag: prefix of the cache sub-folder; different readers of the same files (e.g. masks) need different tags.
        method: resampling filter, see `resize`.
        num_workers: threads; default the number of CPU cores.
        progress: show a progress bar (tqdm).
        desc: the progress bar's label.
        on_error: `None` (default) raises the error of the first file that is missing or cannot be decoded. A
            function `on_error(path, error)` is called instead (in the calling thread) for each such file, whose
            image stays 0 and whose size is `(0, 0)`; nothing is cached for it, and the load goes on.

    Returns:
        `(images, original_sizes)`: `(N, S, S, 1)` float32 in [0, 1] and `(N, 2)` int64 `(height, width)` of each
        decoded file before resizing (`(0, 0)` for a file handed to `on_error`).

    Raises:
        ValueError: for a bad `image_size` or `method`, or a file that cannot be decoded (named in the message).
        FileNotFoundError: for a missing file.
    """
    from tqdm.auto import tqdm

    size = _check_size(image_size)
    if method not in RESAMPLING:
        raise ValueError(f"method must be one of {sorted(RESAMPLING)}, got {method!r}")
    paths = [Path(path) for path in paths]
    reader = reader or default_reader
    root = Path(root) if root is not None else None
    cache = ArrayCache(Path(cache_dir) / f"{tag}{size}px", size) if cache_dir is not None else None
    images = np.empty((len(paths), size, size, 1), dtype=np.float32)
    sizes = np.zeros((len(paths), 2), dtype=np.int64)
    keys = _cache_keys(paths, root) if cache is not None else [""] * len(paths)

    for attempt in range(2):  # a second look if another process compacted the cache between scan and read
        hits, hit_entries, misses = [], [], []
        known = cache.entries() if cache is not None else {}
        for index, (path, key) in enumerate(zip(paths, keys, strict=True)):
            entry = known.get(key)
            try:
                fresh = entry is not None and file_stamp(path) == entry.stamp
            except FileNotFoundError:  # reported by the decoding step below
                fresh = False
            if fresh:
                hits.append(index)
                hit_entries.append(entry)
            else:
                misses.append(index)
        try:
            if hits:
                cache.read(hit_entries, images, positions=hits)
                sizes[hits] = [(entry.height, entry.width) for entry in hit_entries]
            break
        except FileNotFoundError:
            if attempt:
                raise

    stamps: list = [None] * len(paths)
    quantized: dict[int, np.ndarray] = {}  # decoded images waiting to be written to the cache

    def work(index: int) -> tuple[int, Exception | None]:
        path = paths[index]
        try:
            stamps[index] = file_stamp(path)  # before decoding: a file rewritten meanwhile is decoded again later
            decoded = reader(path)
        except (OSError, ValueError) as error:
            if on_error is None:
                raise
            return index, error
        height, width = (decoded.height, decoded.width) if isinstance(decoded, Image.Image) else decoded.shape[:2]
        small = resize(decoded, size, method)
        images[index, ..., 0] = small
        sizes[index] = height, width
        if cache is not None:
            quantized[index] = quantize(small)
        return index, None

    done: list[int] = []

    def flush() -> None:
        if cache is not None and done:
            batch = np.stack([quantized.pop(i) for i in done])
            cache.add(batch, [keys[i] for i in done], sizes[done], [stamps[i] for i in done])
            done.clear()

    workers = num_workers or os.cpu_count() or 1
    with tqdm(total=len(paths), initial=len(hits), desc=desc, unit="img", disable=not progress, leave=False) as bar:
        try:
            if workers == 1 or len(misses) < 2:
                results = map(work, misses)
                pool = None
            else:
                pool = ThreadPoolExecutor(max_workers=workers)
                results = pool.map(work, misses)
            for index, error in results:
                bar.update()
                if error is not None:
                    images[index] = 0.0
                    on_error(paths[index], error)
                    continue
                done.append(index)
                if len(done) >= FLUSH_EVERY:
                    flush()
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
            flush()  # keep what was decoded, also when a file fails or the load is interrupted
    if cache is not None and misses:
        cache.compact(if_more_than=MAX_SHARDS)
    return images, sizes


def _years(age: str) -> float:
    """DICOM's Patient's Age (`"045Y"`; `D`, `W`, `M` for infants) in years, NaN if empty or unreadable."""
    age = age.strip().upper()
    if len(age) < 2 or not age[:-1].isdigit() or age[-1] not in "DWMY":
        return float("nan")
    return int(age[:-1]) / {"D": 365.25, "W": 52.18, "M": 12.0, "Y": 1.0}[age[-1]]


def select_dicoms(ids: list, on_disk: dict, views, num_images, num_workers, source: str, seed: int | None = None):
    """Keep the DICOMs whose header view is in `views` (None keeps all; a missing view counts as PA), then
    `num_images` of them, the first or a sample drawn with `seed` (`loader_options.choose_rows`); return
    `(ids, paths, headers)`, reading each header once.

    Raises:
        ValueError: if no image on disk has one of the `views`.
    """
    headers = None
    if views is not None:
        headers = read_dicom_headers([on_disk[key] for key in ids], num_workers)
        kept = [row for row, header in enumerate(headers) if (header["view"] or "PA").upper() in views]
        ids, headers = [ids[row] for row in kept], [headers[row] for row in kept]
        if not ids:
            raise ValueError(f"no {source} image on disk has the views {list(views)}")
    positions = choose_positions(len(ids), num_images, seed)
    ids = [ids[row] for row in positions]
    headers = None if headers is None else [headers[row] for row in positions]
    paths = [on_disk[key] for key in ids]
    return ids, paths, headers or read_dicom_headers(paths, num_workers)


def read_dicom_headers(paths: Sequence[Path | str], num_workers: int | None = None) -> list[dict]:
    """Read the few header fields the loaders need from many DICOMs, without decoding pixels.

    Returns:
        One dict per file with `patient_id` (str), `view` (str, `""` if absent), `rows`, `columns` (int),
        `spacing_mm` (`(row, column)` floats, or `(nan, nan)` when neither Pixel Spacing nor Imager Pixel Spacing
        is present), `age` (years, from Patient's Age such as `"045Y"` or `"018M"`; NaN if absent), `sex`
        (`"M"`, `"F"` or `""`) and `study_id` (Study Instance UID, `""` if absent).
    """
    import pydicom

    def one(path) -> dict:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        spacing = ds.get("PixelSpacing") or ds.get("ImagerPixelSpacing") or (float("nan"), float("nan"))
        return {
            "patient_id": str(ds.get("PatientID", "")),
            "view": str(ds.get("ViewPosition", "") or ""),
            "rows": int(ds.Rows),
            "columns": int(ds.Columns),
            "spacing_mm": (float(spacing[0]), float(spacing[1])),
            "age": _years(str(ds.get("PatientAge", "") or "")),
            "sex": str(ds.get("PatientSex", "")) if ds.get("PatientSex") in ("M", "F") else "",
            "study_id": str(ds.get("StudyInstanceUID", "") or ""),
        }

    with ThreadPoolExecutor(max_workers=num_workers or os.cpu_count() or 1) as pool:
        return list(pool.map(one, paths))


def shrink_masks(masks: np.ndarray, image_size: int) -> np.ndarray:
    """Resize binary masks `(N, H, W, M)` to `(N, S, S, M)` uint8: antialiased area average, then `>= 0.5`."""
    size = _check_size(image_size)
    out = np.zeros((masks.shape[0], size, size, masks.shape[-1]), dtype=np.uint8)
    for index in range(masks.shape[0]):
        for channel in range(masks.shape[-1]):
            out[index, :, :, channel] = resize(masks[index, :, :, channel].astype(np.float32), size) >= 0.5
    return out
