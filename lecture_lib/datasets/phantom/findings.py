"""The findings: one table, `FINDING_TABLE`, from each finding's title to how it is drawn and how it shows.

Each finding follows MONAI's split of a random transform into `randomize()` and `__call__`. `sample(rng, study)`
makes every random draw of the finding and returns a small frozen spec; `apply(study, spec)` (for findings that
change the chest: a larger heart, moved domes, pleural fluid or air) and `render(scene, patient, spec)` (for findings
drawn on the film) are deterministic. Adding a finding is one entry in the table, its spec and functions beside it.

`sample_study` draws one `Study`: its pose and exposure, then the findings in three stages (`Stage`) around the
reader's measurement of the heart and the acquisition. Findings are drawn in table order, so the table's order is
part of the random stream: moving an entry, or adding a draw, changes the phantoms of every seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

import numpy as np

from lecture_lib.datasets.phantom.acquisition import (
    STANDARD_ACQUISITION,
    Acquisition,
    project_patient,
    sample_acquisition,
)
from lecture_lib.datasets.phantom.anatomy import LEFT, MU_LUNG, MU_SOFT, RIGHT, Patient, Scene, sample_point_in_lung
from lecture_lib.datasets.phantom.geometry import chord, clip
from lecture_lib.labels import FINDINGS

Region = tuple[tuple[slice, slice], np.ndarray]
"""A lesion's pixel window `(rows, columns)` and its own boolean mask over that window."""


@dataclass(frozen=True)
class Study:
    """One image's parameters, all drawn before any pixel exists.

    Attributes:
        patient: the anatomy as this study shows it, findings and projection applied.
        titles: the findings present.
        forced: the caller chose the findings (`generate(findings=...)`), so they also set the Cardiomegaly label.
        acquisition: how the film is taken and processed.
        reader_ctr: the cardiothoracic ratio a reader measures: the PA-equivalent ratio plus a reading error.
        findings: `(title, spec)` of each finding present, in `FINDING_TABLE` order.
    """

    patient: Patient
    titles: frozenset[str]
    forced: bool
    acquisition: Acquisition
    reader_ctr: float = math.nan
    findings: tuple[tuple[str, Any], ...] = ()

    @property
    def cardiomegaly(self) -> bool:
        """The Cardiomegaly label: the reader's ratio above 0.5, or the forced answer."""
        return ("Cardiomegaly" in self.titles) if self.forced else self.reader_ctr > 0.5


class Stage(Enum):
    """When a finding is drawn in a study, which sets what its draws may depend on."""

    HEART = "heart"
    """The heart's size, before the reader measures it."""
    CHEST = "chest"
    """Changes to the chest, before the film is framed on it."""
    LESION = "lesion"
    """Lesions placed in the lungs as the film shows them (after an AP film's magnification)."""


@dataclass(frozen=True)
class Finding:
    """How one finding is drawn (`sample`, random), changes the chest (`apply`) and shows on the film (`render`).

    Attributes:
        stage: when in a study it is drawn.
        sample: `sample(rng, study) -> spec`: every random draw of the finding, given the study drawn so far.
        apply: `apply(study, spec) -> study`: the finding's changes to the anatomy or the reading; None if none.
        render: `render(scene, patient, spec) -> regions`: adds the finding to `scene.projection` and returns a
            `Region` for each lesion that gets a box; None for findings that the anatomy alone shows.
        boxed: the finding's lesions get boxes and a mask channel (`BOX_FINDINGS`).
        chronic: drawn once per patient and kept in all of the patient's studies (`CHRONIC_FINDINGS`).
        prevalence: default probability per image (`DEFAULT_PREVALENCE`).
        nih_prevalence: per-image rate in NIH ChestX-ray14 (`NIH_PREVALENCE`).
    """

    stage: Stage
    sample: Callable[[np.random.Generator, Study], Any]
    prevalence: float
    nih_prevalence: float
    apply: Callable[[Study, Any], Study] | None = None
    render: Callable[[Scene, Patient, Any], tuple[Region, ...]] | None = None
    boxed: bool = False
    chronic: bool = False


def _airspace(opacity, body, lung_ramp, patient: Patient, strength: float):
    """Projection added when a fraction `opacity` of the aerated lung fills with fluid or cells."""
    return ((MU_SOFT - patient.lung_attenuation) * patient.lung_depth * strength) * body * lung_ramp * opacity


