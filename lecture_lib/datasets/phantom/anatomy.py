"""The patient: anatomy sampled in mm, its geometry, and the rendering of the healthy chest into a projection.

`sample_patient(rng)` draws a `Patient` (two `Hemithorax` sides, mediastinum, heart size, ribs, clavicles,
shoulders, body) and `sample_point_in_lung` draws where a lesion sits; every other function here is deterministic.
`render_anatomy` adds body, breasts, lungs with their vessels and hila, ribs, clavicles, shoulders, trachea, spine
and gastric bubble to the line integral of attenuation `P` and returns the `Scene` that findings draw on.
Coordinates: `u` mm to the viewer's right (the patient's left), `v` mm downward; `q` is the distance from the
midline, positive toward the side being drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from lecture_lib.datasets.phantom.geometry import chord, clip, hollow_chord, ramp, segment_distance

if TYPE_CHECKING:
    from lecture_lib.datasets.phantom.acquisition import Frame

FIELD_OF_VIEW_MM = 380.0
"""Side of the square detector field in mm (real detectors are about 35 x 43 cm)."""

BODY_BOTTOM_MM = 700.0
"""Lowest anatomical height drawn (mm): below every field of view that an acquisition can frame."""

MU_SOFT = 0.020
"""Linear attenuation of soft tissue and blood at about 60 keV, per mm (0.2 /cm)."""
MU_LUNG = 0.005
"""Inflated lung, per mm (0.05 /cm)."""
MU_BONE = 0.050
"""Bone, per mm (0.5 /cm)."""

RIGHT, LEFT = 0, 1
"""The patient's sides, as `Hemithorax.side` and as indices of `Patient.sides`."""


@dataclass(frozen=True)
class Hemithorax:
    """One side of the chest: the lung field's outline and what fills its pleural space, in mm.

    Attributes:
        side: `RIGHT` or `LEFT` (the patient's).
        width: distance from the midline to the inner chest wall at the widest level.
        apex: height `v` of the lung apex.
        dome: height of the hemidiaphragm's dome.
        costophrenic: depth of the costophrenic angle below the dome.
        aortic_knob: bulge of the aortic knob into the medial lung border (0 on the right).
        hilum: distance of the hilum from the midline.
        fluid_level: height of pleural fluid at the medial border, or None without an effusion.
        meniscus: how much higher the fluid climbs at the lateral chest wall.
        pneumothorax: width of the pleural air between the chest wall and the collapsed lung (0 without one).
        thickening: thickness of pleural thickening along the chest wall (0 without it).
        thickening_level: where it is thickest, as a fraction of the apex-to-dome height.
    """

    side: int
    width: float
    apex: float
    dome: float
    costophrenic: float
    aortic_knob: float
    hilum: float
    fluid_level: float | None = None
    meniscus: float = 0.0
    pneumothorax: float = 0.0
    thickening: float = 0.0
    thickening_level: float = 0.0

    @property
    def sign(self) -> float:
        """Maps a distance from the midline to `u`: `u = midline + sign * q`."""
        return 1.0 if self.side == LEFT else -1.0


@dataclass(frozen=True)
class Heart:
    """The cardiac silhouette: a tilted ellipse cut by the line joining the two cardiophrenic points (mm).

    Attributes:
        center_x, center_y: centre of the ellipse.
        major, minor: its semi-axes.
        cos, sin: cosine and sine of its tilt.
        half_width: half its horizontal extent (the widest points are `center_x -+ half_width`).
        drop: the widest points lie at `center_y -+ drop` (right, left).
        floor_x, floor_y: the right cardiophrenic point, where the silhouette meets the diaphragm.
        floor_slope: slope of the line from there to the left cardiophrenic point.
    """

    center_x: float
    center_y: float
    major: float
    minor: float
    cos: float
    sin: float
    half_width: float
    drop: float
    floor_x: float
    floor_y: float
    floor_slope: float


