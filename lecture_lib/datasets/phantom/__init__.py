"""Synthetic PA chest radiographs that know their ground truth, for every task of the lecture.

The phantom is rendered as X-ray physics, not as flat shapes. Anatomy is sampled in millimetres over a square
field of view (`FIELD_OF_VIEW_MM`), then every pixel receives the line integral of linear attenuation along the
beam, `P = sum(mu * thickness)`, from closed-form chord lengths of elliptic cylinders, ellipsoids and tubes:
a body outline, two air-filled lungs, the mediastinum and heart, diaphragm domes (the right one higher), the spine,
posterior and anterior rib arcs (each rib a little irregular), clavicles, trachea and main bronchi, hilar vessels and
lung markings, and breast / pectoral soft tissue over the lung bases. The detector sees `I = exp(-P)` with quantum
noise; the log transform gives back `P` plus noise, which is blurred (detector unsharpness) and windowed with an
S-shaped film curve into the display convention (bone bright, air dark).

Each patient has one anatomy (size, lung shape, heart size, diaphragm levels, rotation); a patient's studies
(follow-ups) share it, with small changes of pose and exposure, and their findings may differ. All parameters
are drawn before rasterization from per-patient and per-image random streams of `numpy.random.SeedSequence`,
so the same seed gives the same anatomy and findings at 64, 128, 256 or 512 pixels, and the same arguments give
bit-identical arrays.

Ground truth, exact by construction: labels over the slide's 15 codes; masks (`MASK_NAMES`) thresholded from the
same functions that render the image; lesion boxes drawn around each lesion's own mask; named landmarks
(`LANDMARK_NAMES`) from which the cardiothoracic ratio follows; a `bone_free` twin rendered with the same noise.

Package layout (each module's docstring says more): `anatomy` (the `Patient`, its geometry and the healthy chest),
`findings` (`FINDING_TABLE`: each finding's spec, `sample`, `apply` and `render`; the `Study`), `acquisition`
(framing, projection, detector processing, devices), `render` (one study to image, masks, boxes and landmarks),
`geometry` (chord lengths and profiles). As in MONAI's random transforms, drawing (`randomize`) is kept apart
from applying (`__call__`): every parameter is drawn by `sample_patient` and `sample_study` (and the `sample`
functions of `findings.FINDING_TABLE` that it calls), and `render.render_image` is deterministic given a `Study`
and the image's noise seed.

Example:
    >>> from lecture_lib.datasets import phantom
    >>> data = phantom.generate(8, image_size=128, seed=0, findings=["Cardiomegaly"])
    >>> data.labels[:, 1].tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import threadpoolctl

from lecture_lib.checks import check_count, check_flag, check_number
from lecture_lib.datasets.phantom.acquisition import ACQUISITIONS, MARKER_TEXTS, MU_METAL, STANDARD_ACQUISITION, Frame
from lecture_lib.datasets.phantom.anatomy import (
    BODY_BOTTOM_MM,
    FIELD_OF_VIEW_MM,
    MU_BONE,
    MU_LUNG,
    MU_SOFT,
    sample_patient,
)
from lecture_lib.datasets.phantom.findings import (
    BOX_FINDINGS,
    CHRONIC_FINDINGS,
    DEFAULT_PREVALENCE,
    NIH_PREVALENCE,
    sample_study,
)
from lecture_lib.datasets.phantom.render import LANDMARK_NAMES, MASK_NAMES, landmark_pixels, render_image
from lecture_lib.datasets.schema import PAD, CXRSet
from lecture_lib.evaluation import cardiothoracic_ratio
from lecture_lib.labels import FINDINGS, NO_FINDING, NUM_PATHOLOGIES, PATHOLOGIES, code_of

__all__ = [
    "ACQUISITIONS",
    "BODY_BOTTOM_MM",
    "BOX_FINDINGS",
    "CHRONIC_FINDINGS",
    "DEFAULT_PREVALENCE",
    "FIELD_OF_VIEW_MM",
    "LANDMARK_NAMES",
    "MARKER_TEXTS",
    "MASK_NAMES",
    "MAX_IMAGE_SIZE",
    "MEMORY_WARNING_GIB",
    "MU_BONE",
    "MU_LUNG",
    "MU_METAL",
    "MU_SOFT",
    "NIH_PREVALENCE",
    "STANDARD_ACQUISITION",
    "generate",
]


@functools.cache
def _blas_controller() -> threadpoolctl.ThreadpoolController:
    """The BLAS libraries loaded in this process, found once (a lookup costs milliseconds, a limit 0.05 ms)."""
    return threadpoolctl.ThreadpoolController()


def _code(title, argument: str) -> int:
    """`labels.code_of(title)`, its error prefixed with the argument that held the title."""
    try:
        return code_of(title)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{argument}: {error}") from None


def _resolve_prevalence(prevalence) -> dict[str, float]:
    """`DEFAULT_PREVALENCE` updated with the caller's `prevalence` (finding name -> probability), checked."""
    if prevalence is None:
        return dict(DEFAULT_PREVALENCE)
    if not isinstance(prevalence, Mapping):
        raise TypeError(f"prevalence must be a dict finding -> probability, got {type(prevalence).__name__}")
    result = dict(DEFAULT_PREVALENCE)
    for name, value in prevalence.items():
        title = PATHOLOGIES[_code(name, "prevalence")]
        if title == PATHOLOGIES[NO_FINDING]:
            raise ValueError("prevalence cannot set 'No Finding'; it follows from the other findings")
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"prevalence[{name!r}] is {value}, expected a probability in [0, 1]")
        result[title] = float(value)
    return result