def _lung_windows(scene: Scene, patient: Patient):
    """For each drawn lung: its hemithorax, window, and there `u`, `v`, `q`, the lung ramp and the body thickness."""
    for hemithorax, win in scene.lungs:
        u, v = scene.frame.u[win], scene.frame.v[win]
        yield hemithorax, win, u, v, (u - patient.midline) * hemithorax.sign, scene.lung_ramp[win], scene.body[win]


# ---------------------------------------------------------------------------------------------------------------
# Findings that change the heart or the chest.


@dataclass(frozen=True)
class Cardiomegaly:
    """An enlarged heart.

    Attributes:
        cardiothoracic_ratio: the enlarged ratio, 0.50-0.66 (from 0.51 when forced, so the image agrees).
    """

    cardiothoracic_ratio: float


def _sample_cardiomegaly(rng: np.random.Generator, study: Study) -> Cardiomegaly:
    return Cardiomegaly(rng.uniform(0.51 if study.forced else 0.50, 0.66))


def _apply_cardiomegaly(study: Study, spec: Cardiomegaly) -> Study:
    return replace(study, patient=replace(study.patient, cardiothoracic_ratio=spec.cardiothoracic_ratio))


@dataclass(frozen=True)
class Emphysema:
    """Hyperinflated, hyperlucent lungs: low flat domes, shallow sulci, fewer vessels, a narrow heart.

    Attributes:
        dome_descent: how far the right dome moves down (mm).
        dome_gap: how far below it the left dome then lies (mm).
    """

    dome_descent: float
    dome_gap: float


def _sample_emphysema(rng: np.random.Generator, study: Study) -> Emphysema:
    return Emphysema(dome_descent=rng.uniform(18.0, 30.0), dome_gap=rng.uniform(5.0, 12.0))


def _apply_emphysema(study: Study, spec: Emphysema) -> Study:
    patient = study.patient
    right, left = patient.right, patient.left
    dome = right.dome + spec.dome_descent
    ratio = patient.cardiothoracic_ratio
    if "Cardiomegaly" not in study.titles:
        ratio = min(ratio, 0.44)
    patient = replace(
        patient,
        right=replace(right, dome=dome, costophrenic=right.costophrenic * 0.55),
        left=replace(left, dome=dome + spec.dome_gap, costophrenic=left.costophrenic * 0.55),
        lung_attenuation=MU_LUNG * 0.45,
        marking_strength=0.45,
        cardiothoracic_ratio=ratio,
    )
    # The long, narrow heart of hyperinflated lungs also reads small.
    return replace(study, patient=patient, reader_ctr=min(study.reader_ctr, ratio + 0.02))


@dataclass(frozen=True)
class Fibrosis:
    """Reticular (net-like) opacities, densest in the lower and lateral lungs, which shrink (domes 8 mm higher).

    Attributes:
        phase: of the net's waviness.
        period: mesh size (mm).
    """

    phase: float
    period: float


def _sample_fibrosis(rng: np.random.Generator, study: Study) -> Fibrosis:
    return Fibrosis(phase=rng.uniform(0, 2 * math.pi), period=rng.uniform(9, 12))


def _apply_fibrosis(study: Study, spec: Fibrosis) -> Study:
    patient = study.patient
    return replace(
        study,
        patient=replace(
            patient,
            right=replace(patient.right, dome=patient.right.dome - 8.0),
            left=replace(patient.left, dome=patient.left.dome - 8.0),
        ),
    )


def _render_fibrosis(scene: Scene, patient: Patient, spec: Fibrosis) -> tuple[Region, ...]:
    for hemithorax, win, u, v, q, ramp, thick in _lung_windows(scene, patient):
        p1, p2 = 0.8 * u + 0.6 * v, 0.8 * v - 0.6 * u
        period = spec.period
        net = np.abs(np.cos(np.pi * p1 / period + 0.9 * np.sin(p2 / 13.0 + spec.phase))) ** 8
        net += np.abs(np.cos(np.pi * p2 / period + 0.9 * np.sin(p1 / 17.0))) ** 8
        apex, dome = hemithorax.apex, hemithorax.dome
        zone = clip((v - apex - 0.4 * (dome - apex)) / 60.0, 0.0, 1.0) * clip(q / hemithorax.width, 0.3, 1.0)
        scene.projection[win] += (MU_SOFT * 15.0) * net * zone * ramp + _airspace(0.3 * zone, thick, ramp, patient, 1.0)
    return ()