@dataclass(frozen=True)
class Patient:
    """One patient's anatomy in mm, shared by all their studies; a study's findings change it with `replace`.

    Attributes:
        midline: `u` of the midline (spine, trachea).
        right, left: the two hemithoraces.
        mediastinum: distance of the lungs' medial borders from the midline.
        carina: height of the carina (the hila lie 28 mm below it).
        body_depth: front-to-back depth of the chest.
        chest_wall: lateral soft tissue beyond the lungs.
        breast: breast and pectoral thickness over the lung bases (0-28 mm).
        cardiothoracic_ratio: heart width over thorax width, as a PA film shows it.
        heart_tilt: tilt of the heart's long axis (radians).
        heart_aspect: the heart ellipse's minor over major axis.
        rib_first, rib_step, rib_growth: rib `i` runs at height `rib_first + rib_step * i + rib_growth * i**2`.
        rib_rise, rib_drop: how far posterior ribs rise from the spine, then drop toward the lateral chest wall.
        anterior_rib_slope: downward slope of the anterior ribs toward the midline.
        rib_phase: phase of the ribs' irregularity.
        clavicle_medial, clavicle_lateral: heights of the clavicles' sternal and acromial ends.
        scapula_inset: the scapula's medial border, as a fraction of the thorax half-width.
        scapula_length: height of the scapula.
        bone_density: mineral density of the bones (1 is average).
        lung_depth: share of the chest's depth that the aerated lung takes.
        apex_position: the lung apex's distance from the midline, as a fraction of the hemithorax width.
        apex_medial_height: how far (mm) below the apex the medial lung border reaches the mediastinum; above it the
            border curves up to the apex, leaving the narrow upper mediastinum between the apices.
        marking_phases: phases of the coarse and fine waviness of the lung markings.
        rotation: the patient's habitual rotation (radians), the start of each study's pose.
        lung_attenuation: attenuation of the aerated lung per mm (lower in emphysema).
        marking_strength: density of the lung markings (fewer vessels in emphysema).
    """

    midline: float
    right: Hemithorax
    left: Hemithorax
    mediastinum: float
    carina: float
    body_depth: float
    chest_wall: float
    breast: float
    cardiothoracic_ratio: float
    heart_tilt: float
    heart_aspect: float
    rib_first: float
    rib_step: float
    rib_growth: float
    rib_rise: float
    rib_drop: float
    anterior_rib_slope: float
    rib_phase: float
    clavicle_medial: float
    clavicle_lateral: float
    scapula_inset: float
    scapula_length: float
    bone_density: float
    lung_depth: float
    apex_position: float
    apex_medial_height: float
    marking_phases: tuple[float, float]
    rotation: float
    lung_attenuation: float = MU_LUNG
    marking_strength: float = 1.0

    @property
    def sides(self) -> tuple[Hemithorax, Hemithorax]:
        """`(right, left)`, indexed by `RIGHT` and `LEFT`."""
        return self.right, self.left

    def with_side(self, side: int, **changes) -> Patient:
        """A copy with the fields `changes` of one hemithorax replaced."""
        if side == LEFT:
            return replace(self, left=replace(self.left, **changes))
        return replace(self, right=replace(self.right, **changes))

    @cached_property
    def heart(self) -> Heart:
        """The cardiac silhouette that this anatomy implies (computed once per patient object)."""
        return heart_geometry(self)


def sample_patient(rng: np.random.Generator) -> Patient:
    """Draw one patient's anatomy.

    The draws happen in the order written: changing the order, or adding a draw, changes every phantom.
    """
    scale = rng.uniform(0.9, 1.06)
    width = 150.0 * scale
    apex = rng.normal(60.0, 4.0)
    height = rng.uniform(178.0, 200.0) * scale
    dome_right = apex + height
    midline = FIELD_OF_VIEW_MM / 2 + rng.normal(0.0, 3.0)
    width_right = width * (1 + rng.normal(0, 0.02))
    width_left = width * (1 + rng.normal(0, 0.02))
    apex_right = apex + rng.normal(0, 2.0)
    apex_left = apex + rng.normal(0, 2.0)
    dome_left = dome_right + rng.uniform(10.0, 30.0)
    costophrenic_right = rng.uniform(32.0, 50.0)
    costophrenic_left = rng.uniform(32.0, 50.0)
    mediastinum = rng.uniform(24.0, 31.0) * scale
    aortic_knob = rng.uniform(8.0, 16.0)
    body_depth = rng.uniform(95.0, 118.0) * scale
    chest_wall = rng.uniform(22.0, 34.0)
    cardiothoracic_ratio = float(np.clip(rng.normal(0.445, 0.035), 0.36, 0.53))
    heart_tilt = math.radians(rng.uniform(30.0, 45.0))
    heart_aspect = rng.uniform(0.70, 0.82)
    rib_first = apex + rng.normal(-6.0, 2.0)
    rib_step = rng.uniform(17.5, 20.0) * scale
    rib_growth = rng.uniform(0.15, 0.45)
    rib_rise = rng.uniform(0.25, 0.4)
    rib_drop = rng.uniform(50.0, 68.0)
    anterior_rib_slope = rng.uniform(0.38, 0.55)
    clavicle_medial = apex + rng.uniform(18.0, 30.0)
    clavicle_lateral = apex + rng.uniform(-12.0, 2.0)
    carina = apex + rng.uniform(70.0, 85.0)
    marking_phases = (rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi))
    rotation = math.radians(rng.normal(0.0, 1.2))
    rib_phase = rng.uniform(0, 2 * math.pi)
    breast = rng.uniform(0.0, 28.0) * scale
    # Share of the chest's depth that the aerated lung takes (the rest is chest wall, heart and vessels in front of
    # and behind it), and the bones' mineral density: together they set how grey the lung fields look and how much
    # the ribs stand out.
    lung_depth = rng.uniform(0.5, 0.75)
    scapula_inset = rng.uniform(0.72, 0.92)
    scapula_length = rng.uniform(130.0, 165.0) * scale
    bone_density = rng.uniform(0.8, 1.3)
    # The apices lie medially, near the trachea: the upper mediastinum between them is narrow.
    apex_position = rng.uniform(0.3, 0.42)
    apex_medial_height = rng.uniform(30.0, 60.0)
    return Patient(
        midline=midline,
        right=Hemithorax(
            side=RIGHT,
            width=width_right,
            apex=apex_right,
            dome=dome_right,
            costophrenic=costophrenic_right,
            aortic_knob=0.0,
            hilum=54.0,
        ),
        left=Hemithorax(
            side=LEFT,
            width=width_left,
            apex=apex_left,
            dome=dome_left,
            costophrenic=costophrenic_left,
            aortic_knob=aortic_knob,
            hilum=60.0,
        ),
        mediastinum=mediastinum,
        carina=carina,
        body_depth=body_depth,
        chest_wall=chest_wall,
        breast=breast,
        cardiothoracic_ratio=cardiothoracic_ratio,
        heart_tilt=heart_tilt,
        heart_aspect=heart_aspect,
        rib_first=rib_first,
        rib_step=rib_step,
        rib_growth=rib_growth,
        rib_rise=rib_rise,
        rib_drop=rib_drop,
        anterior_rib_slope=anterior_rib_slope,
        rib_phase=rib_phase,
        clavicle_medial=clavicle_medial,
        clavicle_lateral=clavicle_lateral,
        scapula_inset=scapula_inset,
        scapula_length=scapula_length,
        bone_density=bone_density,
        lung_depth=lung_depth,
        apex_position=apex_position,
        apex_medial_height=apex_medial_height,
        marking_phases=marking_phases,
        rotation=rotation,
    )