MAX_IMAGE_SIZE = 2048
"""Largest `image_size`: 380 mm / 2048 px = 0.19 mm pixels, a flat-panel detector's pitch (0.14-0.2 mm); finer
pixels would show no more anatomy, and one 8192 px image took 114 s and 6 GB."""

MEMORY_WARNING_GIB = 4.0
"""`generate` warns when the arrays it returns would take more than this many GiB."""


def _resolve_findings(findings, num_images: int) -> list[frozenset[str]] | None:
    """The forced findings of each image as sets of titles, or None when they are to be drawn."""
    if findings is None:
        return None
    if isinstance(findings, str):
        findings = [findings]
    collections = list | tuple | set | frozenset
    if not isinstance(findings, collections):
        raise TypeError(f"findings must be a list of finding titles (or one list per image), got {findings!r}")
    findings = list(findings)
    per_image = bool(findings) and not isinstance(findings[0], str)
    for row in findings if per_image else [findings]:
        items = [row] if isinstance(row, str) else row
        bad = [item for item in items if not isinstance(item, str)] if isinstance(items, collections) else [row]
        if bad:
            code = bad[0]
            hint = (
                f" (code {code} is {PATHOLOGIES[code]!r})"
                if isinstance(code, int) and 0 <= code < NUM_PATHOLOGIES
                else ""
            )
            raise TypeError(
                "findings must hold finding titles such as 'Mass' (lecture_lib.labels.PATHOLOGIES): one list for "
                f"every image or one list per image; got {code!r} in {findings!r}{hint}"
            )
    if per_image and len(findings) != num_images:
        raise ValueError(
            f"findings has {len(findings)} lists but num_images is {num_images}; pass one list per image "
            "or a single list of titles for all images"
        )
    rows = findings if per_image else [findings] * num_images
    resolved = []
    for row in rows:
        if isinstance(row, str):
            row = [row]
        titles = {PATHOLOGIES[_code(name, "findings")] for name in row} - {PATHOLOGIES[NO_FINDING]}
        resolved.append(frozenset(titles))
    return resolved