@dataclass(frozen=True)
class Atelectasis:
    """Collapse of part of a lower lobe: a dense band with opacity below it, the dome raised, the mediastinum pulled.

    Attributes:
        side: `RIGHT` or `LEFT`.
        dome_rise: how far that side's dome rises (mm).
        shift: how far the mediastinum moves toward that side (mm).
        level: height of the band, as a fraction of the apex-to-dome height.
        tilt: slope of the band.
    """

    side: int
    dome_rise: float
    shift: float
    level: float
    tilt: float


def _sample_atelectasis(rng: np.random.Generator, study: Study) -> Atelectasis:
    return Atelectasis(
        side=int(rng.integers(2)),
        dome_rise=rng.uniform(16.0, 26.0),
        shift=rng.uniform(3.0, 7.0),
        level=rng.uniform(0.55, 0.75),
        tilt=rng.normal(0, 0.1),
    )


def _apply_atelectasis(study: Study, spec: Atelectasis) -> Study:
    hemithorax = study.patient.sides[spec.side]
    patient = study.patient.with_side(spec.side, dome=hemithorax.dome - spec.dome_rise)
    return replace(study, patient=replace(patient, midline=patient.midline + hemithorax.sign * spec.shift))


def _render_atelectasis(scene: Scene, patient: Patient, spec: Atelectasis) -> tuple[Region, ...]:
    for hemithorax, win, _, v, q, ramp, thick in _lung_windows(scene, patient):
        if hemithorax.side != spec.side:
            continue
        line = (
            hemithorax.apex
            + spec.level * (hemithorax.dome - hemithorax.apex)
            + spec.tilt * (q - 0.5 * hemithorax.width)
        )
        band = np.exp(-(((v - line) / 3.5) ** 2)) * clip((q - 0.3 * hemithorax.width) / 10.0, 0.0, 1.0)
        below = clip((v - line) / 15.0, 0.0, 1.0)
        scene.projection[win] += (MU_SOFT * 16.0) * band * ramp + _airspace(0.5 * below, thick, ramp, patient, 1.0)
    return ()


@dataclass(frozen=True)
class PleuralThickening:
    """Pleural thickening along one lateral chest wall, drawn by the lung margins.

    Attributes:
        side: `RIGHT` or `LEFT`.
        thickness: at its thickest (mm).
        level: where it is thickest, as a fraction of the apex-to-dome height.
    """

    side: int
    thickness: float
    level: float


def _sample_pleural_thickening(rng: np.random.Generator, study: Study) -> PleuralThickening:
    return PleuralThickening(side=int(rng.integers(2)), thickness=rng.uniform(7.0, 13.0), level=rng.uniform(0.35, 0.75))


def _apply_pleural_thickening(study: Study, spec: PleuralThickening) -> Study:
    patient = study.patient.with_side(spec.side, thickening=spec.thickness, thickening_level=spec.level)
    return replace(study, patient=patient)


@dataclass(frozen=True)
class Pneumothorax:
    """Air between the chest wall and one lung, which collapses away from the wall and the apex.

    Attributes:
        side: `RIGHT` or `LEFT`.
        depth: width of the pleural air at the lateral wall and the apex (mm), inside the wall's lining
            (`anatomy.PLEURA_MM`; the pneumothorax mask covers both).
    """

    side: int
    depth: float


def _sample_pneumothorax(rng: np.random.Generator, study: Study) -> Pneumothorax:
    return Pneumothorax(side=int(rng.integers(2)), depth=rng.uniform(14.0, 35.0))


def _apply_pneumothorax(study: Study, spec: Pneumothorax) -> Study:
    return replace(study, patient=study.patient.with_side(spec.side, pneumothorax=spec.depth))


@dataclass(frozen=True)
class Effusion:
    """Pleural fluid at the base of one side (three in four) or both, its upper border a meniscus.

    Attributes:
        depths: `(side, depth)` per side with fluid: the fluid's medial level lies `depth` mm above the
            costophrenic angle.
        meniscus: how much higher the fluid climbs at the lateral chest wall (mm).
    """

    depths: tuple[tuple[int, float], ...]
    meniscus: float


def _sample_effusion(rng: np.random.Generator, study: Study) -> Effusion:
    sides = [int(rng.integers(2))] if rng.uniform() < 0.75 else [RIGHT, LEFT]
    depths = tuple((side, rng.uniform(22.0, 55.0)) for side in sides)
    return Effusion(depths=depths, meniscus=rng.uniform(18.0, 30.0))


