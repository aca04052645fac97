"""Synthetic PA chest radiographs that know their ground truth, for every task of the lecture.

The phantom is rendered as X-ray physics, not as flat shapes. Anatomy is sampled in millimetres over a square
field of view (`FIELD_OF_VIEW_MM`), then every pixel receives the line integral of linear attenuation along the
beam, `P = sum(mu * thickness)`, from closed-form chord lengths of elliptic cylinders, ellipsoids and tubes:
a body outline, two air-filled lungs, the mediastinum and heart, diaphragm domes (the right one higher), the spine,
posterior and anterior rib arcs, clavicles, trachea and main bronchi, hilar vessels and lung markings. The detector
sees `I = exp(-P)` with Poisson quantum noise; the log transform gives back `P` plus noise, which is blurred
(detector unsharpness) and windowed with an S-shaped film curve into the display convention (bone bright, air dark).

Each patient has one anatomy (size, lung shape, heart size, diaphragm levels, rotation); a patient's studies
(follow-ups) share it, with small changes of pose and exposure, and their findings may differ. All parameters
are drawn before rasterization from per-patient and per-image random streams of `numpy.random.SeedSequence`,
so the same seed gives the same anatomy and findings at 64, 128, 256 or 512 pixels, and the same arguments give
bit-identical arrays.

Ground truth, exact by construction: labels over the slide's 15 codes; masks (`MASK_NAMES`) thresholded from the
same functions that render the image; lesion boxes drawn around each lesion's own mask; named landmarks
(`LANDMARK_NAMES`) from which the cardiothoracic ratio follows; a `bone_free` twin rendered with the same noise.

Example:
    >>> from lecture_lib.datasets import phantom
    >>> data = phantom.generate(8, image_size=128, seed=0, findings=["Cardiomegaly"])
    >>> data.labels[:, 1].tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from lecture_lib.datasets.schema import PAD, CXRSet
from lecture_lib.labels import FINDINGS, NO_FINDING, NUM_PATHOLOGIES, PATHOLOGIES, code_of

FIELD_OF_VIEW_MM = 380.0
"""Side of the square detector field in mm (real detectors are about 35 x 43 cm)."""

MU_SOFT = 0.020
"""Linear attenuation of soft tissue and blood at about 60 keV, per mm (0.2 /cm)."""
MU_LUNG = 0.005
"""Inflated lung, per mm (0.05 /cm)."""
MU_BONE = 0.050
"""Bone, per mm (0.5 /cm)."""

MASK_NAMES: tuple[str, ...] = (
    "right_lung",
    "left_lung",
    "heart",
    "pneumothorax",
    "effusion",
    "nodule",
    "mass",
    "consolidation",
    "pneumonia",
)
"""Mask channels `generate` can return. Lungs are the air-filled lung fields (pneumothorax included, pleural fluid
excluded); the heart is the cardiac silhouette; lesion channels hold every lesion of that kind."""

LANDMARK_NAMES: tuple[str, ...] = (
    "carina",
    "right_apex",
    "left_apex",
    "right_thorax",
    "left_thorax",
    "right_heart",
    "left_heart",
    "right_costophrenic",
    "left_costophrenic",
    "right_dome",
    "left_dome",
)
"""Landmarks in `(x, y)` pixels. `*_thorax` are the widest inner thoracic borders and `*_heart` the widest heart
borders, so `CTR = (x[left_heart] - x[right_heart]) / (x[left_thorax] - x[right_thorax])`."""

BOX_FINDINGS: tuple[str, ...] = ("Nodule", "Mass", "Pneumonia", "Consolidation")
"""Findings that get bounding boxes (class = slide code) and a mask channel."""

DEFAULT_PREVALENCE: dict[str, float] = {
    "Atelectasis": 0.10,
    "Cardiomegaly": 0.12,
    "Consolidation": 0.07,
    "Edema": 0.05,
    "Effusion": 0.14,
    "Emphysema": 0.05,
    "Fibrosis": 0.04,
    "Hernia": 0.02,
    "Infiltration": 0.14,
    "Mass": 0.06,
    "Nodule": 0.09,
    "Pleural_Thickening": 0.05,
    "Pneumonia": 0.06,
    "Pneumothorax": 0.08,
}
"""Default probability of each finding per image: imbalanced in NIH ChestX-ray14's order of frequency, but about
2-3 times NIH's rates so that a few thousand images hold enough positives of every finding to learn from."""

NIH_PREVALENCE: dict[str, float] = {
    "Atelectasis": 0.103,
    "Cardiomegaly": 0.025,
    "Consolidation": 0.042,
    "Edema": 0.021,
    "Effusion": 0.119,
    "Emphysema": 0.022,
    "Fibrosis": 0.015,
    "Hernia": 0.002,
    "Infiltration": 0.177,
    "Mass": 0.052,
    "Nodule": 0.056,
    "Pleural_Thickening": 0.030,
    "Pneumonia": 0.013,
    "Pneumothorax": 0.047,
}
"""Per-image prevalence of each finding in NIH ChestX-ray14 (112,120 images), for realistic imbalance."""

CHRONIC_FINDINGS = frozenset({"Cardiomegaly", "Emphysema", "Fibrosis", "Hernia", "Pleural_Thickening"})
"""Findings drawn once per patient and kept in all of the patient's studies; the others are drawn per study."""

_CHUNK_PIXELS = 1 << 19
_RIGHT, _LEFT = 0, 1