# ---------------------------------------------------------------------------------------------------------------
# Geometry shared by the renderer, the masks and lesion placement.


def diaphragm(q, hemithorax: Hemithorax):
    """Height `v` (mm) of a hemidiaphragm's upper surface at `q` mm from the midline: medial slope, dome, sulcus."""
    q_dome = 0.5 * hemithorax.width
    dd = q - q_dome
    medial = 22.0 / (q_dome * q_dome)
    lateral = hemithorax.costophrenic / ((hemithorax.width - q_dome) ** 2)
    curve = (
        (lateral if dd > 0 else medial)
        if np.ndim(dd) == 0
        else np.where(dd > 0, np.float32(lateral), np.float32(medial))
    )
    return hemithorax.dome + curve * dd * dd


def heart_geometry(patient: Patient) -> Heart:
    """The cardiac silhouette of `patient`: its width from the cardiothoracic ratio, resting on the diaphragm."""
    thorax = patient.right.width + patient.left.width
    ratio = patient.cardiothoracic_ratio
    half_width = 0.5 * ratio * thorax
    cos, sin = math.cos(patient.heart_tilt), math.sin(patient.heart_tilt)
    aspect = patient.heart_aspect
    major = half_width / math.sqrt(cos * cos + aspect * aspect * sin * sin)
    minor = aspect * major
    # The widest points of a tilted ellipse: x = centre +- half_width, y = centre -+ drop.
    drop = sin * cos * (major * major - minor * minor) / half_width
    center_x = patient.midline + ratio * thorax / 6.0
    x_right, x_left = center_x - half_width, center_x + half_width
    # The heart rests on the diaphragm: its silhouette ends on the line joining the two cardiophrenic points, and
    # both widest points stay above the diaphragm (a raised right dome lifts the heart).
    floor_right = float(diaphragm(patient.midline - x_right, patient.right))
    floor_left = float(diaphragm(x_left - patient.midline, patient.left))
    center_y = min(patient.left.dome - 6.0 - drop, floor_right - 4.0 + drop)
    return Heart(
        center_x=center_x,
        center_y=center_y,
        major=major,
        minor=minor,
        cos=cos,
        sin=sin,
        half_width=half_width,
        drop=drop,
        floor_x=x_right,
        floor_y=floor_right,
        floor_slope=(floor_left - floor_right) / (x_left - x_right),
    )


@dataclass(frozen=True)
class LungMargins:
    """Signed margins (mm, positive inside) of one side's spaces; an array is the same object as the one before it
    when nothing separates them (`air is thorax` without pleural fluid, `lung is air` without a pneumothorax).

    Attributes:
        thorax: the hemithorax inside chest wall, diaphragm, mediastinum and heart (pleural fluid included).
        air: the air-filled lung field above any pleural fluid (a pneumothorax included).
        lung: the lung itself, collapsed away from the chest wall by a pneumothorax.
        air_depth, lung_depth: `air` and `lung` with the heart and diaphragm borders moved `RETROCARDIAC_MM` and
            `RECESS_MM` outward and the chest wall `PLEURA_MM` inward: where the lung's thickness along the beam
            fades (the masks follow `air` and `lung`).
    """

    thorax: np.ndarray
    air: np.ndarray
    lung: np.ndarray
    air_depth: np.ndarray
    lung_depth: np.ndarray


PLEURA_MM = 5.0
"""How far (mm) inside the lung's border at the chest wall and apex its darkness begins: the parietal pleura,
extrapleural fat, the innermost intercostal muscles and the ribs' companion shadows line the wall, so the lung's
border (where readers draw it) lies a few millimetres outside the dark field."""

LUNG_EDGE_MM = 14.0
"""Depth (mm) over which the aerated lung's thickness along the beam rises from 0 at its border (`ramp`)."""

RETROCARDIAC_MM = 8.0
"""How far (mm) lung tissue reaches behind the heart's silhouette: the lower lobes lie behind the heart, so its
border is the dark end of a gradient that fades into the heart, as the heart's own thickness grows from its edge."""

RECESS_MM = 10.0
"""How far (mm) lung tissue reaches below the top of a hemidiaphragm: the posterior costophrenic recesses lie
behind the domes, so the visible lung base also fades into the diaphragm rather than into the lung."""