def _apply_effusion(study: Study, spec: Effusion) -> Study:
    patient = study.patient
    for side, depth in spec.depths:
        hemithorax = patient.sides[side]
        level = hemithorax.dome + hemithorax.costophrenic - depth
        patient = patient.with_side(side, fluid_level=level, meniscus=spec.meniscus)
    return replace(study, patient=patient)


# ---------------------------------------------------------------------------------------------------------------
# Diffuse opacities.


@dataclass(frozen=True)
class Edema:
    """Pulmonary edema: a perihilar haze (bat wings) and Kerley B lines at the lateral lung bases.

    Attributes:
        strength: how much of the perihilar airspace fills.
    """

    strength: float


def _sample_edema(rng: np.random.Generator, study: Study) -> Edema:
    return Edema(strength=rng.uniform(0.45, 0.7))


def _render_edema(scene: Scene, patient: Patient, spec: Edema) -> tuple[Region, ...]:
    hilum_v = patient.carina + 28.0
    for hemithorax, win, _, v, q, ramp, thick in _lung_windows(scene, patient):
        dq = q - hemithorax.hilum
        haze = spec.strength * np.exp((dq * dq + (v - hilum_v) ** 2) * (-0.5 / 48.0**2))
        kerley = np.cos(v * (np.pi / 5.0)) ** 16 * clip((q - hemithorax.width + 26.0) / 8.0, 0.0, 1.0)
        kerley *= clip((v - hemithorax.dome + 70.0) / 20.0, 0.0, 1.0)
        scene.projection[win] += _airspace(haze, thick, ramp, patient, 0.85) + (MU_SOFT * 22.0) * kerley * (ramp > 0)
    return ()


@dataclass(frozen=True)
class Infiltration:
    """Ill-defined patchy opacities scattered over both lungs.

    Attributes:
        across: `(K,)` position of each patch from the midline, in thorax half-widths (negative: the right lung).
        down: `(K,)` height of each patch, as a fraction of its lung's apex-to-dome height.
        sizes: `(K,)` standard deviation of each patch (mm).
    """

    across: np.ndarray
    down: np.ndarray
    sizes: np.ndarray


def _sample_infiltration(rng: np.random.Generator, study: Study) -> Infiltration:
    count = int(rng.integers(8, 16))
    across = rng.uniform(0.25, 0.95, count) * np.where(rng.uniform(size=count) < 0.5, -1, 1)
    return Infiltration(across=across, down=rng.uniform(0.25, 0.95, count), sizes=rng.uniform(7, 13, count))


def _render_infiltration(scene: Scene, patient: Patient, spec: Infiltration) -> tuple[Region, ...]:
    frame = scene.frame
    blobs = np.zeros_like(scene.body)
    for across, down, size in zip(spec.across.tolist(), spec.down.tolist(), spec.sizes.tolist(), strict=True):
        hemithorax = patient.sides[LEFT if across > 0 else RIGHT]
        cu = patient.midline + across * hemithorax.width
        cv = hemithorax.apex + down * (hemithorax.dome - hemithorax.apex)
        win = frame.window(cu - 3.5 * size, cu + 3.5 * size, cv - 3.5 * size, cv + 3.5 * size)
        if win is not None:
            du, dv = frame.u[win] - cu, frame.v[win] - cv
            blobs[win] += np.exp((du * du + dv * dv) * (-0.5 / (size * size)))
    projection = scene.projection
    projection += _airspace(np.minimum(blobs, 1.0), scene.body, scene.lung_ramp, patient, 0.35)
    return ()


@dataclass(frozen=True)
class Hernia:
    """A hiatal hernia: a gas-and-fluid filled ellipse behind the heart, above the left dome.

    Attributes:
        half_width, half_height: semi-axes of the ellipse (mm).
        level: how far its centre lies above the left dome, in half-heights (plus 8 mm).
    """

    half_width: float
    half_height: float
    level: float


def _sample_hernia(rng: np.random.Generator, study: Study) -> Hernia:
    return Hernia(half_width=rng.uniform(22, 32), half_height=rng.uniform(16, 24), level=rng.uniform(0.3, 0.5))