def cardiothoracic_ratio(landmarks, landmark_names: Sequence[str] = LANDMARK_NAMES) -> np.ndarray:
    """Compute the cardiothoracic ratio from landmarks: widest heart width over widest inner thoracic width.

    Args:
        landmarks: `(K, 2)` or `(N, K, 2)` `(x, y)` points.
        landmark_names: the `K` names; must include `right_heart`, `left_heart`, `right_thorax`, `left_thorax`.

    Returns:
        The ratio, a float32 scalar array or `(N,)` array; above 0.5 means cardiomegaly.

    Raises:
        ValueError: if a needed landmark name is missing.
    """
    points = np.asarray(landmarks, dtype=np.float32)
    names = list(landmark_names)
    needed = ("right_heart", "left_heart", "right_thorax", "left_thorax")
    missing = [name for name in needed if name not in names]
    if missing:
        raise ValueError(f"cardiothoracic_ratio needs landmarks {list(needed)}, missing {missing} in {names}")
    x = points[..., 0]
    rh, lh, rt, lt = (x[..., names.index(name)] for name in needed)
    return np.abs(lh - rh) / np.abs(lt - rt)


def _chord(radius, distance):
    """Thickness along the beam of a sphere or cylinder of `radius` at `distance` from its centre (axis)."""
    return 2.0 * np.sqrt(np.maximum(radius * radius - distance * distance, 0.0))


def _ramp(margin, depth):
    """Depth profile near a rounded surface: 0 at the edge, 1 deeper than `depth` mm (a circular cross-section)."""
    z = np.clip(margin / depth, 0.0, 1.0)
    return np.sqrt(z * (2.0 - z))


# ---------------------------------------------------------------------------------------------------------------
# Sampling: every parameter in mm, before any pixel exists.


def _sample_patient(rng: np.random.Generator) -> dict:
    scale = rng.uniform(0.9, 1.06)
    width = 150.0 * scale
    apex = rng.normal(60.0, 4.0)
    height = rng.uniform(178.0, 200.0) * scale
    dome_r = apex + height
    return {
        "cx": FIELD_OF_VIEW_MM / 2 + rng.normal(0.0, 3.0),
        "W_r": width * (1 + rng.normal(0, 0.02)),
        "W_l": width * (1 + rng.normal(0, 0.02)),
        "apex_r": apex + rng.normal(0, 2.0),
        "apex_l": apex + rng.normal(0, 2.0),
        "dome_r": dome_r,
        "dome_l": dome_r + rng.uniform(10.0, 30.0),
        "cp_r": rng.uniform(32.0, 50.0),
        "cp_l": rng.uniform(32.0, 50.0),
        "M0": rng.uniform(24.0, 31.0) * scale,
        "knob": rng.uniform(8.0, 16.0),
        "body_depth": rng.uniform(95.0, 118.0) * scale,
        "body_extra": rng.uniform(22.0, 34.0),
        "ctr": rng.uniform(0.38, 0.47),
        "heart_tilt": math.radians(rng.uniform(30.0, 45.0)),
        "heart_ratio": rng.uniform(0.70, 0.82),
        "rib_first": apex + rng.normal(-6.0, 2.0),
        "rib_step": rng.uniform(17.5, 20.0) * scale,
        "rib_growth": rng.uniform(0.15, 0.45),
        "rib_rise": rng.uniform(0.25, 0.4),
        "rib_drop": rng.uniform(50.0, 68.0),
        "ant_slope": rng.uniform(0.38, 0.55),
        "clav_med": apex + rng.uniform(18.0, 30.0),
        "clav_lat": apex + rng.uniform(-12.0, 2.0),
        "carina": apex + rng.uniform(70.0, 85.0),
        "mark_phase": rng.uniform(0, 2 * math.pi),
        "mark_phase2": rng.uniform(0, 2 * math.pi),
        "rotation": math.radians(rng.normal(0.0, 1.2)),
        "fluid_r": 1e4,
        "fluid_l": 1e4,
    }


def _resolve_prevalence(prevalence) -> dict[str, float]:
    if prevalence is None:
        return dict(DEFAULT_PREVALENCE)
    if not isinstance(prevalence, Mapping):
        raise TypeError(f"prevalence must be a dict finding -> probability, got {type(prevalence).__name__}")
    result = dict(DEFAULT_PREVALENCE)
    for name, value in prevalence.items():
        title = PATHOLOGIES[code_of(name)]
        if title == PATHOLOGIES[NO_FINDING]:
            raise ValueError("prevalence cannot set 'No Finding'; it follows from the other findings")
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"prevalence[{name!r}] is {value}, expected a probability in [0, 1]")
        result[title] = float(value)
    return result


def _resolve_findings(findings, num_images: int) -> list[frozenset[str]] | None:
    if findings is None:
        return None
    if isinstance(findings, str):
        findings = [findings]
    findings = list(findings)
    per_image = bool(findings) and not isinstance(findings[0], str)
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
        titles = {PATHOLOGIES[code_of(name)] for name in row} - {PATHOLOGIES[NO_FINDING]}
        resolved.append(frozenset(titles))
    return resolved


def _place(rng, p, side: int, radius: float, tries: int = 64, zone=(0.0, 1.0)):
    """Draw a centre inside one lung, at least `radius` (plus a rim) from the lung border; None if it does not fit."""
    cx, width = p["cx"], p["W_l" if side == _LEFT else "W_r"]
    apex, dome = p["apex_l" if side == _LEFT else "apex_r"], p["dome_l" if side == _LEFT else "dome_r"]
    q = rng.uniform(0.2, 1.0, tries) * width
    v = apex + (zone[0] + (zone[1] - zone[0]) * rng.uniform(0, 1, tries)) * (dome + 30 - apex)
    u = cx + q if side == _LEFT else cx - q
    geo = _geometry(u, v, p)
    ok = np.flatnonzero(geo["m_col"] > radius + 4.0)
    if ok.size == 0:
        return None
    return float(u[ok[0]]), float(v[ok[0]])