def lung_margins(q, v, u, patient: Patient, hemithorax: Hemithorax) -> LungMargins:
    """The margins of one lung field at points `q` mm from the midline, height `v` and abscissa `u`."""
    width, apex = hemithorax.width, hemithorax.apex
    m0 = patient.mediastinum
    widest = patient.right.dome - 15.0
    # Two quarter-ellipses meet at the apex: laterally down to the widest point of the thorax, medially down to the
    # mediastinal border `apex_medial_height` mm below the apex.
    q_apex = patient.apex_position * width
    lateral = q > q_apex
    a = np.where(lateral, np.float32(width - q_apex), np.float32(q_apex - m0))  # float32 like the grid
    dq = (q - q_apex) / a
    span = np.where(lateral, np.float32(widest - apex), np.float32(patient.apex_medial_height))
    dv = np.minimum(v - apex - span, 0.0) / span
    m_wall = (1.0 - np.sqrt(dq * dq + dv * dv)) * a
    if hemithorax.thickening:
        level = apex + hemithorax.thickening_level * (hemithorax.dome - apex)
        m_wall -= hemithorax.thickening * np.exp(-(((v - level) / 45.0) ** 2))
    m_dome = (diaphragm(q, hemithorax) - v) * 0.85
    m_med = q - m0
    if hemithorax.aortic_knob:
        m_med -= hemithorax.aortic_knob * np.exp(-(((v - patient.carina + 12.0) / 16.0) ** 2))
    heart = patient.heart
    du, dvh = u - heart.center_x, v - heart.center_y
    hu = (du * heart.cos + dvh * heart.sin) * (1.0 / heart.major)
    hv = (dvh * heart.cos - du * heart.sin) * (1.0 / heart.minor)
    rho = np.sqrt(hu * hu + hv * hv)
    m_heart = (rho - 1.0) * heart.minor
    thorax = np.minimum(np.minimum(m_wall, m_dome), np.minimum(m_med, m_heart))
    depth = np.minimum(np.minimum(m_wall - PLEURA_MM, m_dome + RECESS_MM), np.minimum(m_med, m_heart + RETROCARDIAC_MM))
    air = thorax
    if hemithorax.fluid_level is not None:
        frac = clip((q - m0) / (width - m0), 0.0, 1.0)
        # Meniscus: fluid climbs the lateral chest wall, so the upper border is concave and highest laterally.
        frac *= frac
        rim = frac * frac
        rim *= rim
        fluid = (hemithorax.fluid_level - hemithorax.meniscus * (0.6 * frac + 1.2 * rim) - v) * 0.85
        air = np.minimum(thorax, fluid)
        depth = np.minimum(depth, fluid)
    lung, lung_depth = air, depth
    if hemithorax.pneumothorax:
        b = widest - apex
        lateral = clip((q - 0.25 * width) / (0.35 * width), 0.0, 1.0)
        apical = clip((apex + 0.45 * b - v) / (0.3 * b), 0.0, 1.0)
        # The pleural air lies inside the wall's lining (`PLEURA_MM`): `pneumothorax` mm of it show beyond that.
        collapsed = m_wall - (hemithorax.pneumothorax + PLEURA_MM) * np.maximum(lateral, apical)
        lung = np.minimum(air, collapsed)
        lung_depth = np.minimum(depth, collapsed)
    return LungMargins(thorax=thorax, air=air, lung=lung, air_depth=depth, lung_depth=lung_depth)


def sample_point_in_lung(
    rng: np.random.Generator, patient: Patient, side: int, radius: float, tries: int = 64, zone=(0.0, 1.0)
) -> tuple[float, float] | None:
    """Draw a centre `(u, v)` inside one lung, at least `radius` (plus a rim) from its border; None if none fits.

    `zone` limits the height to a fraction range of apex (0) to 30 mm below the dome (1). Always draws `2 * tries`
    numbers, whether a point fits or not.
    """
    hemithorax = patient.sides[side]
    q = rng.uniform(0.2, 1.0, tries) * hemithorax.width
    height = hemithorax.dome + 30 - hemithorax.apex
    v = hemithorax.apex + (zone[0] + (zone[1] - zone[0]) * rng.uniform(0, 1, tries)) * height
    u = patient.midline + hemithorax.sign * q
    ok = np.flatnonzero(lung_margins(q, v, u, patient, hemithorax).lung > radius + 4.0)
    if ok.size == 0:
        return None
    return float(u[ok[0]]), float(v[ok[0]])


# ---------------------------------------------------------------------------------------------------------------
# Rendering: thicknesses along the beam on the frame's pixel grid.


def _rib_index(t, patient: Patient):
    """Rib number of a rib-aligned height `t`: continuous, nearest rib (0-11), its height and the local spacing.

    Rib `i` runs at `first + step*i + growth*i**2`.
    """
    step, growth = patient.rib_step, patient.rib_growth
    index = t * (4.0 * growth)
    index += step * step - 4.0 * growth * patient.rib_first
    np.sqrt(np.maximum(index, 0.0, out=index), out=index)
    index -= step
    index *= 0.5 / growth
    nearest = np.rint(index)
    np.clip(nearest, 0.0, 11.0, out=nearest)
    spacing = nearest * (2.0 * growth)
    spacing += step
    center = (spacing + step) * nearest  # 2 (step * i + growth * i**2)
    center *= 0.5
    center += patient.rib_first
    return index, nearest, center, spacing