def _render_hernia(scene: Scene, patient: Patient, spec: Hernia) -> tuple[Region, ...]:
    frame = scene.frame
    rx, ry = spec.half_width, spec.half_height
    cu, cv = patient.midline + 14.0, patient.left.dome - spec.level * ry - 8.0
    win = frame.window(cu - rx, cu + rx, cv - ry, cv + ry)
    if win is not None:
        hu, hv = (frame.u[win] - cu) / rx, (frame.v[win] - cv) / ry
        inside = np.sqrt(np.maximum(1.0 - hu * hu - hv * hv, 0.0)) * (2.0 * ry)
        fluid = (hv > 0.15).astype(np.float32)  # gas above, fluid in the lower part
        scene.projection[win] += (MU_SOFT * (-0.75 + 1.2 * fluid)) * inside
    return ()


# ---------------------------------------------------------------------------------------------------------------
# Lesions with boxes: placed in the lungs as the film shows them.


@dataclass(frozen=True)
class RoundLesion:
    """A nodule or mass: a lobulated sphere of soft tissue.

    Attributes:
        center: `(u, v)` mm.
        radius: mean radius (mm).
        lobes: `(3,)` amplitudes of the 2-, 3- and 4-fold lobulation, as fractions of the radius.
        phases: `(3,)` their phases.
        density: attenuation over that of the lung it replaces, in soft-tissue units.
    """

    center: tuple[float, float]
    radius: float
    lobes: np.ndarray
    phases: np.ndarray
    density: float


def _sample_nodules(rng: np.random.Generator, study: Study) -> tuple[RoundLesion, ...]:
    """One nodule, sometimes two or three; one that does not fit in its lung is left out."""
    nodules = []
    for _ in range(1 + int(rng.uniform() < 0.3) + int(rng.uniform() < 0.1)):
        radius = rng.uniform(5.0, 14.0)
        center = sample_point_in_lung(rng, study.patient, int(rng.integers(2)), radius)
        if center is not None:
            lobes, phases = rng.uniform(0, 0.05, 3), rng.uniform(0, 6.3, 3)
            nodules.append(RoundLesion(center=center, radius=radius, lobes=lobes, phases=phases, density=1.6))
    return tuple(nodules)


def _sample_mass(rng: np.random.Generator, study: Study) -> tuple[RoundLesion, ...]:
    """One mass, 16 mm when the drawn size does not fit in its lung; none if that does not fit either."""
    for radius in (rng.uniform(16.0, 30.0), 16.0):
        center = sample_point_in_lung(rng, study.patient, int(rng.integers(2)), radius * 1.15)
        if center is not None:
            lobes, phases = rng.uniform(0.03, 0.12, 3), rng.uniform(0, 6.3, 3)
            return (RoundLesion(center=center, radius=radius, lobes=lobes, phases=phases, density=1.1),)
    return ()


def _render_round_lesions(scene: Scene, patient: Patient, lesions: tuple[RoundLesion, ...]) -> tuple[Region, ...]:
    frame = scene.frame
    regions = []
    for lesion in lesions:
        cu, cv = lesion.center
        reach = lesion.radius * (1.0 + float(np.sum(lesion.lobes))) + 2.0
        win = frame.window(cu - reach, cu + reach, cv - reach, cv + reach)
        if win is None:
            continue
        du, dv = frame.u[win] - cu, frame.v[win] - cv
        angle = np.arctan2(dv, du)
        radius = lesion.radius
        for k, (amplitude, phase) in enumerate(zip(lesion.lobes.tolist(), lesion.phases.tolist(), strict=True)):
            radius = radius + (lesion.radius * amplitude) * np.sin((k + 2) * angle + phase)
        distance = np.sqrt(du * du + dv * dv)
        scene.projection[win] += ((MU_SOFT - patient.lung_attenuation) * lesion.density) * chord(radius, distance)
        regions.append((win, distance < radius))
    return tuple(regions)


def _sample_airspace(rng: np.random.Generator, patient: Patient, draw_patch) -> tuple:
    """Place an airspace disease in one lung (four in five) or both, upper zone (about a third) or lower.

    `draw_patch(rng, center, side, upper)` draws the patch's own parameters; a side where no centre fits gets none.
    """
    patches = []
    for side in [int(rng.integers(2))] if rng.uniform() < 0.8 else [RIGHT, LEFT]:
        upper = rng.uniform() < 0.35
        center = sample_point_in_lung(rng, patient, side, 14.0, zone=(0.1, 0.5) if upper else (0.45, 0.9))
        if center is not None:
            patches.append(draw_patch(rng, center, side, upper))
    return tuple(patches)