def _sample_study(rng: np.random.Generator, patient: dict, titles: frozenset[str]) -> dict:
    """Draw one study's pose, exposure and findings on top of the patient's anatomy."""
    p = dict(patient)
    p["titles"] = titles
    p["rotation"] = patient["rotation"] + math.radians(rng.normal(0.0, 0.6))
    p["shift_x"], p["shift_y"] = rng.normal(0.0, 4.0, 2)
    p["window_center"] = rng.normal(2.9, 0.08)
    p["window_width"] = rng.normal(1.5, 0.06)
    p["photons"] = 2.0e4 * rng.uniform(0.5, 2.0)
    p["mu_lung"] = MU_LUNG
    p["markings"] = 1.0
    for key in ("ptx_r", "ptx_l", "pt_r", "pt_l", "pt_v_r", "pt_v_l"):
        p[key] = 0.0
    p["lesions"] = []
    p["opacities"] = []
    if "Cardiomegaly" in titles:
        p["ctr"] = rng.uniform(0.54, 0.68)
    if "Emphysema" in titles:
        p["dome_r"] += rng.uniform(18.0, 30.0)
        p["dome_l"] = p["dome_r"] + rng.uniform(5.0, 12.0)
        p["cp_r"] *= 0.55
        p["cp_l"] *= 0.55
        p["mu_lung"] = MU_LUNG * 0.45
        p["markings"] = 0.45
        p["ctr"] = min(p["ctr"], 0.44) if "Cardiomegaly" not in titles else p["ctr"]
    if "Fibrosis" in titles:
        p["dome_r"] -= 8.0
        p["dome_l"] -= 8.0
        p["opacities"].append(("fibrosis", {"phase": rng.uniform(0, 2 * math.pi), "period": rng.uniform(9, 12)}))
    if "Atelectasis" in titles:
        side = int(rng.integers(2))
        key = "dome_l" if side == _LEFT else "dome_r"
        p[key] -= rng.uniform(16.0, 26.0)
        p["cx"] += (1 if side == _LEFT else -1) * rng.uniform(3.0, 7.0)
        p["opacities"].append(
            ("atelectasis", {"side": side, "level": rng.uniform(0.55, 0.75), "tilt": rng.normal(0, 0.1)})
        )
    if "Pleural_Thickening" in titles:
        side = int(rng.integers(2))
        suffix = "_l" if side == _LEFT else "_r"
        p["pt" + suffix] = rng.uniform(7.0, 13.0)
        p["pt_v" + suffix] = rng.uniform(0.35, 0.75)
    if "Pneumothorax" in titles:
        side = int(rng.integers(2))
        p["ptx_l" if side == _LEFT else "ptx_r"] = rng.uniform(14.0, 35.0)
    if "Effusion" in titles:
        sides = [int(rng.integers(2))] if rng.uniform() < 0.75 else [_RIGHT, _LEFT]
        for side in sides:
            suffix = "_l" if side == _LEFT else "_r"
            cp = p["dome" + suffix] + p["cp" + suffix]
            p["fluid" + suffix] = cp - rng.uniform(22.0, 55.0)
        p["meniscus"] = rng.uniform(18.0, 30.0)
    p.setdefault("meniscus", 20.0)
    if "Edema" in titles:
        p["opacities"].append(("edema", {"strength": rng.uniform(0.45, 0.7)}))
    if "Infiltration" in titles:
        count = int(rng.integers(8, 16))
        side_u = rng.uniform(0.25, 0.95, count) * np.where(rng.uniform(size=count) < 0.5, -1, 1)
        p["opacities"].append(
            (
                "infiltration",
                {"q": side_u, "t": rng.uniform(0.25, 0.95, count), "size": rng.uniform(7, 13, count)},
            )
        )
    if "Hernia" in titles:
        p["opacities"].append(
            ("hernia", {"rx": rng.uniform(22, 32), "ry": rng.uniform(16, 24), "level": rng.uniform(0.3, 0.5)})
        )
    p["heart"] = _heart_geometry(p)
    _sample_lesions(rng, p, titles)
    return p


def _sample_lesions(rng, p, titles):
    if "Nodule" in titles:
        count = 1 + int(rng.uniform() < 0.3) + int(rng.uniform() < 0.1)
        for _ in range(count):
            radius = rng.uniform(5.0, 14.0)
            center = _place(rng, p, int(rng.integers(2)), radius)
            if center is not None:
                p["lesions"].append(
                    (
                        "Nodule",
                        {
                            "center": center,
                            "radius": radius,
                            "lobes": rng.uniform(0, 0.05, 3),
                            "phase": rng.uniform(0, 6.3, 3),
                        },
                    )
                )
    if "Mass" in titles:
        for radius in (rng.uniform(16.0, 30.0), 16.0):
            center = _place(rng, p, int(rng.integers(2)), radius * 1.15)
            if center is not None:
                lobes = rng.uniform(0.03, 0.12, 3)
                p["lesions"].append(
                    ("Mass", {"center": center, "radius": radius, "lobes": lobes, "phase": rng.uniform(0, 6.3, 3)})
                )
                break
    for title in ("Pneumonia", "Consolidation"):
        if title not in titles:
            continue
        sides = [int(rng.integers(2))] if rng.uniform() < 0.8 else [_RIGHT, _LEFT]
        for side in sides:
            upper = rng.uniform() < 0.35
            center = _place(rng, p, side, 14.0, zone=(0.1, 0.5) if upper else (0.45, 0.9))
            if center is None:
                continue
            if title == "Pneumonia":
                count = int(rng.integers(4, 8))
                spec = {
                    "center": center,
                    "offsets": rng.normal(0.0, 16.0, (count, 2)),
                    "sizes": rng.uniform(7.0, 13.0, count),
                    "side": side,
                }
            else:
                spec = {
                    "center": center,
                    "radii": (rng.uniform(30.0, 45.0), rng.uniform(22.0, 34.0)),
                    "fissure": rng.normal(0.0, 0.12),
                    "upper": upper,
                    "side": side,
                    "phase": rng.uniform(0, 6.3),
                }
            p["lesions"].append((title, spec))