def _rib_height(index, patient: Patient):
    """Rib-aligned height `t` (mm) of rib number `index`, the inverse of `_rib_index`."""
    return patient.rib_first + patient.rib_step * index + patient.rib_growth * index * index


def _add_ribs_and_clavicles(frame: Frame, patient: Patient, bones: np.ndarray) -> None:
    """Add the rib and clavicle thickness (mm) of both sides to `bones`.

    Posterior ribs and clavicles are drawn for both sides in one window over `q = |u - midline|`, with each side's
    thorax half-width where it applies; anterior ribs, which leave the middle empty, in one window per side.
    """
    cx, w_r, w_l = patient.midline, patient.right.width, patient.left.width
    wide = max(w_r, w_l)

    def window(q0, v0, v1):
        return frame.window(cx - q0, cx + q0, v0, v1)

    def coordinates(win):
        du = frame.u[win] - cx
        return np.abs(du), frame.v[win], du > 0

    # Posterior arcs rise briefly from the spine, then curve down toward the lateral chest wall.
    rise, drop = patient.rib_rise, patient.rib_drop
    lowest = -(rise**2) / (4.0 * (drop + rise * wide) / (wide * wide))
    # Below the costophrenic angles the ribs lie behind the abdomen, whose thickness the film curve saturates:
    # they are drawn down to 25 mm below the lower angle, not to the lowest rib.
    hidden = max(patient.right.dome + patient.right.costophrenic, patient.left.dome + patient.left.costophrenic) + 25.0
    win = window(
        wide + 7.0,
        _rib_height(-0.5, patient) + lowest - 12.0,
        min(_rib_height(11.5, patient) + drop + 12.0, hidden),
    )
    if win is not None:
        q, v, left = coordinates(win)
        width = np.where(left, np.float32(w_l), np.float32(w_r))
        k = np.where(left, np.float32((drop + rise * w_l) / w_l**2), np.float32((drop + rise * w_r) / w_r**2))
        slope = k * q
        arc = (slope - rise) * q
        slope += slope - rise
        t = v - arc
        index, nearest, center, spacing = _rib_index(t, patient)
        # Each rib is a little thicker or thinner and higher or lower than the regular ladder.
        wobble = np.sin(nearest * 2.4 + patient.rib_phase)
        distance = (t - center + 1.8 * wobble) / np.sqrt(1.0 + slope * slope)
        radius = (0.29 + 0.03 * wobble) * spacing
        posterior = hollow_chord(radius, distance, 0.7, 0.62)
        posterior *= clip((width + 7.0 - q) * (0.85 / 7.0), 0.0, 0.85) * clip((q - 14.0) * 0.2, 0.0, 1.0)
        posterior *= (index > -0.5) & (index < 11.5)
        bones[win] += posterior
    # Anterior arcs start at the lateral end of the same rib and slope down medially; fainter, thinner bone.
    slope_anterior = patient.anterior_rib_slope
    reach = 0.68 * wide
    high = drop - 3.0 * slope_anterior
    low = drop + slope_anterior * reach + 0.0012 * reach * reach
    top, bottom = _rib_height(-0.5, patient) + high - 12.0, min(_rib_height(9.5, patient) + low + 12.0, hidden)
    for sign, width in ((-1.0, w_r), (1.0, w_l)):  # one window per side: nothing to draw medially
        u0, u1 = sorted((cx + sign * 0.32 * width, cx + sign * (width + 3.0)))
        win = frame.window(u0, u1, top, bottom)
        if win is None:
            continue
        q, v = (frame.u[win] - cx) * sign, frame.v[win]
        lateral = width - q
        h = drop + slope_anterior * lateral + 0.0012 * lateral * lateral
        t = v - h
        index, _, center, spacing = _rib_index(t, patient)
        slope = slope_anterior + 0.0024 * lateral
        distance = (t - center) / np.sqrt(1.0 + slope * slope)
        radius = 0.34 * spacing
        anterior = hollow_chord(radius, distance, 0.6, 0.5)
        anterior *= clip((q - 0.32 * width) * (0.18 / 12.0), 0.0, 0.18) * clip((width + 3.0 - q) / 6.0, 0.0, 1.0)
        anterior *= (index > -0.5) & (index < 9.5)
        bones[win] += anterior
    # Clavicles: S-shaped, from the sternal end near the spine to the acromion, crossing the apices.
    medial_end, lateral_end = patient.clavicle_medial, patient.clavicle_lateral
    top, bottom = sorted((medial_end, lateral_end))
    win = window(172.0, top - 16.0, bottom + 16.0)
    if win is not None:
        q, v = np.abs(frame.u[win] - cx), frame.v[win]
        f = clip((q - 18.0) * (1.0 / 150.0), 0.0, 1.0)
        y = v - (medial_end + (lateral_end - medial_end) * f + 6.0 * np.sin((2.0 * np.pi) * f))
        clavicle = (1.6 * chord(8.5, y) - 0.6 * chord(5.5, y)) * clip((q - 16.0) * (1.0 / 6.0), 0.0, 1.0)
        clavicle *= clip((172.0 - q) * 0.125, 0.0, 1.0)
        bones[win] += clavicle