@dataclass(frozen=True)
class PneumoniaPatch:
    """Bronchopneumonia in one lung: overlapping acini that fill unevenly.

    Attributes:
        center: `(u, v)` mm.
        offsets: `(K, 2)` offsets of the acini from the centre (mm).
        sizes: `(K,)` their standard deviations (mm).
        side: the lung, `RIGHT` or `LEFT`; the opacity stops at the midline.
    """

    center: tuple[float, float]
    offsets: np.ndarray
    sizes: np.ndarray
    side: int


def _draw_pneumonia_patch(rng: np.random.Generator, center, side: int, upper: bool) -> PneumoniaPatch:
    count = int(rng.integers(4, 8))
    return PneumoniaPatch(
        center=center, offsets=rng.normal(0.0, 16.0, (count, 2)), sizes=rng.uniform(7.0, 13.0, count), side=side
    )


def _sample_pneumonia(rng: np.random.Generator, study: Study) -> tuple[PneumoniaPatch, ...]:
    return _sample_airspace(rng, study.patient, _draw_pneumonia_patch)


def _render_pneumonia(scene: Scene, patient: Patient, patches: tuple[PneumoniaPatch, ...]) -> tuple[Region, ...]:
    frame = scene.frame
    regions = []
    for patch in patches:
        cu, cv = patch.center
        reach = float(np.abs(patch.offsets).max() + 3.0 * patch.sizes.max())
        win = frame.window(cu - reach, cu + reach, cv - reach, cv + reach)
        if win is None:
            continue
        u, v = frame.u[win], frame.v[win]
        ramp, thick = scene.lung_ramp[win], scene.body[win]
        du, dv = u - cu, v - cv
        lung = (ramp > 0) & ((u > patient.midline) if patch.side == LEFT else (u <= patient.midline))
        # Ill-defined, mottled airspace opacity: overlapping acini filling unevenly, fading at the edges.
        blobs = np.zeros_like(u)
        for (ou, ov), size in zip(patch.offsets.tolist(), patch.sizes.tolist(), strict=True):
            eu, ev = du - ou, dv - ov
            blobs += np.exp((eu * eu + ev * ev) * (-0.5 / (size * size)))
        patchy = 1.0 - np.exp(-1.4 * blobs)
        patchy *= lung
        scene.projection[win] += _airspace(patchy, thick, ramp, patient, 0.6)
        regions.append((win, patchy > 0.4))
    return tuple(regions)


@dataclass(frozen=True)
class ConsolidationPatch:
    """Lobar consolidation in one lung: a lobulated airspace opacity with air bronchograms; on the right it stops at
    the minor fissure, the sharp edge a PA film shows (the left lung has no minor fissure).

    Attributes:
        center: `(u, v)` mm.
        radii: `(horizontal, vertical)` semi-axes (mm).
        fissure: slope of the minor fissure that bounds it (right lung only).
        upper: in an upper lobe (bounded below by the fissure) or a lower one (bounded above).
        side: the lung, `RIGHT` or `LEFT`; the opacity stops at the midline.
        phase: of the lobulated edge and the bronchi.
    """

    center: tuple[float, float]
    radii: tuple[float, float]
    fissure: float
    upper: bool
    side: int
    phase: float


def _draw_consolidation_patch(rng: np.random.Generator, center, side: int, upper: bool) -> ConsolidationPatch:
    return ConsolidationPatch(
        center=center,
        radii=(rng.uniform(30.0, 45.0), rng.uniform(22.0, 34.0)),
        fissure=rng.normal(0.0, 0.12),
        upper=upper,
        side=side,
        phase=rng.uniform(0, 6.3),
    )


def _sample_consolidation(rng: np.random.Generator, study: Study) -> tuple[ConsolidationPatch, ...]:
    return _sample_airspace(rng, study.patient, _draw_consolidation_patch)