def generate(
    num_images: int,
    image_size: int = 128,
    seed: int = 0,
    studies_per_patient: int | tuple[int, int] = (1, 4),
    prevalence: Mapping[str, float] | None = None,
    findings=None,
    mask_names: Sequence[str] = MASK_NAMES,
    bone_free: bool = True,
    acquisition: str = "varied",
) -> CXRSet:
    """Render synthetic PA chest radiographs with complete ground truth.

    Args:
        num_images: how many images, at least 1.
        image_size: side in pixels, 32 to `MAX_IMAGE_SIZE`; the field of view stays `FIELD_OF_VIEW_MM`, so the pixel spacing
            is `FIELD_OF_VIEW_MM / image_size` mm and the same seed gives the same anatomy at every size.
        seed: a non-negative integer; image `i` and patient `j` draw from streams spawned from `(seed, i)` and
            `(seed, j)`, so the first images of a larger set equal a smaller set with the same seed.
        studies_per_patient: studies (follow-up images) per patient: an int, or an inclusive range `(low, high)`
            drawn per patient. Studies of a patient share the anatomy; their findings may differ.
        prevalence: finding title -> probability per image, overriding `DEFAULT_PREVALENCE` for those titles
            (`NIH_PREVALENCE` gives NIH's rates). Chronic findings (`CHRONIC_FINDINGS`) are drawn per patient.
        findings: force the findings instead of drawing them: one list of titles for every image (e.g.
            `["Cardiomegaly"]`; `[]` or `["No Finding"]` for a healthy chest) or one list per image.
        mask_names: which of `MASK_NAMES` to return, in that order (fewer channels save memory); one name alone is
            one channel.
        bone_free: if True, add `targets["bone_free"]`.
        acquisition: one of `ACQUISITIONS`: `"varied"` films (framing, projection, processing, devices drawn per
            study) or the fixed `"standard"` PA set-up.

    Returns:
        A `CXRSet` with `source="phantom"`: images `(N, H, W, 1)`; labels `(N, 15)`; masks `(N, H, W, M)`;
        boxes `(N, B, 4)` xyxy pixels around each nodule, mass, pneumonia and consolidation (class = slide code);
        landmarks `(N, 11, 2)` named by `LANDMARK_NAMES`; targets `bone_free` `(N, H, W, 1)` (same patient, findings,
        exposure and noise, without ribs and clavicles) and `cardiothoracic_ratio` `(N,)`; patient ids such as
        `"phantom-0-000012"`; views `"PA"` or `"AP"`; pixel spacing `(N, 2)` mm.

    Raises:
        TypeError: for an argument of the wrong kind (a float count, an integer finding code, ...).
        ValueError: for a bad count, size (32 to `MAX_IMAGE_SIZE`), seed, prevalence, finding title, mask name or
            acquisition.

    Warns:
        ResourceWarning: when the arrays returned would take more than `MEMORY_WARNING_GIB` GiB.
    """
    num_images = check_count(num_images, "num_images")
    image_size = check_number(
        image_size,
        "image_size",
        low=32,
        high=MAX_IMAGE_SIZE,
        integer=True,
        fix=f"the lecture uses 64, 128 or 256; beyond {MAX_IMAGE_SIZE} px the pixels are finer than a detector's",
    )
    seed = check_count(seed, "seed", minimum=0)
    bone_free = check_flag(bone_free, "bone_free")
    if isinstance(mask_names, str):
        mask_names = (mask_names,)
    low, high = (studies_per_patient, studies_per_patient) if np.isscalar(studies_per_patient) else studies_per_patient
    if not 1 <= int(low) <= int(high):
        raise ValueError(
            f"studies_per_patient must be >= 1 or a range (low, high) with 1 <= low <= high, got {studies_per_patient!r}"
        )
    unknown = [name for name in mask_names if name not in MASK_NAMES]
    if unknown:
        raise ValueError(f"unknown mask_names {unknown}; choose from {list(MASK_NAMES)}")
    mask_names = tuple(mask_names)
    if acquisition not in ACQUISITIONS:
        raise ValueError(f"acquisition must be one of {list(ACQUISITIONS)}, got {acquisition!r}")
    rates = _resolve_prevalence(prevalence)
    forced = _resolve_findings(findings, num_images)
    planes = 1 + bone_free + 0.25 * len(tuple(mask_names))  # float32 image (+ twin), uint8 masks
    size_gib = num_images * image_size * image_size * 4 * planes / 2**30
    if size_gib > MEMORY_WARNING_GIB:
        warnings.warn(
            f"generate({num_images}, image_size={image_size}) returns about {size_gib:.1f} GiB of arrays; "
            "ask for fewer images, fewer mask_names or bone_free=False, or render batches on the fly with "
            "lecture_lib.datasets.stream('phantom', ...)",
            ResourceWarning,
            stacklevel=2,
        )

    studies, patient_ids = [], []
    patient, remaining, patient_index, chronic = None, 0, -1, frozenset()
    for index in range(num_images):
        if remaining == 0:
            patient_index += 1
            patient_rng = np.random.default_rng(np.random.SeedSequence([seed, 0, patient_index]))
            patient = sample_patient(patient_rng)
            remaining = int(patient_rng.integers(int(low), int(high) + 1))
            chronic = frozenset(name for name in sorted(CHRONIC_FINDINGS) if patient_rng.uniform() < rates[name])
        remaining -= 1
        rng = np.random.default_rng(np.random.SeedSequence([seed, 1, index]))
        draws = rng.uniform(size=len(FINDINGS))
        if forced is None:
            acute = {
                name
                for name, draw in zip(FINDINGS, draws, strict=True)
                if name not in CHRONIC_FINDINGS and draw < rates[name]
            }
            titles = frozenset(acute) | chronic
        else:
            titles = forced[index]
        acquisition_rng = (
            np.random.default_rng(np.random.SeedSequence([seed, 3, index])) if acquisition == "varied" else None
        )
        studies.append(sample_study(rng, patient, titles, forced is not None, acquisition_rng))
        patient_ids.append(f"phantom-{seed}-{patient_index:06d}")

    channel = {name: i for i, name in enumerate(mask_names)}
    images = np.empty((num_images, image_size, image_size, 1), dtype=np.float32)
    twins = np.empty_like(images) if bone_free else None
    masks = np.zeros((num_images, image_size, image_size, len(mask_names)), dtype=np.uint8)
    landmarks = np.empty((num_images, len(LANDMARK_NAMES), 2), dtype=np.float32)
    spacings = np.empty((num_images, 2), dtype=np.float32)
    all_boxes, labels = [], np.zeros((num_images, NUM_PATHOLOGIES), dtype=np.float32)
    # One BLAS thread for the renderer's small matrix products (`acquisition.low_pass`): a threaded BLAS spends
    # more time waking its threads than multiplying 128 x 128 matrices, and far more on a busy machine (measured:
    # 5x the CPU time per image at 256 px while other processes ran).
    with _blas_controller().limit(limits=1, user_api="blas"):
        for index, study in enumerate(studies):
            noise_seed = np.random.SeedSequence([seed, 2, index])
            twin = twins[index, ..., 0] if bone_free else None
            frame = Frame(study.acquisition, image_size)
            landmarks[index] = landmark_pixels(study.patient, frame)
            spacings[index] = (frame.spacing_y, frame.spacing_x)
            boxes = render_image(
                study, frame, landmarks[index], noise_seed, channel, images[index, ..., 0], twin, masks[index]
            )
            all_boxes.append([(*box[:4], code_of(box[4])) for box in boxes])
            titles = {t for t in study.titles if t not in BOX_FINDINGS} | {box[4] for box in boxes}
            titles.discard("Cardiomegaly")
            labels[index, [code_of(t) for t in titles]] = 1.0

    ratio = np.asarray(cardiothoracic_ratio(landmarks, LANDMARK_NAMES), dtype=np.float32)
    labels[:, code_of("Cardiomegaly")] = [study.cardiomegaly for study in studies]
    labels[:, NO_FINDING] = labels.sum(axis=1) == 0
    width = max(1, max(len(b) for b in all_boxes))
    boxes = np.full((num_images, width, 4), PAD, dtype=np.float32)
    classes = np.full((num_images, width), PAD, dtype=np.int32)
    for i, image_boxes in enumerate(all_boxes):
        for j, (x1, y1, x2, y2, code) in enumerate(image_boxes):
            boxes[i, j] = (x1, y1, x2, y2)
            classes[i, j] = code
    targets = {
        "cardiothoracic_ratio": ratio,
        "reader_ctr": np.array([study.reader_ctr for study in studies], dtype=np.float32),
    }
    if bone_free:
        targets["bone_free"] = twins
    return CXRSet(
        images=images,
        labels=labels,
        masks=masks if mask_names else None,
        mask_names=mask_names,
        boxes=boxes,
        box_classes=classes,
        landmarks=landmarks,
        landmark_names=LANDMARK_NAMES,
        targets=targets,
        patient_ids=np.array(patient_ids, dtype=object),
        views=np.array([study.acquisition.projection for study in studies], dtype=object),
        pixel_spacing_mm=spacings,
        source="phantom",
    )