def _heart_geometry(p) -> dict:
    thorax = p["W_r"] + p["W_l"]
    half_width = 0.5 * p["ctr"] * thorax
    tilt, ratio = p["heart_tilt"], p["heart_ratio"]
    cos, sin = math.cos(tilt), math.sin(tilt)
    major = half_width / math.sqrt(cos * cos + ratio * ratio * sin * sin)
    minor = ratio * major
    # The widest points of a tilted ellipse: x = centre +- half_width, y = centre +- drop.
    drop = sin * cos * (major * major - minor * minor) / half_width
    center_x = p["cx"] + p["ctr"] * thorax / 6.0
    center_y = p["dome_l"] - 6.0 - drop
    return {
        "hx": center_x,
        "hy": center_y,
        "ha": major,
        "hb": minor,
        "cos": cos,
        "sin": sin,
        "drop": drop,
        "half": half_width,
    }


# ---------------------------------------------------------------------------------------------------------------
# Geometry shared by the renderer, the masks and lesion placement.


def _geometry(u, v, p) -> dict:
    """Signed margins (mm, positive inside) of the lung fields at anatomical points `(u, v)`."""
    left = u > p["cx"]
    left_f = left.astype(u.dtype)

    def side(name):
        return p[name + "_r"] + (p[name + "_l"] - p[name + "_r"]) * left_f

    q = np.abs(u - p["cx"])
    width, apex, dome, cp = side("W"), side("apex"), side("dome"), side("cp")
    widest = p["dome_r"] - 15.0
    q_apex = 0.45 * width
    a = (q_apex - p["M0"]) + (width - 2.0 * q_apex + p["M0"]) * (q > q_apex)
    b = widest - apex
    dv = np.minimum(v - widest, 0.0) / b
    dq = (q - q_apex) / a
    m_wall = (1.0 - np.sqrt(dq * dq + dv * dv)) * a
    thickening = side("pt")
    if np.any(thickening):
        level = apex + side("pt_v") * (dome - apex)
        m_wall = m_wall - thickening * np.exp(-(((v - level) / 45.0) ** 2))
    q_dome = 0.5 * width
    dd = q - q_dome
    medial = 22.0 / (q_dome * q_dome)
    curve = medial + (cp / ((width - q_dome) * (width - q_dome)) - medial) * (dd > 0)
    m_dome = (dome + curve * dd * dd - v) * 0.85
    knob = p["knob"] * np.exp(-(((v - p["carina"] + 12.0) / 16.0) ** 2))
    m_med = q - p["M0"] - knob * left_f
    heart = p["heart"]
    du, dvh = u - heart["hx"], v - heart["hy"]
    hu = (du * heart["cos"] + dvh * heart["sin"]) / heart["ha"]
    hv = (dvh * heart["cos"] - du * heart["sin"]) / heart["hb"]
    rho = np.sqrt(hu * hu + hv * hv)
    m_heart = (rho - 1.0) * heart["hb"]
    m_hemi = np.minimum(np.minimum(m_wall, m_dome), np.minimum(m_med, m_heart))
    frac = np.clip((q - p["M0"]) / (width - p["M0"]), 0.0, 1.0)
    m_fluid = (side("fluid") - p["meniscus"] * frac * frac - v) * 0.85
    m_air = np.minimum(m_hemi, m_fluid)
    gap = side("ptx")
    if np.any(gap):
        lateral = np.clip((q - 0.25 * width) / (0.35 * width), 0.0, 1.0)
        apical = np.clip((apex + 0.45 * b - v) / (0.3 * b), 0.0, 1.0)
        m_col = np.minimum(m_air, m_wall - gap * np.maximum(lateral, apical))
    else:
        m_col = m_air
    return {
        "left": left,
        "left_f": left_f,
        "q": q,
        "width": width,
        "m_hemi": m_hemi,
        "m_air": m_air,
        "m_col": m_col,
        "rho": rho,
    }


def _segment_distance(u, v, x0, y0, x1, y1):
    """Distance from points `(u, v)` to the segment `(x0, y0)-(x1, y1)`."""
    ex, ey = x1 - x0, y1 - y0
    t = np.clip(((u - x0) * ex + (v - y0) * ey) / (ex * ex + ey * ey), 0.0, 1.0)
    du, dv = u - x0 - t * ex, v - y0 - t * ey
    return np.sqrt(du * du + dv * dv)


def _rib_index(t, p):
    """Continuous rib number of a rib-aligned height `t`: rib `i` runs at `first + step*i + growth*i**2`."""
    step, growth = p["rib_step"], p["rib_growth"]
    index = (np.sqrt(np.maximum(step * step + 4.0 * growth * (t - p["rib_first"]), 0.0)) - step) / (2.0 * growth)
    nearest = np.clip(np.round(index), 0.0, 11.0)
    center = p["rib_first"] + step * nearest + growth * nearest * nearest
    return index, nearest, center, step + 2.0 * growth * nearest