def _render_consolidation(
    scene: Scene, patient: Patient, patches: tuple[ConsolidationPatch, ...]
) -> tuple[Region, ...]:
    frame = scene.frame
    regions = []
    for patch in patches:
        cu, cv = patch.center
        ra, rb = patch.radii
        reach = 1.25 * max(patch.radii) + 2.0  # lobulated edge (0.98) plus the soft border (0.21)
        win = frame.window(cu - reach, cu + reach, cv - reach, cv + reach)
        if win is None:
            continue
        u, v = frame.u[win], frame.v[win]
        ramp, thick = scene.lung_ramp[win], scene.body[win]
        du, dv = u - cu, v - cv
        lung = (ramp > 0) & ((u > patient.midline) if patch.side == LEFT else (u <= patient.midline))
        # A lobulated, soft-edged airspace opacity that stops sharply at the fissure, with air bronchograms (aerated
        # bronchi, dark branching lines) inside.
        eu, ev = du * (1.0 / ra), dv * (1.0 / rb)
        spread = np.sqrt(eu * eu + ev * ev)
        angle = np.arctan2(ev, eu)
        phase = patch.phase
        edge = 0.82 + 0.1 * np.sin(3.0 * angle + phase) + 0.06 * np.sin(5.0 * angle + 2.3 * phase)
        dense = clip((edge - spread) * 2.4 + 0.5, 0.0, 1.0)
        dense *= dense * (3.0 - 2.0 * dense)  # smoothstep: a fluffy border about 8 mm wide
        if patch.side == RIGHT:
            # The minor fissure, nearly horizontal on a PA film, bounds an upper-lobe consolidation below and a
            # middle-lobe one above. The left lung has no minor fissure, and its oblique fissure is seen obliquely
            # on a PA film, so a left consolidation fades at its lobulated border only.
            fissure = cv + (0.45 * rb if patch.upper else -0.45 * rb) + patch.fissure * du
            dense *= clip(((fissure - v) if patch.upper else (v - fissure)) * 0.5 + 0.5, 0.0, 1.0)
        dense *= lung
        hemithorax = patient.sides[patch.side]
        dq = (u - patient.midline) * hemithorax.sign - hemithorax.hilum
        bronchi = np.cos(7.0 * np.arctan2(v - patient.carina - 28.0, dq) + phase) ** 2
        bronchi **= 24
        bronchi *= dense
        scene.projection[win] += _airspace(dense * (1.0 - 0.35 * bronchi), thick, ramp, patient, 0.8)
        regions.append((win, dense > 0.5))
    return tuple(regions)


# ---------------------------------------------------------------------------------------------------------------
# The table. Its order is the order of the draws within each stage, and of the rendering.

FINDING_TABLE: dict[str, Finding] = {
    "Cardiomegaly": Finding(
        Stage.HEART,
        _sample_cardiomegaly,
        prevalence=0.12,
        nih_prevalence=0.025,
        apply=_apply_cardiomegaly,
        chronic=True,
    ),
    "Emphysema": Finding(
        Stage.CHEST, _sample_emphysema, prevalence=0.05, nih_prevalence=0.022, apply=_apply_emphysema, chronic=True
    ),
    "Fibrosis": Finding(
        Stage.CHEST,
        _sample_fibrosis,
        prevalence=0.04,
        nih_prevalence=0.015,
        apply=_apply_fibrosis,
        render=_render_fibrosis,
        chronic=True,
    ),
    "Atelectasis": Finding(
        Stage.CHEST,
        _sample_atelectasis,
        prevalence=0.10,
        nih_prevalence=0.103,
        apply=_apply_atelectasis,
        render=_render_atelectasis,
    ),
    "Pleural_Thickening": Finding(
        Stage.CHEST,
        _sample_pleural_thickening,
        prevalence=0.05,
        nih_prevalence=0.030,
        apply=_apply_pleural_thickening,
        chronic=True,
    ),
    "Pneumothorax": Finding(
        Stage.CHEST, _sample_pneumothorax, prevalence=0.08, nih_prevalence=0.047, apply=_apply_pneumothorax
    ),
    "Effusion": Finding(Stage.CHEST, _sample_effusion, prevalence=0.14, nih_prevalence=0.119, apply=_apply_effusion),
    "Edema": Finding(Stage.CHEST, _sample_edema, prevalence=0.05, nih_prevalence=0.021, render=_render_edema),
    "Infiltration": Finding(
        Stage.CHEST, _sample_infiltration, prevalence=0.14, nih_prevalence=0.177, render=_render_infiltration
    ),
    "Hernia": Finding(
        Stage.CHEST, _sample_hernia, prevalence=0.02, nih_prevalence=0.002, render=_render_hernia, chronic=True
    ),
    "Nodule": Finding(
        Stage.LESION, _sample_nodules, prevalence=0.09, nih_prevalence=0.056, render=_render_round_lesions, boxed=True
    ),
    "Mass": Finding(
        Stage.LESION, _sample_mass, prevalence=0.06, nih_prevalence=0.052, render=_render_round_lesions, boxed=True
    ),
    "Pneumonia": Finding(
        Stage.LESION, _sample_pneumonia, prevalence=0.06, nih_prevalence=0.013, render=_render_pneumonia, boxed=True
    ),
    "Consolidation": Finding(
        Stage.LESION,
        _sample_consolidation,
        prevalence=0.07,
        nih_prevalence=0.042,
        render=_render_consolidation,
        boxed=True,
    ),
}
"""Finding title -> how it is drawn and rendered: one entry per finding of the slide's 14."""

