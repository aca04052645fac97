"""The acquisition: how a film was taken and processed, and the detector physics that turn `P` into an image.

An `Acquisition` holds the framing (field, centre, rotation, shift), the projection (PA or AP), the exposure and
the detector processing (film curve or auto window, gamma, detail enhancement, scatter, blur, photons), the pose of
the arms, collimation, burned-in markers and support devices. `sample_acquisition` draws one per study from its own
random stream, so the same seed gives the same anatomy and findings with either acquisition, and forced findings
do not change the acquisition; `STANDARD_ACQUISITION` is the fixed PA set-up. `Frame` is an image's pixel grid in
anatomical mm; the other functions are the steps from projection to film, in the order `render_image` applies them.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

import numpy as np

from lecture_lib.datasets.phantom.anatomy import FIELD_OF_VIEW_MM, Patient
from lecture_lib.datasets.phantom.geometry import chord, clip, segment_distance

ACQUISITIONS = ("varied", "standard")
"""`generate(acquisition=...)`: `"varied"` draws framing, projection, exposure, detector processing, collimation,
text markers and support devices per study, as real films vary; `"standard"` is one fixed PA set-up (a centred
380 mm field, one film curve, nothing on the film), for experiments that must isolate the anatomy."""

MU_METAL = 0.35
"""Metal of electrodes, wires and a pacemaker can, per mm (far denser than bone)."""

MARKER_TEXTS = ("R", "L", "PA", "AP", "ERECT", "PORTABLE", "SUPINE", "INSP")
"""Burned-in text markers drawn on varied films."""


class Frame:
    """The pixel grid of one image in anatomical mm, and the pixel windows that hold anatomical rectangles.

    The detector field is `field_width` by `field_height` mm (columns, rows), centred on the anatomical point
    `(center_u, center_v)`, turned by the study's rotation and shifted by `(shift_x, shift_y)` mm; pixels may be
    wider than tall (`spacing_x` and `spacing_y` differ), as when a 35 x 43 cm film is stored in a square image.
    """

    def __init__(self, acquisition: Acquisition, image_size: int):
        self.size = image_size
        self.half_x, self.half_y = 0.5 * acquisition.field_width, 0.5 * acquisition.field_height
        self.spacing_x = acquisition.field_width / image_size
        self.spacing_y = acquisition.field_height / image_size
        self.spacing = math.sqrt(self.spacing_x * self.spacing_y)
        self.u0, self.v0 = acquisition.center_u, acquisition.center_v
        self.cos, self.sin = math.cos(acquisition.rotation), math.sin(acquisition.rotation)
        self.shift = (acquisition.shift_x, acquisition.shift_y)
        index = np.arange(image_size, dtype=np.float32) + 0.5
        a = index * np.float32(self.spacing_x) - np.float32(self.half_x + self.shift[0])
        b = index * np.float32(self.spacing_y) - np.float32(self.half_y + self.shift[1])
        self.u = (self.u0 + self.cos * a)[None, :] - (self.sin * b)[:, None]
        self.v = (self.v0 + self.sin * a)[None, :] + (self.cos * b)[:, None]

    def to_pixels(self, u, v):
        """Pixel coordinates `(x, y)` (pixel centres at `k + 0.5`) of anatomical points `(u, v)` mm."""
        du, dv = np.asarray(u) - self.u0, np.asarray(v) - self.v0
        x = (self.half_x + self.shift[0] + self.cos * du + self.sin * dv) / self.spacing_x
        y = (self.half_y + self.shift[1] - self.sin * du + self.cos * dv) / self.spacing_y
        return x, y

    def window(self, u0, u1, v0, v1):
        """Row and column slices of the pixels whose centres may fall in `[u0, u1] x [v0, v1]` mm; None if none."""
        cos, sin = self.cos, self.sin
        du0, du1, dv0, dv1 = u0 - self.u0, u1 - self.u0, v0 - self.v0, v1 - self.v0
        # Pixel coordinates are a rotation of anatomical ones; cos > 0, so only the sine term needs both corners.
        col0 = (cos * du0 + min(sin * dv0, sin * dv1) + self.half_x + self.shift[0]) / self.spacing_x
        col1 = (cos * du1 + max(sin * dv0, sin * dv1) + self.half_x + self.shift[0]) / self.spacing_x
        row0 = (cos * dv0 - max(sin * du0, sin * du1) + self.half_y + self.shift[1]) / self.spacing_y
        row1 = (cos * dv1 - min(sin * du0, sin * du1) + self.half_y + self.shift[1]) / self.spacing_y
        r0, r1 = max(0, int(math.floor(row0)) - 1), min(self.size, int(math.ceil(row1)) + 1)
        c0, c1 = max(0, int(math.floor(col0)) - 1), min(self.size, int(math.ceil(col1)) + 1)
        if r0 >= r1 or c0 >= c1:
            return None
        return slice(r0, r1), slice(c0, c1)


# ---------------------------------------------------------------------------------------------------------------
# What is on the film besides the patient: collimation, markers and devices.


@dataclass(frozen=True)
class CollimatorBand:
    """A straight band covering one edge of the film, stopping short of the lungs.

    Attributes:
        edge: `"top"`, `"bottom"`, `"left"` or `"right"` of the image.
        depth: how far it reaches toward the lungs, as a fraction of the free margin.
        tilt: slope of its inner border.
        dark: dark (outside the scanned film, or cropped) or bright (unexposed film).
    """

    edge: str
    depth: float
    tilt: float
    dark: bool


@dataclass(frozen=True)
class Marker:
    """A burned-in text marker near a corner of the film.

    Attributes:
        text: one of `MARKER_TEXTS`.
        left, top: the corner.
        offset: distance from the corner `(x, y)`, as fractions of the image size.
        height: text height, as a fraction of the image size.
        boxed: drawn on a dark box.
    """

    text: str
    left: bool
    top: bool
    offset: tuple[float, float]
    height: float
    boxed: bool


def add_wire(frame: Frame, projection: np.ndarray, points, radius: float, mu: float) -> None:
    """Add a tube of `radius` mm along the polyline `points` `(K, 2)` mm, of attenuation `mu` per mm."""
    points = np.asarray(points, dtype=np.float64)
    # A wire thinner than a pixel still shows: its cross-section (mu * pi * radius**2 across the wire) is spread over
    # a tube at least half a pixel wide.
    width = max(radius, 0.5 * frame.spacing)
    reach = width + 1.0
    low, high = points.min(axis=0) - reach, points.max(axis=0) + reach
    win = frame.window(low[0], high[0], low[1], high[1])
    if win is None:
        return
    # The tube's thickness is the largest over its segments (the chord shrinks with the distance to the axis); each
    # segment is evaluated only in its own small window.
    thickness = np.zeros((win[0].stop - win[0].start, win[1].stop - win[1].start), dtype=np.float32)
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:], strict=True):
        part = frame.window(min(x0, x1) - reach, max(x0, x1) + reach, min(y0, y1) - reach, max(y0, y1) + reach)
        if part is None:
            continue
        rows = slice(part[0].start - win[0].start, part[0].stop - win[0].start)
        cols = slice(part[1].start - win[1].start, part[1].stop - win[1].start)
        chords = chord(width, segment_distance(frame.u[part], frame.v[part], x0, y0, x1, y1))
        np.maximum(thickness[rows, cols], chords, out=thickness[rows, cols])
    thickness *= mu * radius * radius / (width * width)
    projection[win] += thickness


def _curve(start, control, end, count: int = 8) -> np.ndarray:
    """Points of the quadratic Bezier curve from `start` to `end` pulled toward `control`, `(count, 2)`."""
    t = np.linspace(0.0, 1.0, count)[:, None]
    start, control, end = (np.asarray(x, dtype=np.float64) for x in (start, control, end))
    return (1 - t) ** 2 * start + 2 * (1 - t) * t * control + t * t * end


def _chest_reference(patient: Patient) -> tuple[float, float, float]:
    """`(midline, apex, half-width)` of the chest, which devices are placed relative to."""
    apex = 0.5 * (patient.right.apex + patient.left.apex)
    return patient.midline, apex, 0.5 * (patient.right.width + patient.left.width)


@dataclass(frozen=True)
class Electrode:
    """An ECG electrode on the chest and its lead running down off the film.

    Attributes:
        across: position from the midline, in thorax half-widths (negative: the patient's right).
        down: height below the apices, as a fraction of the apex-to-left-dome height.
        bend: how the lead bends, `(2,)`.
    """

    across: float
    down: float
    bend: np.ndarray

    def draw(self, frame: Frame, patient: Patient, projection: np.ndarray) -> None:
        """Add the electrode's metal ring and lead to `projection`."""
        cx, apex, width = _chest_reference(patient)
        eu, ev = cx + self.across * width, apex + 20.0 + self.down * (patient.left.dome - apex)
        win = frame.window(eu - 8.0, eu + 8.0, ev - 8.0, ev + 8.0)
        if win is not None:
            du, dv = frame.u[win] - eu, frame.v[win] - ev
            ring = chord(6.0, np.sqrt(du * du + dv * dv)) - 0.6 * chord(4.0, np.sqrt(du * du + dv * dv))
            projection[win] += (MU_METAL * 0.25) * ring
        lead_end = (eu + 60.0 * self.bend[0], FIELD_OF_VIEW_MM + 60.0)
        add_wire(frame, projection, _curve((eu, ev), (eu + 50.0 * self.bend[1], ev + 80.0), lead_end), 0.6, MU_METAL)


@dataclass(frozen=True)
class CentralLine:
    """A central venous line from a subclavian vein to the superior vena cava.

    Attributes:
        left: entered on the patient's left.
        jitter: random offsets of entry and tip, `(3,)` in [-1, 1].
    """

    left: bool
    jitter: np.ndarray

    def draw(self, frame: Frame, patient: Patient, projection: np.ndarray) -> None:
        """Add the line (a faint plastic tube) to `projection`."""
        cx, apex, width = _chest_reference(patient)
        sign = 1.0 if self.left else -1.0
        entry = (cx + sign * (width * 0.55 + 15.0 * self.jitter[0]), apex - 30.0)
        tip = (cx - 8.0 + 6.0 * self.jitter[1], patient.carina + 30.0 + 10.0 * self.jitter[2])
        bend = (cx + sign * 20.0, patient.carina - 40.0)
        add_wire(frame, projection, _curve(entry, bend, tip), 1.2, MU_METAL * 0.12)


@dataclass(frozen=True)
class Pacemaker:
    """A pacemaker can under a clavicle and its lead into the right ventricle.

    Attributes:
        left: implanted on the patient's left.
        jitter: random offsets of the can, `(3,)` in [-1, 1].
    """

    left: bool
    jitter: np.ndarray

    def draw(self, frame: Frame, patient: Patient, projection: np.ndarray) -> None:
        """Add the can and the lead to `projection`."""
        cx, apex, width = _chest_reference(patient)
        heart = patient.heart
        sign = 1.0 if self.left else -1.0
        can_u, can_v = cx + sign * (0.6 * width + 12.0 * self.jitter[0]), apex + 30.0 + 10.0 * self.jitter[1]
        win = frame.window(can_u - 26.0, can_u + 26.0, can_v - 22.0, can_v + 22.0)
        if win is not None:
            du, dv = (frame.u[win] - can_u) * (1.0 / 24.0), (frame.v[win] - can_v) * (1.0 / 20.0)
            inside = clip((1.0 - np.maximum(np.abs(du), np.abs(dv)) ** 4) * 6.0, 0.0, 1.0)
            projection[win] += (MU_METAL * 4.0) * inside
        tip = (heart.center_x + 0.3 * heart.half_width, heart.center_y + 0.5 * heart.minor)
        add_wire(frame, projection, _curve((can_u, can_v), (cx - 10.0, patient.carina), tip), 1.0, MU_METAL)


Device = Electrode | CentralLine | Pacemaker


# ---------------------------------------------------------------------------------------------------------------
# The acquisition's parameters and how they are drawn.


@dataclass(frozen=True)
class Acquisition:
    """How one film was taken and processed; the defaults are the standard PA set-up.

    Attributes:
        projection: `"PA"` or `"AP"` (portable films, patient facing the tube).
        field_width, field_height: detector field in mm (columns, rows), stored in a square image.
        center_u, center_v: anatomical point at the centre of the field (mm).
        rotation: rotation of the patient in the field (radians).
        shift_x, shift_y: shift of the patient in the field (mm).
        window_center, window_width: the film curve `0.5 + 0.5 tanh((P - centre) / width)`, used when
            `auto_window` is None.
        auto_window: `(lung_grey, soft_grey)`: range the display on the image's own histogram so that the median
            lung and the dense soft tissue land on these greys (digital systems), or None for the fixed film curve.
        gamma: exponent applied after the film curve.
        detail: strength of the detail (unsharp-mask) enhancement, 0 for none.
        scatter: fraction of scattered radiation that the anti-scatter grid lets through, 0 for none.
        blur_mm: standard deviation of the detector's blur.
        photons: photons per mm^2 reaching the detector without attenuation (sets the quantum noise).
        heart_magnification: how much more an AP film magnifies the heart than the thorax (1 on PA films).
        arm_gap: distance of the arms from the chest wall (mm).
        arms_raised: arms raised out of the field, with the shoulder blades.
        collimation: bands covering the film's edges.
        markers: burned-in text markers.
        devices: support devices on or in the patient.
    """

    projection: str = "PA"
    field_width: float = FIELD_OF_VIEW_MM
    field_height: float = FIELD_OF_VIEW_MM
    center_u: float = FIELD_OF_VIEW_MM / 2
    center_v: float = FIELD_OF_VIEW_MM / 2
    rotation: float = 0.0
    shift_x: float = 0.0
    shift_y: float = 0.0
    window_center: float = 2.85
    window_width: float = 1.35
    auto_window: tuple[float, float] | None = None
    gamma: float = 1.0
    detail: float = 0.0
    scatter: float = 0.0
    blur_mm: float = 0.75
    photons: float = 2.0e4
    heart_magnification: float = 1.0
    arm_gap: float = 0.0
    arms_raised: bool = False
    collimation: tuple[CollimatorBand, ...] = ()
    markers: tuple[Marker, ...] = ()
    devices: tuple[Device, ...] = ()


STANDARD_ACQUISITION = Acquisition()
"""The standard PA set-up: a centred `FIELD_OF_VIEW_MM` field, the fixed film curve, nothing on the film. With
`acquisition="standard"` each study keeps it, with its own pose (rotation, shift), film curve and dose."""


def sample_acquisition(rng: np.random.Generator, patient: Patient, standard: Acquisition) -> Acquisition:
    """Draw one study's acquisition: framing, projection, exposure, processing, collimation, markers, devices.

    Args:
        rng: the study's acquisition stream. The draws happen in the order written: changing the order, or adding
            a draw, changes every varied film.
        patient: the anatomy as the study shows it; the framing keeps both apices and costophrenic angles.
        standard: the study's standard acquisition (its own pose, film curve and dose); rotation and dose are
            varied further.

    Returns:
        The acquisition; `shift_x`, `shift_y`, `window_center` and `window_width` stay those of `standard`.
    """
    right, left = patient.right, patient.left
    portable = rng.uniform() < 0.2
    projection = "AP" if portable else "PA"
    # Framing: a 35 x 43 cm detector (or a crop of it) stored as a square image, so pixels may be wider than tall;
    # the patient is off-centre by a few centimetres, more on portable films.
    field_width = rng.uniform(330.0, 430.0)
    field_height = field_width * rng.uniform(0.8, 1.23)  # 35/43 to 43/35
    spread = 2.0 if portable else 1.0
    center_u = patient.midline + rng.normal(0.0, 10.0 * spread)
    # Protocols put the upper edge a few centimetres above the shoulders: the lungs sit in the upper part of the film.
    center_v = 0.5 * (right.apex + left.dome + left.costophrenic) + rng.normal(22.0, 14.0 * spread)
    # Both apices and both costophrenic angles stay on the film (a film that cuts them off is repeated).
    highest = min(right.apex, left.apex) - 0.03 * field_height + 0.5 * field_height
    lowest = (
        max(right.dome + right.costophrenic, left.dome + left.costophrenic) + 0.03 * field_height - 0.5 * field_height
    )
    center_v = min(max(center_v, lowest), max(highest, lowest))
    rotation = standard.rotation + math.radians(rng.normal(0.0, 2.5 * spread))
    # Exposure and detector processing. Digital systems range the display on the image's own histogram, so lungs
    # and mediastinum land on similar greys whatever the dose: `auto_window` puts the median lung at `lung_grey` and
    # the dense soft tissue at `soft_grey`. Then a gamma, a detail (unsharp-mask) enhancement, the detector's blur
    # and the dose.
    window_greys = (rng.uniform(0.2, 0.42), rng.uniform(0.82, 0.97))
    gamma = math.exp(rng.uniform(-0.25, 0.25))
    detail = rng.uniform(0.0, 1.0) if rng.uniform() < 0.7 else 0.0
    scatter = rng.uniform(0.03, 0.3)
    blur_mm = rng.uniform(0.5, 1.8)
    photons = standard.photons * math.exp(rng.uniform(-1.2, 0.4))
    # Habitus of the moment: arms away from the chest wall (dark air between them) or raised out of the field.
    arm_gap = rng.uniform(0.0, 45.0) if rng.uniform() < 0.6 else 0.0
    arms_raised = rng.uniform() < 0.12
    # Collimation: up to four edges covered by a straight, slightly tilted band; a band stops short of the lungs.
    collimation = []
    for edge in ("top", "bottom", "left", "right"):
        if rng.uniform() < (0.3 if edge == "bottom" else 0.2):
            collimation.append(
                CollimatorBand(
                    edge=edge, depth=rng.uniform(0.1, 1.0), tilt=rng.normal(0.0, 0.03), dark=rng.uniform() < 0.85
                )
            )
    # Burned-in text markers near the corners: a side letter and a label box.
    markers = []
    for _ in range(int(rng.integers(0, 3))):
        markers.append(
            Marker(
                text=MARKER_TEXTS[int(rng.integers(len(MARKER_TEXTS)))],
                left=rng.uniform() < 0.5,
                top=rng.uniform() < 0.8,
                offset=tuple(rng.uniform(0.02, 0.12, 2).tolist()),
                height=rng.uniform(0.02, 0.045),
                boxed=rng.uniform() < 0.5,
            )
        )
    # Support devices: ECG electrodes and leads, a central venous line, a pacemaker.
    devices = []
    if rng.uniform() < (0.5 if portable else 0.12):
        for _ in range(int(rng.integers(2, 6))):
            devices.append(
                Electrode(across=rng.uniform(-1.1, 1.1), down=rng.uniform(-0.2, 1.1), bend=rng.normal(0.0, 1.0, 2))
            )
    if rng.uniform() < (0.3 if portable else 0.05):
        devices.append(CentralLine(left=rng.uniform() < 0.5, jitter=rng.uniform(-1.0, 1.0, 3)))
    if rng.uniform() < 0.04:
        devices.append(Pacemaker(left=rng.uniform() < 0.8, jitter=rng.uniform(-1.0, 1.0, 3)))
    # The heart lies anterior, far from a detector behind the patient: an AP film magnifies it about 10-20 % more
    # than the thorax.
    heart_magnification = rng.uniform(1.08, 1.2) if portable else 1.0
    return replace(
        standard,
        projection=projection,
        field_width=field_width,
        field_height=field_height,
        center_u=center_u,
        center_v=center_v,
        rotation=rotation,
        auto_window=window_greys,
        gamma=gamma,
        detail=detail,
        scatter=scatter,
        blur_mm=blur_mm,
        photons=photons,
        heart_magnification=heart_magnification,
        arm_gap=arm_gap,
        arms_raised=arms_raised,
        collimation=tuple(collimation),
        markers=tuple(markers),
        devices=tuple(devices),
    )


def project_patient(patient: Patient, acquisition: Acquisition) -> Patient:
    """The patient as the film's projection shows them: an AP film magnifies the heart (its measured ratio
    overstates the PA one) and projects the clavicles higher over the apices."""
    if acquisition.projection != "AP":
        return patient
    return replace(
        patient,
        cardiothoracic_ratio=patient.cardiothoracic_ratio * acquisition.heart_magnification,
        clavicle_medial=patient.clavicle_medial - 12.0,
        clavicle_lateral=patient.clavicle_lateral - 14.0,
    )


# ---------------------------------------------------------------------------------------------------------------
# From projection to film: noise, blur, scatter, detail enhancement, film curve, collimation and markers.


def quantum_noise(seed_sequence: np.random.SeedSequence, size: int) -> np.ndarray:
    """`(size, size)` float32 noise of mean 0 and variance 1: the sum of four uniform random bytes, standardized.

    This Irwin-Hall sum (kurtosis 2.7 where a Gaussian has 3) is twice as fast as numpy's Gaussian sampler, and
    photon counts are not exactly Gaussian either; the mean of four uniform integers 0..255 is 510 and the
    variance 4 * (256**2 - 1) / 12 = 21845.
    """
    count = 4 * size * size
    raw = np.random.SFC64(seed_sequence).random_raw((count + 7) // 8).view(np.uint8)[:count]  # raw 64-bit words
    total = raw.reshape(4, size * size).sum(axis=0, dtype=np.uint16).astype(np.float32)
    total -= 510.0
    total *= np.float32(1.0 / math.sqrt(21845.0))
    return total.reshape(size, size)


def blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of a `(H, W)` image, edges replicated; `sigma` in pixels, taps cut at 1/1000."""
    radius = int(sigma * math.sqrt(2.0 * math.log(1000.0)))
    if radius == 0:
        return image
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    for axis in (1, 0):
        source = image if axis == 1 else image.T
        out = source * np.float32(taps[radius])
        for k in range(1, radius + 1):
            weight = np.float32(taps[radius + k])
            out[:, k:] += weight * source[:, :-k]
            out[:, :k] += weight * source[:, :1]
            out[:, :-k] += weight * source[:, k:]
            out[:, -k:] += weight * source[:, -1:]
        image = out if axis == 1 else out.T
    return image


@functools.lru_cache(maxsize=32)
def _box_twice_matrix(size: int, radius: int) -> np.ndarray:
    """The `(size, size)` matrix of a mean over `2 radius + 1` pixels, applied twice, edges replicated (read-only)."""
    rows = np.repeat(np.arange(size), 2 * radius + 1)
    cols = np.clip(rows + np.tile(np.arange(-radius, radius + 1), size), 0, size - 1)
    box = np.zeros((size, size))
    np.add.at(box, (rows, cols), 1.0 / (2 * radius + 1))
    matrix = (box @ box).astype(np.float32)
    matrix.flags.writeable = False
    return matrix


def low_pass(image: np.ndarray, radius: int) -> np.ndarray:
    """A square `(H, H)` image smoothed by a `(2 radius + 1)`-pixel box mean applied twice, edges replicated.

    Equal to `scipy.ndimage.uniform_filter` (mode "nearest") applied twice, computed as `M @ image @ M.T` with the
    separable filter as a cached matrix `M`: two small matrix products cost a third of the four filter passes.
    """
    if radius < 1:
        return image
    matrix = _box_twice_matrix(image.shape[0], radius)
    return matrix @ image @ matrix.T


def add_scatter(image: np.ndarray, twin: np.ndarray, fraction: float, radius: int) -> None:
    """Add scattered radiation to both log images in place: `P <- -log(exp(-P) + fraction * S)`.

    Scatter `S` is the primary intensity `exp(-P)` of the image spread over a few centimetres (`low_pass`).
    Where the body is thick the primary is weak and scatter dominates, so bone contrast fades behind the heart and
    the abdomen (real films, without the contrast a flat window would give there); `fraction` is what the anti-scatter
    grid lets through. The twin gets the image's scatter, so the image stays at least as dense as its twin.
    """
    primary = np.exp(-image)
    spread = low_pass(primary, radius)
    spread *= np.float32(fraction)
    for target, source in ((image, primary), (twin, None)):
        intensity = source if source is not None else np.exp(-target)
        intensity += spread
        np.log(intensity, out=intensity)
        np.negative(intensity, out=target)


def detail_enhance(projection: np.ndarray, low_pass: np.ndarray, strength: float) -> None:
    """Unsharp mask in place: `P + strength (P - low_pass)`, the large-scale contrast flattened, details raised."""
    projection += np.float32(strength) * (projection - low_pass)


def auto_window(projection: np.ndarray, lung_ramp: np.ndarray, greys: tuple[float, float]) -> tuple[float, float]:
    """The film curve's `(centre, width)` that map the median lung and the dense soft tissue to `greys`.

    The lung value is the median projection where the lung is deep (`lung_ramp > 0.5`), the soft-tissue value the
    98th percentile of the image, both read on a grid of about 64 x 64 pixels (as a detector's ranging reads a
    coarse histogram, at the same cost at every image size); `0.5 + 0.5 tanh((P - centre) / width)` then passes
    through both points.
    """
    step = max(1, projection.shape[0] // 64)
    sample = projection[::step, ::step].ravel()
    deep = sample[lung_ramp[::step, ::step].ravel() > 0.5]
    if deep.size == 0:
        deep = sample
    lung = float(np.partition(deep, deep.size // 2)[deep.size // 2])
    rank = int(0.98 * (sample.size - 1))
    soft = float(np.partition(sample, rank)[rank])
    low, high = (math.atanh(2.0 * g - 1.0) for g in greys)
    width = max(soft - lung, 0.3) / (high - low)
    return lung - low * width, width


def film(projection: np.ndarray, center: float, width: float, gamma: float, out: np.ndarray) -> None:
    """Write the film curve `(0.5 + 0.5 tanh((P - center) / width)) ** gamma` of `projection` into `out`."""
    np.subtract(projection, np.float32(center), out=out)
    out *= np.float32(1.0 / width)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    if gamma != 1.0:
        np.power(out, np.float32(gamma), out=out)


def collimate(image: np.ndarray, bands: tuple[CollimatorBand, ...], frame: Frame, landmarks: np.ndarray) -> None:
    """Cover the collimated edges of `image` `(H, W)` with dark or bright bands that stop short of the lungs.

    The lungs' extent comes from the image's `landmarks` `(11, 2)` pixels (apices, thorax and costophrenic points).
    """
    size = image.shape[0]
    top = float(np.min(landmarks[1:3, 1])) - 6.0 / frame.spacing_y
    bottom = float(np.max(landmarks[7:9, 1])) + 10.0 / frame.spacing_y
    right = float(landmarks[3, 0]) - 10.0 / frame.spacing_x
    left = float(landmarks[4, 0]) + 10.0 / frame.spacing_x
    index = np.arange(size, dtype=np.float32) + 0.5
    for band in bands:
        if band.edge == "top":
            limit, along, across = top, index[None, :], index[:, None]
        elif band.edge == "bottom":
            limit, along, across = size - bottom, index[None, :], size - index[:, None]
        elif band.edge == "left":
            limit, along, across = right, index[:, None], index[None, :]
        else:
            limit, along, across = size - left, index[:, None], size - index[None, :]
        if limit <= 1.0:
            continue
        reach = band.depth * limit + band.tilt * (along - 0.5 * size)
        np.copyto(image, np.float32(0.02 if band.dark else 0.97), where=across < np.minimum(reach, limit))


@functools.lru_cache(maxsize=512)
def _glyph(text: str, pixels: int) -> np.ndarray:
    """The text rendered bright on black, `pixels` high, as a read-only float32 array (cached: fonts load slowly)."""
    from PIL import Image, ImageDraw, ImageFont

    try:
        font = ImageFont.load_default(size=pixels)
    except TypeError:  # Pillow < 10.1 has one bitmap font size
        font = ImageFont.load_default()
    x0, y0, x1, y1 = font.getbbox(text)
    canvas = Image.new("L", (x1 - x0 + 4, y1 - y0 + 4), 0)
    ImageDraw.Draw(canvas).text((2 - x0, 2 - y0), text, fill=255, font=font)
    glyph = np.asarray(canvas, dtype=np.float32) * np.float32(1.0 / 255.0)
    glyph.flags.writeable = False
    return glyph


def draw_markers(image: np.ndarray, markers: tuple[Marker, ...], landmarks: np.ndarray) -> None:
    """Burn text `markers` into `image` `(H, W)`: bright letters, some on a dark box, never on the lungs.

    Radiographers put the markers in a corner of the field, off the lungs; a marker that would touch the lungs'
    bounding box (from the `landmarks` `(11, 2)` pixels, 2 pixels added) is left out.
    """
    size = image.shape[0]
    lung_x0, lung_x1 = landmarks[3, 0] - 2.0, landmarks[4, 0] + 2.0
    lung_y0, lung_y1 = np.min(landmarks[1:3, 1]) - 2.0, np.max(landmarks[7:9, 1]) + 2.0
    for marker in markers:
        glyph = _glyph(marker.text, max(6, int(round(marker.height * size))))
        gh, gw = glyph.shape
        dx, dy = marker.offset
        col = int(dx * size) if marker.left else size - gw - int(dx * size)
        row = int(dy * size) if marker.top else size - gh - int(dy * size)
        r0, c0 = max(row, 0), max(col, 0)
        r1, c1 = min(row + gh, size), min(col + gw, size)
        if r0 >= r1 or c0 >= c1 or (c0 < lung_x1 and c1 > lung_x0 and r0 < lung_y1 and r1 > lung_y0):
            continue
        patch = glyph[r0 - row : r1 - row, c0 - col : c1 - col]
        target = image[r0:r1, c0:c1]
        if marker.boxed:
            target *= 0.25
        np.maximum(target, 0.95 * patch, out=target)