def _add_shoulders(frame: Frame, patient: Patient, arm_gap: float, bones: np.ndarray) -> None:
    """Add both scapulae and humeral heads to `bones` (mm of bone along the beam), arms `arm_gap` mm from the chest.

    A scapula is a thin plate, a triangle in the upper lateral chest whose medial border crosses the lateral lung
    field on a PA film (less when the shoulders are rolled forward), with a thick lateral border running up to the
    glenoid; the humeral head is a ball beside the glenoid, under the acromion.
    """
    cx, apex = patient.midline, 0.5 * (patient.right.apex + patient.left.apex)
    chest = 0.5 * (patient.right.width + patient.left.width) + patient.chest_wall
    length = patient.scapula_length
    for sign, width in ((-1.0, patient.right.width), (1.0, patient.left.width)):
        medial_top, medial_bottom = patient.scapula_inset * width, (patient.scapula_inset + 0.12) * width
        glenoid = (width + 6.0, apex + 12.0)
        bottom = apex + length
        u0, u1 = sorted((cx + sign * (medial_top - 4.0), cx + sign * (chest + 40.0 + arm_gap)))
        win = frame.window(u0, u1, apex - 40.0, bottom + 6.0)
        if win is None:
            continue
        q, v = (frame.u[win] - cx) * sign, frame.v[win]
        t = clip((v - apex) * (1.0 / length), 0.0, 1.0)
        medial = medial_top + (medial_bottom - medial_top) * t
        lateral = glenoid[0] + (medial_bottom + 8.0 - glenoid[0]) * clip(
            (v - glenoid[1]) / (bottom - glenoid[1]), 0.0, 1.0
        )
        inside = clip((q - medial) * 0.4, 0.0, 1.0) * clip((lateral - q) * 0.4, 0.0, 1.0)
        inside *= clip((v - apex + 8.0) * 0.3, 0.0, 1.0) * clip((bottom - v) * 0.3, 0.0, 1.0)
        border = chord(5.0, q - lateral + 4.0) * (v > glenoid[1]) * (v < bottom)
        scapula = 3.0 * inside + 0.6 * border
        # The humeral head and the acromion above it.
        head_q = chest + 8.0 + 0.5 * arm_gap
        du, dv = q - head_q, v - (apex + 4.0)
        scapula += hollow_chord(24.0, np.sqrt(du * du + dv * dv), 0.75, 0.6)
        scapula += (
            chord(6.0, v - apex + 22.0 + 0.1 * (q - width))
            * clip((head_q + 10.0 - q) * 0.2, 0.0, 1.0)
            * clip((q - width + 10.0) * 0.2, 0.0, 1.0)
        )
        bones[win] += scapula


def _body(frame: Frame, patient: Patient, arm_gap: float, arms_raised: bool) -> np.ndarray:
    """Soft-tissue thickness (mm) along the beam through neck, shoulders, arms, chest wall and abdomen, `(H, W)`.

    The trunk is a super-elliptic cylinder (flat front and back, rounded sides, so the chest wall stays thick up to
    the skin line) whose half-width grows from the neck to the shoulders and narrows a little at the waist; it is
    deeper below the diaphragm, where the abdomen is solid soft tissue. The arms hang at the sides, `arm_gap` mm
    from the chest wall (air between them), or are raised out of the field; the corners above the shoulders hold
    only air.
    """
    u, v = frame.u, frame.v
    cx = patient.midline
    q = np.abs(u - cx)
    apex = 0.5 * (patient.right.apex + patient.left.apex)
    dome = 0.5 * (patient.right.dome + patient.left.dome)
    chest = 0.5 * (patient.right.width + patient.left.width) + patient.chest_wall
    rise = np.sqrt(clip((v - apex + 48.0) * (1.0 / 75.0), 0.0, 1.0))
    waist = clip((v - dome - 30.0) * (1.0 / 90.0), 0.0, 1.0)
    half = 55.0 + (chest - 55.0) * rise - 18.0 * waist
    ratio = q / half
    ratio *= ratio
    trunk = np.sqrt(np.maximum(1.0 - ratio * ratio * ratio, 0.0))
    depth = (2.0 * patient.body_depth) * (0.5 + 0.5 * rise + 0.3 * clip((v - dome + 10.0) * (1.0 / 50.0), 0.0, 1.0))
    trunk *= depth
    if arms_raised:
        return trunk
    # Arms: soft-tissue cylinders beside the chest wall, rounded at the shoulder; each lies in a narrow window.
    inner, outer = chest - 8.0 + arm_gap, chest + 60.0 + arm_gap + 0.08 * (BODY_BOTTOM_MM - apex)
    for sign in (-1.0, 1.0):
        win = frame.window(*sorted((cx + sign * inner, cx + sign * outer)), apex - 12.0, BODY_BOTTOM_MM)
        if win is None:
            continue
        va = v[win] - apex
        arm = q[win] - (chest + 26.0 + arm_gap) - 0.08 * va
        arm = 2.0 * np.sqrt(np.maximum(32.0 * 32.0 - arm * arm, 0.0))
        arm *= clip((va + 12.0) * (1.0 / 30.0), 0.0, 1.0)
        trunk[win] += arm
    return trunk