def _bones(u, v, geo, p):
    """Bone thickness (mm) of ribs and clavicles, the part that the bone-free twin leaves out."""
    q, width = geo["q"], geo["width"]
    # Posterior arcs rise briefly from the spine, then curve down toward the lateral chest wall.
    k = (p["rib_drop"] + p["rib_rise"] * width) / (width * width)
    slope = 2.0 * k * q - p["rib_rise"]
    index, nearest, center, spacing = _rib_index(v - (k * q - p["rib_rise"]) * q, p)
    distance = (v - (k * q - p["rib_rise"]) * q - center) / np.sqrt(1.0 + slope * slope)
    radius = 0.31 * spacing
    posterior = _chord(radius, distance) - 0.6 * _chord(0.62 * radius, distance)
    posterior *= np.clip((width + 7.0 - q) / 7.0, 0.0, 1.0) * np.clip((q - 14.0) / 5.0, 0.0, 1.0)
    posterior *= (index > -0.5) & (index < 11.5)
    # Anterior arcs start at the lateral end of the same rib and slope down medially; fainter, thinner bone.
    lateral = width - q
    h = p["rib_drop"] + p["ant_slope"] * lateral + 0.0012 * lateral * lateral
    index, nearest, center, spacing = _rib_index(v - h, p)
    slope = p["ant_slope"] + 0.0024 * lateral
    distance = (v - h - center) / np.sqrt(1.0 + slope * slope)
    radius = 0.34 * spacing
    anterior = 0.3 * (_chord(radius, distance) - 0.5 * _chord(0.6 * radius, distance))
    anterior *= np.clip((q - 0.32 * width) / 12.0, 0.0, 1.0) * np.clip((width + 3.0 - q) / 6.0, 0.0, 1.0)
    anterior *= (index > -0.5) & (index < 9.5)
    # Clavicles: S-shaped, from the sternal end near the spine to the acromion, crossing the apices.
    f = np.clip((q - 18.0) / 150.0, 0.0, 1.0)
    y = p["clav_med"] + (p["clav_lat"] - p["clav_med"]) * f + 6.0 * np.sin(2.0 * np.pi * f)
    clavicle = (_chord(8.0, v - y) - 0.45 * _chord(5.0, v - y)) * np.clip((q - 16.0) / 6.0, 0.0, 1.0)
    clavicle *= np.clip((172.0 - q) / 8.0, 0.0, 1.0)
    return posterior + anterior + clavicle


def _render_anatomy(u, v, p):
    """Projection `P` (without ribs and clavicles), bone thickness and the geometry, for a chunk of images."""
    geo = _geometry(u, v, p)
    q = geo["q"]
    apex = 0.5 * (p["apex_r"] + p["apex_l"])
    shoulders = np.clip((v - apex + 55.0) / 60.0, 0.0, 1.0)
    shoulders = shoulders * shoulders * (3.0 - 2.0 * shoulders)
    half = 64.0 + (0.5 * (p["W_r"] + p["W_l"]) + p["body_extra"] - 64.0) * shoulders
    body = 2.0 * p["body_depth"] * (0.55 + 0.45 * shoulders) * np.sqrt(np.maximum(1.0 - (q / half) ** 2, 0.0))
    air_fraction = 0.72
    ramp_air, ramp_col = _ramp(geo["m_air"], 14.0), _ramp(geo["m_col"], 14.0)
    projection = MU_SOFT * body * (1.0 - air_fraction * ramp_air) + p["mu_lung"] * air_fraction * body * ramp_col
    # Lung markings: vessels fanning out of each hilum, thinning toward the periphery.
    hilum_v = p["carina"] + 28.0
    dq, dv = q - 54.0 - 6.0 * geo["left_f"], v - hilum_v
    r = np.sqrt(dq * dq + dv * dv)
    angle = np.arctan2(dv, dq)
    c1 = np.cos(9.0 * angle + 0.4 * np.sin(r / 17.0 + p["mark_phase"]))
    c2 = np.cos(15.0 * angle + 0.6 * np.sin(r / 11.0 + p["mark_phase2"]))
    c1, c2 = c1 * c1, c2 * c2
    c1, c2 = c1 * c1, c2 * c2
    vessels = (6.0 * c1 * c1 + 3.5 * c2 * c2 * np.clip(r / 45.0, 0.0, 1.0)) * np.exp(-r / 95.0)
    projection += MU_SOFT * p["markings"] * vessels * ramp_col
    projection += MU_SOFT * 26.0 * np.exp(-(dq * dq + dv * dv) / (2.0 * 15.0 * 15.0))
    # Trachea and main bronchi: an air column down the midline, splitting at the carina.
    du = u - p["cx"]
    trachea = _chord(8.5, du) * (v < p["carina"])
    right = _chord(6.5, _segment_distance(u, v, p["cx"], p["carina"], p["cx"] - 24.0, p["carina"] + 26.0))
    left_b = _chord(6.0, _segment_distance(u, v, p["cx"], p["carina"], p["cx"] + 32.0, p["carina"] + 22.0))
    projection -= 0.85 * MU_SOFT * np.maximum(np.maximum(trachea, right), left_b)
    # Spine: vertebral bodies behind the mediastinum, with fainter discs between them.
    discs = 0.82 + 0.18 * np.cos(2.0 * np.pi * (v - p["rib_first"]) / (1.25 * p["rib_step"]))
    projection += (MU_BONE - MU_SOFT) * 0.35 * _chord(19.0, du) * discs
    # Gastric air bubble under the left dome.
    bu, bv = (u - p["cx"] - 0.5 * p["W_l"]) / 30.0, (v - p["dome_l"] - 24.0) / 16.0
    projection -= 0.7 * MU_SOFT * 16.0 * np.sqrt(np.maximum(1.0 - bu * bu - bv * bv, 0.0)) * 2.0
    bones = _bones(u, v, geo, p)
    return projection, bones, geo, body, ramp_col


def _airspace(opacity, body, ramp_col, p, strength):
    """Projection added when a fraction `opacity` of the aerated lung fills with fluid or cells."""
    return (MU_SOFT - p["mu_lung"]) * 0.72 * body * ramp_col * opacity * strength