BOX_FINDINGS: tuple[str, ...] = tuple(title for title, finding in FINDING_TABLE.items() if finding.boxed)
"""Findings that get bounding boxes (class = slide code) and a mask channel."""

DEFAULT_PREVALENCE: dict[str, float] = {title: FINDING_TABLE[title].prevalence for title in FINDINGS}
"""Default probability of each finding per image: imbalanced in NIH ChestX-ray14's order of frequency, but about
2-3 times NIH's rates so that a few thousand images hold enough positives of every finding to learn from."""

NIH_PREVALENCE: dict[str, float] = {title: FINDING_TABLE[title].nih_prevalence for title in FINDINGS}
"""Per-image prevalence of each finding in NIH ChestX-ray14 (112,120 images), for realistic imbalance."""

CHRONIC_FINDINGS = frozenset(title for title, finding in FINDING_TABLE.items() if finding.chronic)
"""Findings drawn once per patient and kept in all of the patient's studies; the others are drawn per study."""


def _sample_findings(rng: np.random.Generator, study: Study, stage: Stage) -> Study:
    """Draw the study's findings of `stage`, in table order, and apply their changes."""
    for title, finding in FINDING_TABLE.items():
        if finding.stage is not stage or title not in study.titles:
            continue
        spec = finding.sample(rng, study)
        study = replace(study, findings=(*study.findings, (title, spec)))
        if finding.apply is not None:
            study = finding.apply(study, spec)
    return study


def sample_study(
    rng: np.random.Generator,
    patient: Patient,
    titles: frozenset[str],
    forced: bool,
    acquisition_rng: np.random.Generator | None = None,
) -> Study:
    """Draw one study's pose, exposure, findings and acquisition on top of the patient's anatomy.

    The cardiothoracic ratio is continuous (normal hearts about 0.445 +- 0.035, enlarged ones 0.50-0.66); the
    Cardiomegaly label is what a reader measures, the PA-equivalent ratio plus a reading error of 0.012, above 0.5
    (with forced findings, the forced answer). An AP film magnifies the heart, so its measured ratio overstates the
    PA one.

    Args:
        rng: the study's stream, for pose, exposure and findings; the draws happen in the order written.
        patient: the patient's anatomy.
        titles: the findings present.
        forced: the caller chose `titles`.
        acquisition_rng: the study's acquisition stream, which draws framing, projection, processing and devices;
            None keeps the standard PA set-up.

    Returns:
        The study, ready to render.
    """
    rotation = patient.rotation + math.radians(rng.normal(0.0, 0.6))
    shift_x, shift_y = rng.normal(0.0, 4.0, 2).tolist()
    acquisition = replace(
        STANDARD_ACQUISITION,
        rotation=rotation,
        shift_x=shift_x,
        shift_y=shift_y,
        window_center=rng.normal(2.85, 0.08),
        window_width=rng.normal(1.35, 0.05),
        photons=2.0e4 * rng.uniform(0.5, 2.0),
    )
    if forced and "Cardiomegaly" not in titles:
        # A heart forced healthy stays clearly below 0.5, so that the image agrees with the forced label.
        patient = replace(patient, cardiothoracic_ratio=min(patient.cardiothoracic_ratio, 0.485))
    study = _sample_findings(rng, Study(patient, titles, forced, acquisition), Stage.HEART)
    study = replace(study, reader_ctr=study.patient.cardiothoracic_ratio + rng.normal(0.0, 0.012))
    study = _sample_findings(rng, study, Stage.CHEST)
    if acquisition_rng is not None:
        study = replace(study, acquisition=sample_acquisition(acquisition_rng, study.patient, study.acquisition))
    study = replace(study, patient=project_patient(study.patient, study.acquisition))
    return _sample_findings(rng, study, Stage.LESION)