def _add_breasts(frame: Frame, patient: Patient, projection: np.ndarray) -> None:
    """Add the breast and pectoral soft tissue in front of the lower lungs: greyer lung bases, a curved lower edge.

    Each is half an ellipsoid lying on the lower chest wall, `patient.breast` mm thick at its centre (0-28 mm per
    patient), its lower border crossing the costophrenic region as in real radiographs.
    """
    thickness = patient.breast
    if thickness < 1.0:
        return
    cx, dome = patient.midline, 0.5 * (patient.right.dome + patient.left.dome)
    reach = max(patient.right.width, patient.left.width) + 10.0
    win = frame.window(cx - reach, cx + reach, dome - 95.0, dome + 45.0)
    if win is None:
        return
    half = 0.5 * (patient.right.width + patient.left.width)
    du = (np.abs(frame.u[win] - cx) - 0.62 * half) * (1.0 / (0.42 * half))
    dv = (frame.v[win] - dome + 20.0) * (1.0 / 62.0)
    inside = 1.0 - du * du - dv * dv
    projection[win] += (MU_SOFT * thickness) * np.sqrt(np.maximum(inside, 0.0))


@dataclass(frozen=True)
class Scene:
    """One image while it is rendered: the healthy chest's arrays, which findings then draw on in place.

    Attributes:
        frame: the pixel grid.
        body: soft-tissue thickness along the beam (mm), `(H, W)`.
        projection: line integral of attenuation `P`, `(H, W)`; findings add to it.
        bones: rib, clavicle and shoulder thickness along the beam (mm), `(H, W)`, added after the noise.
        lung_ramp: depth profile of the lung tissue, 0 outside it and 1 deep inside, `(H, W)`.
        lungs: each drawn side's hemithorax and its pixel window (rows, columns); every lung quantity is zero
            outside that window.
    """

    frame: Frame
    body: np.ndarray
    projection: np.ndarray
    bones: np.ndarray
    lung_ramp: np.ndarray
    lungs: tuple[tuple[Hemithorax, tuple[slice, slice]], ...]


def _add_lungs(frame: Frame, patient: Patient, body, projection, lung_ramp, masks, channel: dict[str, int]):
    """Add both lungs (air, vessels, hila) to `projection` and their depth to `lung_ramp`; return each lung's window.

    `masks` `(H, W, M)` gets those of the channels `right_lung`, `left_lung`, `pneumothorax`, `effusion` and `heart`
    that `channel` (name -> index) holds.
    """
    cx, u, v = patient.midline, frame.u, frame.v
    hilum_v = patient.carina + 28.0
    lungs = []
    for hemithorax in patient.sides:
        sign = hemithorax.sign
        # The hilum: pulmonary arteries and veins, a soft-tissue density where they enter the lung.
        hilum_u = cx + sign * hemithorax.hilum
        win = frame.window(hilum_u - 50.0, hilum_u + 50.0, hilum_v - 50.0, hilum_v + 50.0)
        if win is not None:
            du, dv = u[win] - hilum_u, v[win] - hilum_v
            projection[win] += (MU_SOFT * 26.0) * np.exp((du * du + dv * dv) * (-1.0 / (2.0 * 15.0 * 15.0)))
        # Every lung quantity is zero outside the lung field, which lies inside this window.
        q0, q1 = patient.mediastinum - 1.0, hemithorax.width + 1.0
        u0, u1 = sorted((cx + sign * q0, cx + sign * q1))
        win = frame.window(u0, u1, hemithorax.apex - 1.0, hemithorax.dome + max(hemithorax.costophrenic, 22.0) + 2.0)
        if win is None:
            continue
        uw, vw = u[win], v[win]
        q = (uw - cx) * sign
        margins = lung_margins(q, vw, uw, patient, hemithorax)
        ramp_air = ramp(margins.air_depth, LUNG_EDGE_MM)
        # The same profile for air and lung tissue, unless a pneumothorax separates them.
        ramp_lung = ramp_air if margins.lung is margins.air else ramp(margins.lung_depth, LUNG_EDGE_MM)
        local = (patient.lung_attenuation * ramp_lung - MU_SOFT * ramp_air) * (body[win] * patient.lung_depth)
        # Lung markings: vessel trees out of each hilum. Each generation of branches spans a doubling of the
        # distance r; within it every branch forks into two that diverge to the next generation's angles, and the
        # branches thin (and fade with depth overlap) toward the periphery.
        dq, dv = q - hemithorax.hilum, vw - hilum_v
        r = np.sqrt(dq * dq + dv * dv)
        np.maximum(r, 16.0, out=r)
        angle = np.arctan2(dv, dq)
        angle += 0.09 * np.sin(r * (1.0 / 21.0) + 3.0 * angle + patient.marking_phases[0])
        angle += 0.05 * np.sin(r * (1.0 / 8.0) + 5.0 * angle + patient.marking_phases[1])
        level = np.log2(r * (1.0 / 16.0))
        generation = np.floor(level)
        level -= generation
        cell = np.exp2(generation) * (6.0 / (2.0 * np.pi))
        x = angle * cell
        x -= np.floor(x)
        x -= 0.5
        distance = np.abs(np.abs(x) - 0.25 * level) * (r / cell)
        radius = 2.6 * np.exp2(-0.32 * (generation + level))
        vessels = 3.4 * chord(radius, distance) * np.exp(r * (-1.0 / 170.0))
        # The hilum is where the vessels enter the lung from the mediastinum: they run up, down and out of it, none
        # toward the midline, so the branches fade over a wedge that points medially.
        vessels *= clip((dq / r + 0.6) * 2.5, 0.0, 1.0)
        local += (MU_SOFT * patient.marking_strength) * vessels * ramp_lung
        projection[win] += local
        np.maximum(lung_ramp[win], ramp_lung, out=lung_ramp[win])
        aerated = margins.air > 0
        regions = {("left_lung" if hemithorax.side == LEFT else "right_lung"): aerated}
        if margins.lung is not margins.air:  # a pneumothorax on this side
            regions["pneumothorax"] = aerated & (margins.lung <= 0)
        if margins.air is not margins.thorax:  # pleural fluid on this side
            regions["effusion"] = (margins.thorax > 0) & ~aerated
        for name, region in regions.items():
            if name in channel:
                masks[win + (channel[name],)] |= region
        lungs.append((hemithorax, win))
    if "heart" in channel:
        heart = patient.heart
        hx, hy, reach = heart.center_x, heart.center_y, heart.major
        win = frame.window(hx - reach, hx + reach, hy - reach, hy + reach)
        if win is not None:
            du, dv = u[win] - hx, v[win] - hy
            hu = (du * heart.cos + dv * heart.sin) * (1.0 / heart.major)
            hv = (dv * heart.cos - du * heart.sin) * (1.0 / heart.minor)
            floor = heart.floor_y + heart.floor_slope * (du + (hx - heart.floor_x))
            masks[win + (channel["heart"],)] = (hu * hu + hv * hv <= 1.0) & (v[win] <= floor)
    return tuple(lungs)