def _render_findings(u, v, geo, body, ramp_col, p):
    """Projection of one image's findings plus each box lesion's own mask, `[(title, mask), ...]`."""
    extra = np.zeros_like(u)
    lung = geo["m_col"] > 0
    lesions = []
    q, left = geo["q"], geo["left"]
    hilum_v = p["carina"] + 28.0
    for kind, spec in p["opacities"]:
        if kind == "edema":
            dq = q - np.where(left, 60.0, 54.0)
            haze = spec["strength"] * np.exp(-(dq * dq + (v - hilum_v) ** 2) / (2.0 * 48.0**2))
            dome = np.where(left, p["dome_l"], p["dome_r"])
            kerley = np.cos(np.pi * v / 5.0) ** 16 * np.clip((q - geo["width"] + 26.0) / 8.0, 0.0, 1.0)
            kerley *= np.clip((v - dome + 70.0) / 20.0, 0.0, 1.0)
            extra += _airspace(haze, body, ramp_col, p, 0.6) + MU_SOFT * 14.0 * kerley * lung
        elif kind == "infiltration":
            blobs = np.zeros_like(u)
            for signed_q, t, size in zip(spec["q"], spec["t"], spec["size"], strict=True):
                side = "_l" if signed_q > 0 else "_r"
                cu = p["cx"] + signed_q * p["W" + side]
                cv = p["apex" + side] + t * (p["dome" + side] - p["apex" + side])
                blobs += np.exp(-((u - cu) ** 2 + (v - cv) ** 2) / (2.0 * size * size))
            extra += _airspace(np.minimum(blobs, 1.0), body, ramp_col, p, 0.35)
        elif kind == "fibrosis":
            p1, p2 = 0.8 * u + 0.6 * v, 0.8 * v - 0.6 * u
            period = spec["period"]
            net = np.abs(np.cos(np.pi * p1 / period + 0.9 * np.sin(p2 / 13.0 + spec["phase"]))) ** 8
            net += np.abs(np.cos(np.pi * p2 / period + 0.9 * np.sin(p1 / 17.0))) ** 8
            apex = np.where(left, p["apex_l"], p["apex_r"])
            dome = np.where(left, p["dome_l"], p["dome_r"])
            zone = np.clip((v - apex - 0.4 * (dome - apex)) / 60.0, 0.0, 1.0) * np.clip(q / geo["width"], 0.3, 1.0)
            extra += MU_SOFT * 9.0 * net * zone * ramp_col + _airspace(0.25 * zone, body, ramp_col, p, 1.0)
        elif kind == "atelectasis":
            side = spec["side"]
            suffix = "_l" if side == _LEFT else "_r"
            mine = left if side == _LEFT else ~left
            line = p["apex" + suffix] + spec["level"] * (p["dome" + suffix] - p["apex" + suffix])
            line = line + spec["tilt"] * (q - 0.5 * geo["width"])
            band = np.exp(-(((v - line) / 3.5) ** 2)) * np.clip((q - 0.3 * geo["width"]) / 10.0, 0.0, 1.0)
            below = np.clip((v - line) / 15.0, 0.0, 1.0)
            extra += (MU_SOFT * 10.0 * band * ramp_col + _airspace(0.35 * below, body, ramp_col, p, 1.0)) * mine
        elif kind == "hernia":
            cv = p["dome_l"] - spec["level"] * spec["ry"] - 8.0
            hu, hv = (u - p["cx"] - 14.0) / spec["rx"], (v - cv) / spec["ry"]
            inside = np.sqrt(np.maximum(1.0 - hu * hu - hv * hv, 0.0)) * 2.0 * spec["ry"]
            fluid = v > cv + 0.15 * spec["ry"]
            extra += np.where(fluid, 0.45, -0.75) * MU_SOFT * inside
    for title, spec in p["lesions"]:
        cu, cv = spec["center"]
        du, dv = u - cu, v - cv
        if title in ("Nodule", "Mass"):
            angle = np.arctan2(dv, du)
            radius = spec["radius"] * (
                1.0
                + sum(
                    a * np.sin((k + 2) * angle + ph)
                    for k, (a, ph) in enumerate(zip(spec["lobes"], spec["phase"], strict=True))
                )
            )
            distance = np.sqrt(du * du + dv * dv)
            density = 1.6 if title == "Nodule" else 1.1
            extra += (MU_SOFT - p["mu_lung"]) * density * _chord(radius, distance)
            lesions.append((title, distance < radius))
        elif title == "Pneumonia":
            blobs = np.zeros_like(u)
            for (ou, ov), size in zip(spec["offsets"], spec["sizes"], strict=True):
                blobs += np.exp(-((du - ou) ** 2 + (dv - ov) ** 2) / (2.0 * size * size))
            patchy = np.clip(1.5 * blobs - 0.25, 0.0, 1.0) * (0.8 + 0.2 * np.cos(u / 4.1) * np.cos(v / 3.3))
            patchy *= lung * (left if spec["side"] == _LEFT else ~left)
            extra += _airspace(patchy, body, ramp_col, p, 0.7)
            lesions.append((title, patchy > 0.3))
        else:
            ra, rb = spec["radii"]
            ellipse = 1.0 - np.sqrt((du / ra) ** 2 + (dv / rb) ** 2)
            dense = np.clip(4.0 * ellipse, 0.0, 1.0)
            fissure = cv + (0.45 * rb if spec["upper"] else -0.45 * rb) + spec["fissure"] * du
            dense *= (v < fissure) if spec["upper"] else (v > fissure)
            dense *= lung * (left if spec["side"] == _LEFT else ~left)
            dq = q - np.where(left, 60.0, 54.0)
            bronchi = np.cos(11.0 * np.arctan2(v - hilum_v, dq) + spec["phase"]) ** 2
            bronchi = bronchi**8 * np.clip(ellipse * 3.0, 0.0, 1.0)
            extra += _airspace(dense * (1.0 - 0.55 * bronchi), body, ramp_col, p, 0.9)
            lesions.append((title, dense > 0.5))
    return extra, lesions


