"""`CXRSet`: the one container every chest X-ray source returns (the phantom and each real dataset).

A notebook switches from `DATASET = "phantom"` to `"nih"` by changing one line, because every loader hands back the
same fields with the same shapes, dtypes and conventions (see `docs/architecture.md`):

| field | shape / dtype | meaning |
|---|---|---|
| `images` | `(N, H, W, 1)` float32 in [0, 1] | display convention: bone bright, air dark |
| `labels` | `(N, 15)` float32 | multi-hot over the slide's 15 codes; NaN where the source does not say |
| `masks` | `(N, H, W, M)` uint8 in {0, 1}, `mask_names` | one channel per structure |
| `boxes` | `(N, B, 4)` float32 pixels `xyxy`, padded with -1; `box_classes` `(N, B)` int32 slide code or -1 | lesions |
| `landmarks` | `(N, K, 2)` float32 pixels `(x, y)`, NaN if absent; `landmark_names` | anatomical points |
| `targets` | dict name -> `(N, ...)` array, e.g. `bone_free` `(N, H, W, 1)` float32 | task-specific ground truth |
| `patient_ids`, `views` | `(N,)` str | patient-level splits; "PA", "AP", ... |
| `pixel_spacing_mm` | `(N, 2)` float32 (row, column), NaN if unknown | mm measurements |

Pixel coordinates: `x` is the column and `y` the row, both measured from the top-left corner of the top-left pixel,
so a pixel's centre is at `(col + 0.5, row + 0.5)`. "Right" is the patient's right, on the viewer's left.

Example:
    >>> from lecture_lib.datasets import phantom
    >>> data = phantom.generate(200, image_size=128, seed=0)
    >>> train, val, test = data.split((0.7, 0.15, 0.15), seed=0, by="patient")
    >>> x, y = train.xy("segmentation", mask_names=["right_lung", "left_lung", "heart"])
    >>> x.shape, y.shape
    ((140, 128, 128, 1), (140, 128, 128, 3))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from lecture_lib.labels import NUM_PATHOLOGIES, PATHOLOGIES, code_of

META_COLUMNS: tuple[str, ...] = ("file", "age", "sex", "study_id", "follow_up")
"""The documented columns of `CXRSet.meta`; a source fills those it records."""

TASKS: tuple[str, ...] = ("classification", "segmentation", "detection", "landmarks", "bone_suppression")
"""The tasks `CXRSet.xy` prepares arrays for, one per lecture section."""

PAD = -1
"""Padding value of `boxes` and `box_classes` rows that hold no box."""


def _describe(array) -> str:
    return f"shape {tuple(array.shape)} and dtype {array.dtype}"


def _check_array(name: str, array, dtype, ndim: int, num_images: int | None, fix: str) -> np.ndarray:
    if not isinstance(array, np.ndarray):
        raise TypeError(f"CXRSet.{name} must be a numpy array, got {type(array).__name__}; {fix}")
    if array.dtype != dtype or array.ndim != ndim:
        raise ValueError(
            f"CXRSet.{name} has {_describe(array)}, expected {ndim} axes of dtype {np.dtype(dtype)}; {fix}"
        )
    if num_images is not None and array.shape[0] != num_images:
        raise ValueError(
            f"CXRSet.{name} has {array.shape[0]} rows (shape {array.shape}) but images has {num_images}; "
            "every field needs one entry per image"
        )
    return array


def _check_names(name: str, names, count: int, what: str) -> tuple[str, ...]:
    names = tuple(names)
    if len(names) != count or not all(isinstance(item, str) for item in names):
        raise ValueError(f"CXRSet.{name} must be {count} strings, one per {what}, got {names!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"CXRSet.{name} has duplicate names: {names!r}")
    return names


def _string_column(name: str, values, num_images: int, default) -> np.ndarray:
    if values is None:
        values = [default(i) for i in range(num_images)]
    array = np.asarray(values, dtype=object)
    if array.shape != (num_images,) or not all(isinstance(item, str) for item in array):
        raise ValueError(
            f"CXRSet.{name} must be {num_images} strings (one per image), got shape {array.shape} "
            f"starting {list(array.reshape(-1)[:3])!r}; pass a list or array of str"
        )
    return array


def _select_names(available: tuple[str, ...], wanted, field: str) -> list[int]:
    if wanted is None:
        return list(range(len(available)))
    wanted = [wanted] if isinstance(wanted, str) else list(wanted)
    missing = [name for name in wanted if name not in available]
    if missing:
        raise ValueError(f"unknown {field} {missing!r}; this set has {list(available)!r}")
    return [available.index(name) for name in wanted]


@dataclasses.dataclass(repr=False, eq=False)
class CXRSet:
    """A set of chest radiographs with whatever ground truth the source provides; validated on construction.

    Args:
        images: `(N, H, W, 1)` float32 in [0, 1], display convention (bone bright, air dark).
        labels: `(N, 15)` float32, multi-hot over the slide's 15 codes (values in [0, 1]) or NaN where unknown;
            `None` if the source has no labels.
        masks: `(N, H, W, M)` uint8 in {0, 1}, or `None`.
        mask_names: `M` names, one per mask channel, e.g. `("right_lung", "left_lung", "heart")`.
        boxes: `(N, B, 4)` float32 `(x1, y1, x2, y2)` in pixels with `x1 <= x2`, `y1 <= y2`; rows without a box
            are all -1. `None` if the source has no boxes.
        box_classes: `(N, B)` int32 slide code of each box (e.g. 11 = Nodule), -1 on padding rows.
        landmarks: `(N, K, 2)` float32 `(x, y)` in pixels, NaN where a point is absent; or `None`.
        landmark_names: `K` names, one per landmark.
        targets: dict name -> `(N, ...)` array of extra ground truth, e.g. `"bone_free"`: `(N, H, W, 1)` float32.
        patient_ids: `(N,)` str; defaults to one patient per image (`"image-0"`, ...).
        views: `(N,)` str such as `"PA"`; defaults to `"PA"`.
        pixel_spacing_mm: `(N, 2)` float32 (row, column) spacing in mm, NaN if unknown; defaults to NaN.
        source: where the images come from, e.g. `"phantom"` or `"nih"`.
        unreadable: files the loader could not read and left out, with their labels: name -> reason (e.g.
            `"missing"`); kept by `subset`, `split` and `concatenate`, empty when every file was read.
        meta: per-image metadata, a `pandas.DataFrame` with one row per image (index `0..N-1`) and whichever of
            `META_COLUMNS` the source records: `file` (path relative to the dataset folder), `age` (years, float,
            NaN if unknown), `sex` (`"M"`, `"F"` or `""`), `study_id` (str), `follow_up` (int, the NIH follow-up
            number); a loader may add its own columns. Rows follow the images through `subset`, indexing, `split`
            and `concatenate` (columns a set lacks become NaN there). Defaults to a frame with no columns.

    Raises:
        TypeError, ValueError: naming the field, what it received and what is expected.
    """

    images: np.ndarray
    labels: np.ndarray | None = None
    masks: np.ndarray | None = None
    mask_names: tuple[str, ...] = ()
    boxes: np.ndarray | None = None
    box_classes: np.ndarray | None = None
    landmarks: np.ndarray | None = None
    landmark_names: tuple[str, ...] = ()
    targets: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    patient_ids: np.ndarray | None = None
    views: np.ndarray | None = None
    pixel_spacing_mm: np.ndarray | None = None
    source: str = "unknown"
    unreadable: dict[str, str] = dataclasses.field(default_factory=dict)
    meta: pd.DataFrame | None = None

    def __post_init__(self):
        images = _check_array(
            "images",
            self.images,
            np.float32,
            4,
            None,
            "pass (N, H, W, 1) float32, e.g. images[..., None].astype('float32')",
        )
        if images.shape[-1] != 1:
            raise ValueError(f"CXRSet.images has shape {images.shape}, expected one grey channel (N, H, W, 1)")
        if images.size and not (np.all(np.isfinite(images)) and images.min() >= 0.0 and images.max() <= 1.0):
            raise ValueError(
                f"CXRSet.images must be finite and in [0, 1], got range [{np.nanmin(images)}, {np.nanmax(images)}]; "
                "rescale, e.g. images / 255 for 8-bit data"
            )
        num_images, height, width = images.shape[:3]

        if self.labels is not None:
            _check_array("labels", self.labels, np.float32, 2, num_images, "pass (N, 15) float32 multi-hot labels")
            if self.labels.shape[1] != NUM_PATHOLOGIES:
                raise ValueError(
                    f"CXRSet.labels has shape {self.labels.shape}, expected (N, {NUM_PATHOLOGIES}): one column per "
                    "slide code; build rows with lecture_lib.labels.multi_hot"
                )
            known = self.labels[~np.isnan(self.labels)]
            if known.size and (known.min() < 0 or known.max() > 1):
                raise ValueError(
                    f"CXRSet.labels must be in [0, 1] or NaN, got range [{known.min()}, {known.max()}]; "
                    "map uncertain labels (e.g. CheXpert's -1) to NaN"
                )

        if self.masks is None:
            if self.mask_names:
                raise ValueError(
                    f"CXRSet.mask_names is {tuple(self.mask_names)!r} but masks is None; pass both or neither"
                )
            self.mask_names = ()
        else:
            masks = _check_array("masks", self.masks, np.uint8, 4, num_images, "pass (N, H, W, M) uint8 with 0 and 1")
            if masks.shape[1:3] != (height, width):
                raise ValueError(
                    f"CXRSet.masks has shape {masks.shape}, expected (N, {height}, {width}, M) like images"
                )
            if masks.size and masks.max() > 1:
                raise ValueError(f"CXRSet.masks must hold 0 and 1, got a maximum of {masks.max()}; use (mask > 0)")
            self.mask_names = _check_names("mask_names", self.mask_names, masks.shape[3], "mask channel")

        if (self.boxes is None) != (self.box_classes is None):
            raise ValueError("CXRSet.boxes and CXRSet.box_classes go together: pass both or neither")
        if self.boxes is not None:
            boxes = _check_array("boxes", self.boxes, np.float32, 3, num_images, "pass (N, B, 4) float32 xyxy pixels")
            classes = _check_array("box_classes", self.box_classes, np.int32, 2, num_images, "pass (N, B) int32 codes")
            if boxes.shape[2] != 4 or classes.shape[1] != boxes.shape[1]:
                raise ValueError(
                    f"CXRSet.boxes has shape {boxes.shape} and box_classes {classes.shape}, expected (N, B, 4) and (N, B)"
                )
            padding = classes == PAD
            if np.any(padding & np.any(boxes != PAD, axis=-1)) or np.any(~padding & np.all(boxes == PAD, axis=-1)):
                raise ValueError("CXRSet.boxes rows must be all -1 exactly where box_classes is -1 (padding)")
            if np.any((classes < PAD) | (classes >= NUM_PATHOLOGIES)):
                raise ValueError(f"CXRSet.box_classes must be slide codes 0..14 or -1, got values {np.unique(classes)}")
            real = boxes[~padding]
            if real.size and (
                not np.all(np.isfinite(real)) or np.any(real[:, 2] < real[:, 0]) or np.any(real[:, 3] < real[:, 1])
            ):
                raise ValueError(
                    "CXRSet.boxes must be finite (x1, y1, x2, y2) with x1 <= x2 and y1 <= y2 (xyxy format)"
                )

        if self.landmarks is None:
            if self.landmark_names:
                raise ValueError("CXRSet.landmark_names is set but landmarks is None; pass both or neither")
            self.landmark_names = ()
        else:
            points = _check_array(
                "landmarks", self.landmarks, np.float32, 3, num_images, "pass (N, K, 2) float32 (x, y)"
            )
            if points.shape[2] != 2:
                raise ValueError(f"CXRSet.landmarks has shape {points.shape}, expected (N, K, 2) with (x, y) pairs")
            self.landmark_names = _check_names("landmark_names", self.landmark_names, points.shape[1], "landmark")

        if not isinstance(self.targets, dict):
            raise TypeError(f"CXRSet.targets must be a dict of arrays, got {type(self.targets).__name__}")
        for key, value in self.targets.items():
            if not isinstance(value, np.ndarray) or value.ndim == 0 or value.shape[0] != num_images:
                shape = getattr(value, "shape", None)
                raise ValueError(
                    f"CXRSet.targets[{key!r}] must be a numpy array with one row per image ({num_images}), got "
                    f"{type(value).__name__} with shape {shape}"
                )
        if "bone_free" in self.targets and (
            self.targets["bone_free"].shape != images.shape or self.targets["bone_free"].dtype != np.float32
        ):
            raise ValueError(
                f"CXRSet.targets['bone_free'] has {_describe(self.targets['bone_free'])}, expected {images.shape} "
                "float32 like images"
            )

        self.patient_ids = _string_column("patient_ids", self.patient_ids, num_images, lambda i: f"image-{i}")
        self.views = _string_column("views", self.views, num_images, lambda i: "PA")
        if self.pixel_spacing_mm is None:
            self.pixel_spacing_mm = np.full((num_images, 2), np.nan, dtype=np.float32)
        spacing = _check_array(
            "pixel_spacing_mm", self.pixel_spacing_mm, np.float32, 2, num_images, "pass (N, 2) float32 (row, col) mm"
        )
        if spacing.shape[1] != 2 or np.any(spacing <= 0):
            raise ValueError(
                f"CXRSet.pixel_spacing_mm has shape {spacing.shape}, expected (N, 2) positive mm or NaN if unknown"
            )
        if not isinstance(self.source, str):
            raise TypeError(f"CXRSet.source must be a string such as 'phantom', got {self.source!r}")
        if self.meta is None:
            self.meta = pd.DataFrame(index=pd.RangeIndex(num_images))
        if not isinstance(self.meta, pd.DataFrame) or len(self.meta) != num_images:
            raise ValueError(
                f"CXRSet.meta must be a pandas.DataFrame with one row per image ({num_images}), got "
                f"{type(self.meta).__name__} of length {len(self.meta) if hasattr(self.meta, '__len__') else None}"
            )
        self.meta = self.meta.reset_index(drop=True)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __repr__(self) -> str:
        parts = [f"{len(self)} images {self.image_size[0]}x{self.image_size[1]}", f"source={self.source!r}"]
        parts.append(f"{len(set(self.patient_ids))} patients")
        if self.labels is not None:
            parts.append("labels")
        if self.masks is not None:
            parts.append(f"masks={list(self.mask_names)}")
        if self.boxes is not None:
            parts.append(f"boxes (up to {self.boxes.shape[1]} per image)")
        if self.landmarks is not None:
            parts.append(f"{len(self.landmark_names)} landmarks")
        if self.targets:
            parts.append(f"targets={sorted(self.targets)}")
        return f"CXRSet({', '.join(parts)})"

    @property
    def image_size(self) -> tuple[int, int]:
        """`(height, width)` of the images in pixels."""
        return int(self.images.shape[1]), int(self.images.shape[2])

    def _indices(self, index) -> np.ndarray:
        count = len(self)
        if isinstance(index, bool | np.bool_):
            raise TypeError("index a CXRSet with an int, a slice, a boolean mask or an array of ints, not a bool")
        if isinstance(index, int | np.integer):
            if not -count <= index < count:
                raise IndexError(f"image index {index} is out of range for a CXRSet of {count} images")
            return np.array([index % count])
        if isinstance(index, slice):
            return np.arange(count)[index]
        array = np.asarray(index)
        if array.dtype == bool:
            if array.shape != (count,):
                raise IndexError(f"a boolean mask must have shape ({count},), got {array.shape}")
            return np.flatnonzero(array)
        if array.ndim != 1 or not (array.size == 0 or np.issubdtype(array.dtype, np.integer)):
            raise IndexError(f"expected a 1-D array of image indices, got shape {array.shape} and dtype {array.dtype}")
        if array.size and (array.min() < -count or array.max() >= count):
            raise IndexError(f"image indices must be in [-{count}, {count - 1}], got [{array.min()}, {array.max()}]")
        return array % count if array.size else array.astype(np.int64)

    def subset(self, indices) -> CXRSet:
        """Return the images picked by `indices`, with all their ground truth, as a new `CXRSet`.

        Args:
            indices: an int (gives a set of one image), a slice, a boolean mask of shape `(N,)` or an array of
                integer indices (order and repeats are kept).

        Returns:
            A new `CXRSet` holding copies of the selected rows.

        Raises:
            IndexError: for indices out of range or a mask of the wrong length.
        """
        rows = self._indices(indices)

        def take(array):
            return None if array is None else array[rows]

        return CXRSet(
            images=self.images[rows],
            labels=take(self.labels),
            masks=take(self.masks),
            mask_names=self.mask_names,
            boxes=take(self.boxes),
            box_classes=take(self.box_classes),
            landmarks=take(self.landmarks),
            landmark_names=self.landmark_names,
            targets={key: value[rows] for key, value in self.targets.items()},
            patient_ids=self.patient_ids[rows],
            views=self.views[rows],
            pixel_spacing_mm=self.pixel_spacing_mm[rows],
            source=self.source,
            unreadable=dict(self.unreadable),
            meta=self.meta.iloc[rows],
        )

    __getitem__ = subset

    def split(
        self, fractions: Sequence[float] = (0.7, 0.15, 0.15), seed: int = 0, by: str = "patient"
    ) -> tuple[CXRSet, ...]:
        """Split into train / validation / test (or any number of) parts.

        With `by="patient"` whole patients are shuffled and dealt out so that the image counts follow `fractions`
        and no patient appears in two parts: follow-up studies of a patient in both train and test would leak.
        `by="image"` shuffles images instead, which lets a notebook demonstrate that leakage.

        Args:
            fractions: positive shares summing to 1, one per part, e.g. `(0.7, 0.15, 0.15)`.
            seed: seed of the shuffle.
            by: `"patient"` or `"image"`.

        Returns:
            A tuple of `len(fractions)` `CXRSet`s; within each part images keep their original order.

        Raises:
            ValueError: for fractions that are not positive or do not sum to 1, an unknown `by`, or fewer
                patients (images) than parts.
        """
        shares = np.asarray(fractions, dtype=np.float64)
        if shares.ndim != 1 or shares.size < 1 or np.any(shares <= 0) or abs(shares.sum() - 1.0) > 1e-6:
            raise ValueError(f"fractions must be positive numbers summing to 1, got {tuple(fractions)!r}")
        if by not in ("patient", "image"):
            raise ValueError(f"by must be 'patient' or 'image', got {by!r}")
        groups = self.patient_ids if by == "patient" else np.arange(len(self)).astype(str)
        unique, group_of_image = np.unique(groups, return_inverse=True)
        if unique.size < shares.size:
            raise ValueError(f"cannot split {unique.size} {by}s into {shares.size} parts; use fewer parts or more data")
        order = np.random.default_rng(seed).permutation(unique.size)
        sizes = np.bincount(group_of_image, minlength=unique.size)[order]
        # Deal groups in shuffled order; part k ends after the group whose running image count is closest to
        # its cumulative share, keeping at least one group per part.
        running = np.cumsum(sizes)
        ends = []
        for part, target in enumerate(np.cumsum(shares)[:-1] * len(self)):
            end = int(np.argmin(np.abs(running - target))) + 1
            lowest = ends[-1] + 1 if ends else 1
            ends.append(min(max(end, lowest), unique.size - (shares.size - 1 - part)))
        part_of_group = np.empty(unique.size, dtype=np.int64)
        part_of_group[order] = np.searchsorted(ends, np.arange(unique.size), side="right")
        part_of_image = part_of_group[group_of_image]
        return tuple(self.subset(np.flatnonzero(part_of_image == part)) for part in range(shares.size))

    def xy(self, task: str, **options) -> tuple[np.ndarray, np.ndarray | dict[str, np.ndarray]]:
        """Return `(x, y)` numpy arrays ready for `model.fit` for one lecture task.

        `x` is always `images`, `(N, H, W, 1)` float32. `y` depends on the task:

        - `"classification"`: labels `(N, C)` float32 (multi-hot, NaN where unknown). Options: `findings` (list of
          titles to keep as columns, default all 15), `nan_to` (a number replacing NaN, default keep NaN).
        - `"segmentation"`: masks as float32 `(N, H, W, M)`. Options: `mask_names` (channels to keep, in that order,
          default all), `background` (if True, prepend a background channel `1 - max(masks)` for a pixel-wise
          softmax; give non-overlapping structures).
        - `"detection"`: a dict `{"boxes": (N, B, 4) float32 xyxy pixels, "labels": (N, B) int32 slide codes}`,
          padded with -1 (the `keras.utils.bounding_boxes` layout). Options: `classes` (titles or codes to keep;
          other boxes become padding), `normalized` (if True, divide x by W and y by H).
        - `"landmarks"`: `(N, K, 2)` float32 `(x, y)` pixels, NaN if absent. Options: `landmark_names` (points to
          keep, in that order), `normalized` (if True, divide x by W and y by H, giving [0, 1]).
        - `"bone_suppression"`: `targets["bone_free"]`, `(N, H, W, 1)` float32 in [0, 1].

        Args:
            task: one of `TASKS`.
            **options: the task's options above.

        Returns:
            `(x, y)` as described.

        Raises:
            ValueError: for an unknown task or option, or when this set lacks the task's ground truth.
        """
        allowed = {
            "classification": {"findings", "nan_to"},
            "segmentation": {"mask_names", "background"},
            "detection": {"classes", "normalized"},
            "landmarks": {"landmark_names", "normalized"},
            "bone_suppression": set(),
        }
        if task not in allowed:
            raise ValueError(f"unknown task {task!r}; choose one of {list(TASKS)}")
        unknown = set(options) - allowed[task]
        if unknown:
            raise ValueError(f"xy({task!r}) got unknown options {sorted(unknown)}; valid: {sorted(allowed[task])}")
        needs = {
            "classification": ("labels", self.labels),
            "segmentation": ("masks", self.masks),
            "detection": ("boxes", self.boxes),
            "landmarks": ("landmarks", self.landmarks),
            "bone_suppression": ("targets['bone_free']", self.targets.get("bone_free")),
        }
        field, value = needs[task]
        if value is None:
            raise ValueError(f"this {self.source!r} set has no {field}, so it cannot serve the {task!r} task")
        height, width = self.image_size
        x = self.images
        if task == "classification":
            findings = options.get("findings")
            columns = list(range(NUM_PATHOLOGIES)) if findings is None else [code_of(name) for name in findings]
            y = self.labels[:, columns]
            if options.get("nan_to") is not None:
                y = np.where(np.isnan(y), np.float32(options["nan_to"]), y)
            return x, y.astype(np.float32)
        if task == "segmentation":
            channels = _select_names(self.mask_names, options.get("mask_names"), "mask_names")
            y = self.masks[..., channels].astype(np.float32)
            if options.get("background", False):
                foreground = y.max(axis=-1, keepdims=True) if channels else np.zeros((*x.shape[:3], 1), np.float32)
                y = np.concatenate([1.0 - foreground, y], axis=-1)
            return x, y
        if task == "detection":
            boxes, classes = self.boxes.copy(), self.box_classes.copy()
            if options.get("classes") is not None:
                keep = [code_of(item) if isinstance(item, str) else int(item) for item in options["classes"]]
                drop = ~np.isin(classes, keep)
                boxes[drop], classes[drop] = PAD, PAD
            if options.get("normalized", False):
                real = classes != PAD
                boxes[real] = boxes[real] / np.array([width, height, width, height], dtype=np.float32)
            return x, {"boxes": boxes, "labels": classes}
        if task == "landmarks":
            points = _select_names(self.landmark_names, options.get("landmark_names"), "landmark_names")
            y = self.landmarks[:, points].copy()
            if options.get("normalized", False):
                y = y / np.array([width, height], dtype=np.float32)
            return x, y
        return x, self.targets["bone_free"]

    def summary(self) -> pd.DataFrame:
        """Count each finding: one row per slide code.

        Returns:
            A DataFrame indexed by title (in code order) with integer columns `code`, `positive`, `negative`,
            `unknown` (NaN labels) and float column `prevalence` = positive / (positive + negative).

        Raises:
            ValueError: if this set has no labels.
        """
        if self.labels is None:
            raise ValueError(f"this {self.source!r} set has no labels to summarise")
        known = ~np.isnan(self.labels)
        positive = np.sum(known & (self.labels >= 0.5), axis=0)
        negative = np.sum(known, axis=0) - positive
        with np.errstate(invalid="ignore", divide="ignore"):
            prevalence = positive / (positive + negative)
        return pd.DataFrame(
            {
                "code": np.arange(NUM_PATHOLOGIES),
                "positive": positive,
                "negative": negative,
                "unknown": np.sum(~known, axis=0),
                "prevalence": prevalence,
            },
            index=pd.Index(PATHOLOGIES, name="finding"),
        )

    @staticmethod
    def concatenate(sets: Sequence[CXRSet]) -> CXRSet:
        """Stack several sets of the same image size into one.

        Labels and landmarks missing from some sets are filled with NaN ("unknown"); box arrays are padded with -1
        to the largest number of boxes. Masks and targets must be present in all sets with the same names.

        Args:
            sets: one or more `CXRSet`s.

        Returns:
            A new `CXRSet`; `source` is the common source or the sources joined with `"+"`.

        Raises:
            ValueError: for an empty list, different image sizes, or masks / targets / landmark names that differ.
        """
        sets = list(sets)
        if not sets or not all(isinstance(item, CXRSet) for item in sets):
            raise ValueError("concatenate needs a non-empty list of CXRSet objects")
        first = sets[0]
        sizes = {item.image_size for item in sets}
        if len(sizes) > 1:
            raise ValueError(f"cannot concatenate images of different sizes {sorted(sizes)}; resize them first")

        def stack(name):
            return np.concatenate([getattr(item, name) for item in sets])

        labels = None
        if any(item.labels is not None for item in sets):
            labels = np.concatenate(
                [
                    item.labels
                    if item.labels is not None
                    else np.full((len(item), NUM_PATHOLOGIES), np.nan, np.float32)
                    for item in sets
                ]
            )
        if len({(item.masks is None, item.mask_names) for item in sets}) > 1:
            raise ValueError(f"masks differ between sets: {[item.mask_names for item in sets]}; select common channels")
        if len({tuple(sorted(item.targets)) for item in sets}) > 1:
            raise ValueError(f"targets differ between sets: {[sorted(item.targets) for item in sets]}")
        names = {item.landmark_names for item in sets if item.landmarks is not None}
        if len(names) > 1:
            raise ValueError(f"landmark names differ between sets: {sorted(names)}")
        landmarks, landmark_names = None, ()
        if names:
            landmark_names = names.pop()
            landmarks = np.concatenate(
                [
                    item.landmarks
                    if item.landmarks is not None
                    else np.full((len(item), len(landmark_names), 2), np.nan, np.float32)
                    for item in sets
                ]
            )
        if len({item.boxes is None for item in sets}) > 1:
            raise ValueError("some sets have boxes and some do not; concatenate sets with the same annotations")
        boxes = box_classes = None
        if first.boxes is not None:
            width = max(item.boxes.shape[1] for item in sets)
            boxes = np.concatenate(
                [
                    np.pad(item.boxes, ((0, 0), (0, width - item.boxes.shape[1]), (0, 0)), constant_values=PAD)
                    for item in sets
                ]
            )
            box_classes = np.concatenate(
                [
                    np.pad(item.box_classes, ((0, 0), (0, width - item.box_classes.shape[1])), constant_values=PAD)
                    for item in sets
                ]
            )
        sources = list(dict.fromkeys(item.source for item in sets))
        return CXRSet(
            images=stack("images"),
            labels=labels,
            masks=None if first.masks is None else stack("masks"),
            mask_names=first.mask_names,
            boxes=boxes,
            box_classes=box_classes,
            landmarks=landmarks,
            landmark_names=landmark_names,
            targets={key: np.concatenate([item.targets[key] for item in sets]) for key in first.targets},
            patient_ids=stack("patient_ids"),
            views=stack("views"),
            pixel_spacing_mm=stack("pixel_spacing_mm"),
            source="+".join(sources),
            unreadable={name: reason for item in sets for name, reason in item.unreadable.items()},
            meta=pd.concat([item.meta for item in sets], ignore_index=True),
        )