def _add_midline(frame: Frame, patient: Patient, projection: np.ndarray) -> None:
    """Add the trachea and main bronchi (air), the spine (bone behind the mediastinum) and the gastric bubble."""
    cx, carina = patient.midline, patient.carina
    air = 0.85 * MU_SOFT
    win = frame.window(cx - 36.0, cx + 44.0, carina - 9.0, carina + 36.0)
    if win is not None:  # the main bronchi, drawn where they are not already part of the trachea
        u, v = frame.u[win], frame.v[win]
        trachea = chord(8.5, u - cx) * (v < carina)
        right = chord(6.5, segment_distance(u, v, cx, carina, cx - 24.0, carina + 26.0))
        left = chord(6.0, segment_distance(u, v, cx, carina, cx + 32.0, carina + 22.0))
        projection[win] -= air * np.maximum(np.maximum(right, left) - trachea, 0.0)
    win = frame.window(cx - 20.0, cx + 20.0, -200.0, BODY_BOTTOM_MM)
    if win is not None:
        u, v = frame.u[win], frame.v[win]
        discs = 0.82 + 0.18 * np.cos((v - patient.rib_first) * (2.0 * np.pi / (1.25 * patient.rib_step)))
        du = u - cx
        spine = ((MU_BONE - MU_SOFT) * 0.35) * chord(19.0, du) * discs
        spine -= air * chord(8.5, du) * (v < carina)  # the trachea, in front of the spine down to the carina
        projection[win] += spine
    bu, bv = cx + 0.5 * patient.left.width, patient.left.dome + 24.0
    win = frame.window(bu - 31.0, bu + 31.0, bv - 17.0, bv + 17.0)
    if win is not None:
        du, dv = (frame.u[win] - bu) * (1.0 / 30.0), (frame.v[win] - bv) * (1.0 / 16.0)
        projection[win] -= (0.7 * MU_SOFT * 32.0) * np.sqrt(np.maximum(1.0 - du * du - dv * dv, 0.0))


def render_anatomy(
    frame: Frame,
    patient: Patient,
    arm_gap: float,
    arms_raised: bool,
    masks: np.ndarray,
    channel: dict[str, int],
) -> Scene:
    """Render the chest without findings: soft tissue, lungs and mediastinum into `P`, bones into their own array.

    Args:
        frame: the image's pixel grid.
        patient: the anatomy as this study shows it.
        arm_gap: distance of the arms from the chest wall (mm).
        arms_raised: True when the arms (and shoulder blades) are raised out of the field.
        masks: `(H, W, M)` uint8, zero on entry; gets the lung, pneumothorax, effusion and heart channels named in
            `channel` (name -> channel index).

    Returns:
        The `Scene` the findings draw on.
    """
    body = _body(frame, patient, arm_gap, arms_raised)
    projection = MU_SOFT * body
    _add_breasts(frame, patient, projection)
    bones = np.zeros_like(body)
    _add_ribs_and_clavicles(frame, patient, bones)
    if not arms_raised:
        _add_shoulders(frame, patient, arm_gap, bones)
    lung_ramp = np.zeros_like(frame.u)
    lungs = _add_lungs(frame, patient, body, projection, lung_ramp, masks, channel)
    _add_midline(frame, patient, projection)
    return Scene(frame=frame, body=body, projection=projection, bones=bones, lung_ramp=lung_ramp, lungs=lungs)