def _blur(images, sigma):
    """Separable Gaussian blur along the last two axes (edges replicated); `sigma` in pixels."""
    radius = max(1, int(math.ceil(2.5 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / max(sigma, 1e-3)) ** 2).astype(np.float32)
    taps /= taps.sum()
    for axis in (-1, -2):
        pad = [(0, 0)] * images.ndim
        pad[axis] = (radius, radius)
        padded = np.pad(images, pad, mode="edge")
        length = images.shape[axis]
        out = taps[0] * np.take(padded, np.arange(0, length), axis=axis)
        for k in range(1, taps.size):
            out += taps[k] * np.take(padded, np.arange(k, k + length), axis=axis)
        images = out
    return images


def _landmarks(p, spacing):
    """Named landmarks in pixels `(x, y)` of one image, in `LANDMARK_NAMES` order."""
    cx, heart = p["cx"], p["heart"]
    widest = p["dome_r"] - 15.0
    anatomical = np.array(
        [
            (cx, p["carina"]),
            (cx - 0.45 * p["W_r"], p["apex_r"]),
            (cx + 0.45 * p["W_l"], p["apex_l"]),
            (cx - p["W_r"], widest),
            (cx + p["W_l"], widest),
            (heart["hx"] - heart["half"], heart["hy"] - heart["drop"]),
            (heart["hx"] + heart["half"], heart["hy"] + heart["drop"]),
            (cx - p["W_r"], p["dome_r"] + p["cp_r"]),
            (cx + p["W_l"], p["dome_l"] + p["cp_l"]),
            (cx - 0.5 * p["W_r"], p["dome_r"]),
            (cx + 0.5 * p["W_l"], p["dome_l"]),
        ]
    )
    c = FIELD_OF_VIEW_MM / 2
    cos, sin = math.cos(p["rotation"]), math.sin(p["rotation"])
    du, dv = anatomical[:, 0] - c, anatomical[:, 1] - c
    x = c + p["shift_x"] + cos * du + sin * dv
    y = c + p["shift_y"] - sin * du + cos * dv
    return (np.stack([x, y], axis=1) / spacing).astype(np.float32)


def _render_chunk(params, image_size, noise_seeds, mask_names):
    spacing = FIELD_OF_VIEW_MM / image_size
    scalar_keys = [
        k for k, value in params[0].items() if isinstance(value, float | int) and not isinstance(value, bool)
    ]
    p = {k: np.array([item[k] for item in params], dtype=np.float32)[:, None, None] for k in scalar_keys}
    p["heart"] = {
        k: np.array([item["heart"][k] for item in params], dtype=np.float32)[:, None, None] for k in params[0]["heart"]
    }
    grid = (np.arange(image_size, dtype=np.float32) + 0.5) * np.float32(spacing)
    c = np.float32(FIELD_OF_VIEW_MM / 2)
    cos, sin = np.cos(p["rotation"]), np.sin(p["rotation"])
    a = grid[None, None, :] - c - p["shift_x"]
    b = grid[None, :, None] - c - p["shift_y"]
    u = c + cos * a - sin * b
    v = c + sin * a + cos * b
    projection, bones, geo, body, ramp_col = _render_anatomy(u, v, p)
    masks = np.zeros((len(params), image_size, image_size, len(mask_names)), dtype=np.uint8)
    channel = {name: i for i, name in enumerate(mask_names)}
    anatomy = {
        "right_lung": (geo["m_air"] > 0) & ~geo["left"],
        "left_lung": (geo["m_air"] > 0) & geo["left"],
        "heart": geo["rho"] <= 1.0,
        "pneumothorax": (geo["m_air"] > 0) & (geo["m_col"] <= 0),
        "effusion": (geo["m_hemi"] > 0) & (geo["m_air"] <= 0),
    }
    for name, region in anatomy.items():
        if name in channel:
            masks[..., channel[name]] = region
    boxes, lesion_titles = [], []
    for i, item in enumerate(params):
        scalars = {k: float(p[k][i, 0, 0]) for k in scalar_keys}
        local = {**item, **scalars}
        local_geo = {k: value[i] for k, value in geo.items()}
        extra, lesions = _render_findings(u[i], v[i], local_geo, body[i], ramp_col[i], local)
        projection[i] += extra
        image_boxes = []
        for title, region in lesions:
            rows, cols = np.nonzero(region)
            if rows.size == 0:
                continue
            image_boxes.append((cols.min(), rows.min(), cols.max() + 1.0, rows.max() + 1.0, code_of(title)))
            name = title.lower()
            if name in channel:
                masks[i, ..., channel[name]] |= region
        boxes.append(image_boxes)
        lesion_titles.append({PATHOLOGIES[box[4]] for box in image_boxes})
    # Quantum noise: N = N0 exp(-P) photons per pixel, so log(N0 / N) has standard deviation exp(P / 2) / sqrt(N0).
    noise = np.stack(
        [np.random.default_rng(seed).standard_normal((image_size, image_size), np.float32) for seed in noise_seeds]
    )
    photons = p["photons"] * np.float32(spacing * spacing)
    projection += np.exp(0.5 * np.maximum(projection, 0.0)) / np.sqrt(photons) * noise
    sigma = 0.75 / spacing
    bone_free = _blur(projection, sigma)
    image = _blur(projection + (MU_BONE - MU_SOFT) * bones, sigma)
    center, width = p["window_center"], p["window_width"]
    image = 0.5 + 0.5 * np.tanh((image - center) / width)
    bone_free = 0.5 + 0.5 * np.tanh((bone_free - center) / width)
    return image.astype(np.float32), bone_free.astype(np.float32), masks, boxes, lesion_titles


def generate(
    num_images: int,
    image_size: int = 128,
    seed: int = 0,
    studies_per_patient: int | tuple[int, int] = (1, 4),
    prevalence: Mapping[str, float] | None = None,
    findings=None,
    mask_names: Sequence[str] = MASK_NAMES,
    bone_free: bool = True,
) -> CXRSet:
    """Render synthetic PA chest radiographs with complete ground truth.

    Args:
        num_images: how many images, at least 1.
        image_size: side in pixels (at least 32); the field of view stays `FIELD_OF_VIEW_MM`, so the pixel spacing
            is `FIELD_OF_VIEW_MM / image_size` mm and the same seed gives the same anatomy at every size.
        seed: a non-negative integer; image `i` and patient `j` draw from streams spawned from `(seed, i)` and
            `(seed, j)`, so the first images of a larger set equal a smaller set with the same seed.
        studies_per_patient: studies (follow-up images) per patient: an int, or an inclusive range `(low, high)`
            drawn per patient. Studies of a patient share the anatomy; their findings may differ.
        prevalence: finding title -> probability per image, overriding `DEFAULT_PREVALENCE` for those titles
            (`NIH_PREVALENCE` gives NIH's rates). Chronic findings (`CHRONIC_FINDINGS`) are drawn per patient.
        findings: force the findings instead of drawing them: one list of titles for every image (e.g.
            `["Cardiomegaly"]`; `[]` or `["No Finding"]` for a healthy chest) or one list per image.
        mask_names: which of `MASK_NAMES` to return, in that order (fewer channels save memory).
        bone_free: if True, add `targets["bone_free"]`.

    Returns:
        A `CXRSet` with `source="phantom"`: images `(N, H, W, 1)`; labels `(N, 15)`; masks `(N, H, W, M)`;
        boxes `(N, B, 4)` xyxy pixels around each nodule, mass, pneumonia and consolidation (class = slide code);
        landmarks `(N, 11, 2)` named by `LANDMARK_NAMES`; targets `bone_free` `(N, H, W, 1)` (same patient, findings,
        exposure and noise, without ribs and clavicles) and `cardiothoracic_ratio` `(N,)`; patient ids such as
        `"phantom-0-000012"`; views `"PA"`; pixel spacing `(N, 2)` mm.

    Raises:
        ValueError: for a bad count, size, seed, prevalence, finding title or mask name.
    """
    if isinstance(num_images, bool) or not isinstance(num_images, int | np.integer) or num_images < 1:
        raise ValueError(f"num_images must be a positive integer, got {num_images!r}")
    if isinstance(image_size, bool) or not isinstance(image_size, int | np.integer) or image_size < 32:
        raise ValueError(f"image_size must be an integer >= 32, got {image_size!r}; the lecture uses 64, 128 or 256")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    low, high = (studies_per_patient, studies_per_patient) if np.isscalar(studies_per_patient) else studies_per_patient
    if not 1 <= int(low) <= int(high):
        raise ValueError(
            f"studies_per_patient must be >= 1 or a range (low, high) with 1 <= low <= high, got {studies_per_patient!r}"
        )
    unknown = [name for name in mask_names if name not in MASK_NAMES]
    if unknown:
        raise ValueError(f"unknown mask_names {unknown}; choose from {list(MASK_NAMES)}")
    mask_names = tuple(mask_names)
    rates = _resolve_prevalence(prevalence)
    forced = _resolve_findings(findings, int(num_images))
    num_images, image_size = int(num_images), int(image_size)

    params, patient_ids = [], []
    patient, remaining, patient_index, chronic = None, 0, -1, frozenset()
    for index in range(num_images):
        if remaining == 0:
            patient_index += 1
            prng = np.random.default_rng(np.random.SeedSequence([seed, 0, patient_index]))
            patient = _sample_patient(prng)
            remaining = int(prng.integers(int(low), int(high) + 1))
            chronic = frozenset(name for name in sorted(CHRONIC_FINDINGS) if prng.uniform() < rates[name])
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
        params.append(_sample_study(rng, patient, titles))
        patient_ids.append(f"phantom-{seed}-{patient_index:06d}")

    spacing = FIELD_OF_VIEW_MM / image_size
    chunk = max(1, _CHUNK_PIXELS // (image_size * image_size))
    images = np.empty((num_images, image_size, image_size, 1), dtype=np.float32)
    twins = np.empty_like(images) if bone_free else None
    masks = np.empty((num_images, image_size, image_size, len(mask_names)), dtype=np.uint8)
    all_boxes, labels = [], np.zeros((num_images, NUM_PATHOLOGIES), dtype=np.float32)
    for start in range(0, num_images, chunk):
        stop = min(start + chunk, num_images)
        seeds = [np.random.SeedSequence([seed, 2, i]) for i in range(start, stop)]
        image, twin, mask, boxes, drawn = _render_chunk(params[start:stop], image_size, seeds, mask_names)
        images[start:stop, ..., 0] = image
        if bone_free:
            twins[start:stop, ..., 0] = twin
        masks[start:stop] = mask
        all_boxes.extend(boxes)
        for offset, found in enumerate(drawn):
            titles = {t for t in params[start + offset]["titles"] if t not in BOX_FINDINGS} | found
            titles.discard("Cardiomegaly")
            labels[start + offset, [code_of(t) for t in titles]] = 1.0

    landmarks = np.stack([_landmarks(item, spacing) for item in params])
    ratio = cardiothoracic_ratio(landmarks, LANDMARK_NAMES).astype(np.float32)
    labels[:, code_of("Cardiomegaly")] = ratio > 0.5
    labels[:, NO_FINDING] = labels.sum(axis=1) == 0
    width = max(1, max(len(b) for b in all_boxes))
    boxes = np.full((num_images, width, 4), PAD, dtype=np.float32)
    classes = np.full((num_images, width), PAD, dtype=np.int32)
    for i, image_boxes in enumerate(all_boxes):
        for j, (x1, y1, x2, y2, code) in enumerate(image_boxes):
            boxes[i, j] = (x1, y1, x2, y2)
            classes[i, j] = code
    targets = {"cardiothoracic_ratio": ratio}
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
        views=np.array(["PA"] * num_images, dtype=object),
        pixel_spacing_mm=np.full((num_images, 2), spacing, dtype=np.float32),
        source="phantom",
    )
