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

BODY_BOTTOM_MM = 700.0
"""Lowest anatomical height drawn (mm): below every field of view that an acquisition can frame."""

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

_RIGHT, _LEFT = 0, 1


def _chord(radius, distance):
    """Thickness along the beam of a sphere or cylinder of `radius` at `distance` from its centre (axis)."""
    return 2.0 * np.sqrt(np.maximum(radius * radius - distance * distance, 0.0))


def _hollow_chord(radius, distance, inner, weight):
    """`_chord(radius, d) - weight * _chord(inner * radius, d)`: a bone whose cortex is denser than its marrow.

    Written with in-place operations on the squares, since the ribs evaluate it over most of the image.
    """
    squared = distance * distance
    outer = radius * radius
    core = outer * (inner * inner)
    outer -= squared
    core -= squared
    np.sqrt(np.maximum(outer, 0.0, out=outer), out=outer)
    np.sqrt(np.maximum(core, 0.0, out=core), out=core)
    core *= weight
    outer -= core
    outer *= 2.0
    return outer


def _clip(x, low, high):
    """`np.clip` without its Python wrapper, which costs more than the arithmetic on small windows."""
    return np.minimum(np.maximum(x, low), high)


def _ramp(margin, depth):
    """Depth profile near a rounded surface: 0 just outside the edge, 1 deeper than `depth` mm (circular section).

    The profile starts 1 mm outside the mask border, the partial-volume blur of a surface that is not parallel to
    the beam everywhere, so lung edges are soft without blurring the masks.
    """
    z = _clip((margin + 1.0) * (1.0 / depth), 0.0, 1.0)
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
        "ctr": float(np.clip(rng.normal(0.445, 0.035), 0.36, 0.53)),
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
        "rib_phase": rng.uniform(0, 2 * math.pi),
        "breast": rng.uniform(0.0, 28.0) * scale,
        # Share of the chest's depth that the aerated lung takes (the rest is chest wall, heart and vessels in
        # front of and behind it), and the bones' mineral density: together they set how grey the lung fields look
        # and how much the ribs stand out.
        "lung_depth": rng.uniform(0.5, 0.75),
        "scapula_in": rng.uniform(0.72, 0.92),
        "scapula_len": rng.uniform(130.0, 165.0) * scale,
        "bone_density": rng.uniform(0.8, 1.3),
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


def _sample_study(
    rng: np.random.Generator, patient: dict, titles: frozenset[str], forced: bool, acquisition_rng=None
) -> dict:
    """Draw one study's pose, exposure and findings on top of the patient's anatomy.

    The cardiothoracic ratio is continuous (normal hearts about 0.445 +- 0.035, enlarged ones 0.50-0.66); the
    Cardiomegaly label is what a reader measures, the PA-equivalent ratio plus a reading error of 0.012, above 0.5
    (with forced findings, the forced answer). `acquisition_rng` (None: the standard PA set-up) draws the framing,
    projection, processing and devices; an AP film magnifies the heart, so its measured ratio overstates the PA one.
    """
    p = dict(patient)
    p["titles"] = titles
    p["rotation"] = patient["rotation"] + math.radians(rng.normal(0.0, 0.6))
    p["shift_x"], p["shift_y"] = rng.normal(0.0, 4.0, 2)
    p["window_center"] = rng.normal(2.85, 0.08)
    p["window_width"] = rng.normal(1.35, 0.05)
    p["photons"] = 2.0e4 * rng.uniform(0.5, 2.0)
    p.update(STANDARD_ACQUISITION)
    p["mu_lung"] = MU_LUNG
    p["markings"] = 1.0
    for key in ("ptx_r", "ptx_l", "pt_r", "pt_l", "pt_v_r", "pt_v_l"):
        p[key] = 0.0
    p["lesions"] = []
    p["opacities"] = []
    if "Cardiomegaly" in titles:
        p["ctr"] = rng.uniform(0.51 if forced else 0.50, 0.66)
    elif forced:
        p["ctr"] = min(p["ctr"], 0.485)
    reading = p["ctr"] + rng.normal(0.0, 0.012)
    if "Emphysema" in titles:
        p["dome_r"] += rng.uniform(18.0, 30.0)
        p["dome_l"] = p["dome_r"] + rng.uniform(5.0, 12.0)
        p["cp_r"] *= 0.55
        p["cp_l"] *= 0.55
        p["mu_lung"] = MU_LUNG * 0.45
        p["markings"] = 0.45
        p["ctr"] = min(p["ctr"], 0.44) if "Cardiomegaly" not in titles else p["ctr"]
        reading = min(reading, p["ctr"] + 0.02)
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
    p["reader_ctr"] = reading
    p["cardiomegaly"] = ("Cardiomegaly" in titles) if forced else reading > 0.5
    if acquisition_rng is not None:
        p.update(_sample_acquisition(acquisition_rng, p))
        if p["projection"] == "AP":
            # The heart lies anterior, far from a detector behind the patient: magnified about 10-20 % more than
            # the thorax. The clavicles project higher over the apices.
            p["ctr"] *= acquisition_rng.uniform(1.08, 1.2)
            p["clav_med"] -= 12.0
            p["clav_lat"] -= 14.0
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


def _side(p, side: int) -> dict:
    """The scalar parameters of one hemithorax; `sign` maps `q = sign * (u - cx)` (mm from the midline)."""
    suffix = "_l" if side == _LEFT else "_r"
    s = {name: float(p[name + suffix]) for name in ("W", "apex", "dome", "cp", "fluid")}
    for name in ("ptx", "pt", "pt_v"):
        s[name] = float(p.get(name + suffix, 0.0))
    s["side"] = side
    s["sign"] = 1.0 if side == _LEFT else -1.0
    s["knob"] = float(p["knob"]) if side == _LEFT else 0.0
    s["hilum_q"] = 60.0 if side == _LEFT else 54.0
    return s


def _diaphragm(q, s):
    """Height `v` (mm) of a hemidiaphragm's upper surface at `q` mm from the midline: medial slope, dome, sulcus."""
    q_dome = 0.5 * s["W"]
    dd = q - q_dome
    medial = 22.0 / (q_dome * q_dome)
    lateral = s["cp"] / ((s["W"] - q_dome) ** 2)
    curve = (
        (lateral if dd > 0 else medial)
        if np.ndim(dd) == 0
        else np.where(dd > 0, np.float32(lateral), np.float32(medial))
    )
    return s["dome"] + curve * dd * dd


def _heart_geometry(p) -> dict:
    thorax = p["W_r"] + p["W_l"]
    half_width = 0.5 * p["ctr"] * thorax
    tilt, ratio = p["heart_tilt"], p["heart_ratio"]
    cos, sin = math.cos(tilt), math.sin(tilt)
    major = half_width / math.sqrt(cos * cos + ratio * ratio * sin * sin)
    minor = ratio * major
    # The widest points of a tilted ellipse: x = centre +- half_width, y = centre -+ drop.
    drop = sin * cos * (major * major - minor * minor) / half_width
    center_x = p["cx"] + p["ctr"] * thorax / 6.0
    x_right, x_left = center_x - half_width, center_x + half_width
    # The heart rests on the diaphragm: its silhouette ends on the line joining the two cardiophrenic points, and
    # both widest points stay above the diaphragm (a raised right dome lifts the heart).
    floor_right = float(_diaphragm(p["cx"] - x_right, _side(p, _RIGHT)))
    floor_left = float(_diaphragm(x_left - p["cx"], _side(p, _LEFT)))
    center_y = min(p["dome_l"] - 6.0 - drop, floor_right - 4.0 + drop)
    return {
        "hx": center_x,
        "hy": center_y,
        "ha": major,
        "hb": minor,
        "cos": cos,
        "sin": sin,
        "drop": drop,
        "half": half_width,
        "floor_x": x_right,
        "floor_y": floor_right,
        "floor_slope": (floor_left - floor_right) / (x_left - x_right),
    }


# ---------------------------------------------------------------------------------------------------------------
# Geometry shared by the renderer, the masks and lesion placement.


def _margins(q, v, u, p, s) -> dict:
    """Signed margins (mm, positive inside) of one lung field at points `q` mm from the midline, height `v`."""
    width, apex = s["W"], s["apex"]
    m0 = p["M0"]
    widest = p["dome_r"] - 15.0
    q_apex = 0.45 * width
    a = np.where(q > q_apex, np.float32(width - q_apex), np.float32(q_apex - m0))  # float32 like the grid
    dq = (q - q_apex) / a
    dv = np.minimum(v - widest, 0.0) * (1.0 / (widest - apex))
    m_wall = (1.0 - np.sqrt(dq * dq + dv * dv)) * a
    if s["pt"]:
        level = apex + s["pt_v"] * (s["dome"] - apex)
        m_wall -= s["pt"] * np.exp(-(((v - level) / 45.0) ** 2))
    m_dome = (_diaphragm(q, s) - v) * 0.85
    m_med = q - m0
    if s["knob"]:
        m_med -= s["knob"] * np.exp(-(((v - p["carina"] + 12.0) / 16.0) ** 2))
    heart = p["heart"]
    du, dvh = u - heart["hx"], v - heart["hy"]
    hu = (du * heart["cos"] + dvh * heart["sin"]) * (1.0 / heart["ha"])
    hv = (dvh * heart["cos"] - du * heart["sin"]) * (1.0 / heart["hb"])
    rho = np.sqrt(hu * hu + hv * hv)
    m_hemi = np.minimum(np.minimum(m_wall, m_dome), np.minimum(m_med, (rho - 1.0) * heart["hb"]))
    m_air = m_hemi
    if s["fluid"] < 1e3:
        frac = _clip((q - m0) / (width - m0), 0.0, 1.0)
        # Meniscus: fluid climbs the lateral chest wall, so the upper border is concave and highest laterally.
        frac *= frac
        rim = frac * frac
        rim *= rim
        m_air = np.minimum(m_hemi, (s["fluid"] - p["meniscus"] * (0.6 * frac + 1.2 * rim) - v) * 0.85)
    m_col = m_air
    if s["ptx"]:
        b = widest - apex
        lateral = _clip((q - 0.25 * width) / (0.35 * width), 0.0, 1.0)
        apical = _clip((apex + 0.45 * b - v) / (0.3 * b), 0.0, 1.0)
        m_col = np.minimum(m_air, m_wall - s["ptx"] * np.maximum(lateral, apical))
    return {"m_hemi": m_hemi, "m_air": m_air, "m_col": m_col, "rho": rho}


def _place(rng, p, side: int, radius: float, tries: int = 64, zone=(0.0, 1.0)):
    """Draw a centre inside one lung, at least `radius` (plus a rim) from the lung border; None if it does not fit."""
    s = _side(p, side)
    q = rng.uniform(0.2, 1.0, tries) * s["W"]
    v = s["apex"] + (zone[0] + (zone[1] - zone[0]) * rng.uniform(0, 1, tries)) * (s["dome"] + 30 - s["apex"])
    u = p["cx"] + s["sign"] * q
    ok = np.flatnonzero(_margins(q, v, u, p, s)["m_col"] > radius + 4.0)
    if ok.size == 0:
        return None
    return float(u[ok[0]]), float(v[ok[0]])


def _segment_distance(u, v, x0, y0, x1, y1):
    """Distance from points `(u, v)` to the segment `(x0, y0)-(x1, y1)`."""
    ex, ey = x1 - x0, y1 - y0
    t = _clip(((u - x0) * ex + (v - y0) * ey) * (1.0 / (ex * ex + ey * ey)), 0.0, 1.0)
    du, dv = u - x0 - t * ex, v - y0 - t * ey
    return np.sqrt(du * du + dv * dv)


def _rib_index(t, p):
    """Rib number of a rib-aligned height `t`: continuous, nearest rib (0-11), its height and the local spacing.

    Rib `i` runs at `first + step*i + growth*i**2`.
    """
    step, growth = p["rib_step"], p["rib_growth"]
    index = t * (4.0 * growth)
    index += step * step - 4.0 * growth * p["rib_first"]
    np.sqrt(np.maximum(index, 0.0, out=index), out=index)
    index -= step
    index *= 0.5 / growth
    nearest = np.rint(index)
    np.clip(nearest, 0.0, 11.0, out=nearest)
    spacing = nearest * (2.0 * growth)
    spacing += step
    center = (spacing + step) * nearest  # 2 (step * i + growth * i**2)
    center *= 0.5
    center += p["rib_first"]
    return index, nearest, center, spacing


def _rib_height(index, p):
    """Rib-aligned height `t` (mm) of rib number `index`, the inverse of `_rib_index`."""
    return p["rib_first"] + p["rib_step"] * index + p["rib_growth"] * index * index


def _add_bones(frame, p, bones):
    """Add the rib and clavicle thickness (mm) of both sides to `bones`.

    Posterior ribs and clavicles are drawn for both sides in one window over `q = |u - cx|`, with each side's
    thorax half-width where it applies; anterior ribs, which leave the middle empty, in one window per side.
    """
    cx, w_r, w_l = p["cx"], p["W_r"], p["W_l"]
    wide = max(w_r, w_l)

    def window(q0, v0, v1):
        return frame.window(cx - q0, cx + q0, v0, v1)

    def coordinates(win):
        du = frame.u[win] - cx
        return np.abs(du), frame.v[win], du > 0

    # Posterior arcs rise briefly from the spine, then curve down toward the lateral chest wall.
    rise, drop = p["rib_rise"], p["rib_drop"]
    lowest = -(rise**2) / (4.0 * (drop + rise * wide) / (wide * wide))
    # Below the costophrenic angles the ribs lie behind the abdomen, whose thickness the film curve saturates:
    # they are drawn down to 25 mm below the lower angle, not to the lowest rib.
    hidden = max(p["dome_r"] + p["cp_r"], p["dome_l"] + p["cp_l"]) + 25.0
    win = window(wide + 7.0, _rib_height(-0.5, p) + lowest - 12.0, min(_rib_height(11.5, p) + drop + 12.0, hidden))
    if win is not None:
        q, v, left = coordinates(win)
        width = np.where(left, np.float32(w_l), np.float32(w_r))
        k = np.where(left, np.float32((drop + rise * w_l) / w_l**2), np.float32((drop + rise * w_r) / w_r**2))
        slope = k * q
        arc = (slope - rise) * q
        slope += slope - rise
        t = v - arc
        index, nearest, center, spacing = _rib_index(t, p)
        # Each rib is a little thicker or thinner and higher or lower than the regular ladder.
        wobble = np.sin(nearest * 2.4 + p["rib_phase"])
        distance = (t - center + 1.8 * wobble) / np.sqrt(1.0 + slope * slope)
        radius = (0.29 + 0.03 * wobble) * spacing
        posterior = _hollow_chord(radius, distance, 0.7, 0.62)
        posterior *= _clip((width + 7.0 - q) * (0.85 / 7.0), 0.0, 0.85) * _clip((q - 14.0) * 0.2, 0.0, 1.0)
        posterior *= (index > -0.5) & (index < 11.5)
        bones[win] += posterior
    # Anterior arcs start at the lateral end of the same rib and slope down medially; fainter, thinner bone.
    reach = 0.68 * wide
    high = drop - 3.0 * p["ant_slope"]
    low = drop + p["ant_slope"] * reach + 0.0012 * reach * reach
    top, bottom = _rib_height(-0.5, p) + high - 12.0, min(_rib_height(9.5, p) + low + 12.0, hidden)
    for sign, width in ((-1.0, w_r), (1.0, w_l)):  # one window per side: nothing to draw medially
        u0, u1 = sorted((cx + sign * 0.32 * width, cx + sign * (width + 3.0)))
        win = frame.window(u0, u1, top, bottom)
        if win is None:
            continue
        q, v = (frame.u[win] - cx) * sign, frame.v[win]
        lateral = width - q
        h = drop + p["ant_slope"] * lateral + 0.0012 * lateral * lateral
        t = v - h
        index, _, center, spacing = _rib_index(t, p)
        slope = p["ant_slope"] + 0.0024 * lateral
        distance = (t - center) / np.sqrt(1.0 + slope * slope)
        radius = 0.34 * spacing
        anterior = _hollow_chord(radius, distance, 0.6, 0.5)
        anterior *= _clip((q - 0.32 * width) * (0.18 / 12.0), 0.0, 0.18) * _clip((width + 3.0 - q) / 6.0, 0.0, 1.0)
        anterior *= (index > -0.5) & (index < 9.5)
        bones[win] += anterior
    # Clavicles: S-shaped, from the sternal end near the spine to the acromion, crossing the apices.
    top, bottom = sorted((p["clav_med"], p["clav_lat"]))
    win = window(172.0, top - 16.0, bottom + 16.0)
    if win is not None:
        q, v = np.abs(frame.u[win] - cx), frame.v[win]
        f = _clip((q - 18.0) * (1.0 / 150.0), 0.0, 1.0)
        y = v - (p["clav_med"] + (p["clav_lat"] - p["clav_med"]) * f + 6.0 * np.sin((2.0 * np.pi) * f))
        clavicle = (1.6 * _chord(8.5, y) - 0.6 * _chord(5.5, y)) * _clip((q - 16.0) * (1.0 / 6.0), 0.0, 1.0)
        clavicle *= _clip((172.0 - q) * 0.125, 0.0, 1.0)
        bones[win] += clavicle
    _add_shoulders(frame, p, bones)


def _add_shoulders(frame, p, bones):
    """Add both scapulae and humeral heads to `bones` (mm of bone along the beam).

    A scapula is a thin plate, a triangle in the upper lateral chest whose medial border crosses the lateral lung
    field on a PA film (less when the shoulders are rolled forward), with a thick lateral border running up to the
    glenoid; the humeral head is a ball beside the glenoid, under the acromion. Raised arms (`arms_out`) rotate them
    up and out of the chest.
    """
    if p.get("arms_out", False):
        return
    cx, apex = p["cx"], 0.5 * (p["apex_r"] + p["apex_l"])
    chest = 0.5 * (p["W_r"] + p["W_l"]) + p["body_extra"]
    for sign, width in ((-1.0, p["W_r"]), (1.0, p["W_l"])):
        medial_top, medial_bottom = p["scapula_in"] * width, (p["scapula_in"] + 0.12) * width
        glenoid = (width + 6.0, apex + 12.0)
        bottom = apex + p["scapula_len"]
        u0, u1 = sorted((cx + sign * (medial_top - 4.0), cx + sign * (chest + 40.0 + p["arm_gap"])))
        win = frame.window(u0, u1, apex - 40.0, bottom + 6.0)
        if win is None:
            continue
        q, v = (frame.u[win] - cx) * sign, frame.v[win]
        t = _clip((v - apex) * (1.0 / p["scapula_len"]), 0.0, 1.0)
        medial = medial_top + (medial_bottom - medial_top) * t
        lateral = glenoid[0] + (medial_bottom + 8.0 - glenoid[0]) * _clip(
            (v - glenoid[1]) / (bottom - glenoid[1]), 0.0, 1.0
        )
        inside = _clip((q - medial) * 0.4, 0.0, 1.0) * _clip((lateral - q) * 0.4, 0.0, 1.0)
        inside *= _clip((v - apex + 8.0) * 0.3, 0.0, 1.0) * _clip((bottom - v) * 0.3, 0.0, 1.0)
        border = _chord(5.0, q - lateral + 4.0) * (v > glenoid[1]) * (v < bottom)
        scapula = 3.0 * inside + 0.6 * border
        # The humeral head and the acromion above it.
        head_q = chest + 8.0 + 0.5 * p["arm_gap"]
        du, dv = q - head_q, v - (apex + 4.0)
        scapula += _hollow_chord(24.0, np.sqrt(du * du + dv * dv), 0.75, 0.6)
        scapula += (
            _chord(6.0, v - apex + 22.0 + 0.1 * (q - width))
            * _clip((head_q + 10.0 - q) * 0.2, 0.0, 1.0)
            * _clip((q - width + 10.0) * 0.2, 0.0, 1.0)
        )
        bones[win] += scapula


class _Frame:
    """The pixel grid of one image in anatomical mm, and the pixel windows that hold anatomical rectangles.

    The detector field is `fov_x` by `fov_y` mm (columns, rows), centred on the anatomical point `(u0, v0)`, turned
    by the study's rotation and shifted by `(shift_x, shift_y)` mm; pixels may be wider than tall (`spacing_x` and
    `spacing_y` differ), as when a 35 x 43 cm film is stored in a square image.
    """

    def __init__(self, p, image_size):
        self.size = image_size
        self.half_x, self.half_y = 0.5 * p["fov_x"], 0.5 * p["fov_y"]
        self.spacing_x, self.spacing_y = p["fov_x"] / image_size, p["fov_y"] / image_size
        self.spacing = math.sqrt(self.spacing_x * self.spacing_y)
        self.u0, self.v0 = p["frame_u"], p["frame_v"]
        self.cos, self.sin = math.cos(p["rotation"]), math.sin(p["rotation"])
        self.shift = (float(p["shift_x"]), float(p["shift_y"]))
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


def _body(frame, p):
    """Soft-tissue thickness (mm) along the beam through neck, shoulders, arms, chest wall and abdomen, `(H, W)`.

    The trunk is a super-elliptic cylinder (flat front and back, rounded sides, so the chest wall stays thick up to
    the skin line) whose half-width grows from the neck to the shoulders and narrows a little at the waist; it is
    deeper below the diaphragm, where the abdomen is solid soft tissue. The arms hang at the sides, apart from the
    chest wall by the axillae; the corners above the shoulders hold only air.
    """
    u, v = frame.u, frame.v
    q = np.abs(u - p["cx"])
    apex = 0.5 * (p["apex_r"] + p["apex_l"])
    dome = 0.5 * (p["dome_r"] + p["dome_l"])
    chest = 0.5 * (p["W_r"] + p["W_l"]) + p["body_extra"]
    rise = np.sqrt(_clip((v - apex + 48.0) * (1.0 / 75.0), 0.0, 1.0))
    waist = _clip((v - dome - 30.0) * (1.0 / 90.0), 0.0, 1.0)
    half = 55.0 + (chest - 55.0) * rise - 18.0 * waist
    ratio = q / half
    ratio *= ratio
    trunk = np.sqrt(np.maximum(1.0 - ratio * ratio * ratio, 0.0))
    depth = (2.0 * p["body_depth"]) * (0.5 + 0.5 * rise + 0.3 * _clip((v - dome + 10.0) * (1.0 / 50.0), 0.0, 1.0))
    trunk *= depth
    # Arms: soft-tissue cylinders beside the chest wall, rounded at the shoulder, `arm_gap` mm away from it (air
    # between them), or raised out of the field; each lies in a narrow window.
    if p.get("arms_out", False):
        return trunk
    gap = p["arm_gap"]
    inner, outer = chest - 8.0 + gap, chest + 60.0 + gap + 0.08 * (BODY_BOTTOM_MM - apex)
    for sign in (-1.0, 1.0):
        win = frame.window(*sorted((p["cx"] + sign * inner, p["cx"] + sign * outer)), apex - 12.0, BODY_BOTTOM_MM)
        if win is None:
            continue
        va = v[win] - apex
        arm = q[win] - (chest + 26.0 + gap) - 0.08 * va
        arm = 2.0 * np.sqrt(np.maximum(32.0 * 32.0 - arm * arm, 0.0))
        arm *= _clip((va + 12.0) * (1.0 / 30.0), 0.0, 1.0)
        trunk[win] += arm
    return trunk


def _add_breasts(frame, p, projection):
    """Add the breast and pectoral soft tissue in front of the lower lungs: greyer lung bases, a curved lower edge.

    Each is half an ellipsoid lying on the lower chest wall, `p["breast"]` mm thick at its centre (0-28 mm per
    patient), its lower border crossing the costophrenic region as in real radiographs.
    """
    thickness = p["breast"]
    if thickness < 1.0:
        return
    cx, dome = p["cx"], 0.5 * (p["dome_r"] + p["dome_l"])
    reach = max(p["W_r"], p["W_l"]) + 10.0
    win = frame.window(cx - reach, cx + reach, dome - 95.0, dome + 45.0)
    if win is None:
        return
    half = 0.5 * (p["W_r"] + p["W_l"])
    du = (np.abs(frame.u[win] - cx) - 0.62 * half) * (1.0 / (0.42 * half))
    dv = (frame.v[win] - dome + 20.0) * (1.0 / 62.0)
    inside = 1.0 - du * du - dv * dv
    projection[win] += (MU_SOFT * thickness) * np.sqrt(np.maximum(inside, 0.0))


def _render_sides(frame, p, body, projection, bones, masks, channel):
    """Add both lungs (air, vessels, hila), ribs and clavicles; fill anatomy masks; return each lung's window."""
    cx, u, v = p["cx"], frame.u, frame.v
    hilum_v = p["carina"] + 28.0
    sides = []
    lung_ramp = np.zeros_like(u)
    _add_bones(frame, p, bones)
    for side in (_RIGHT, _LEFT):
        s = _side(p, side)
        sign = s["sign"]
        # The hilum: pulmonary arteries and veins, a soft-tissue density where they enter the lung.
        hilum_u = cx + sign * s["hilum_q"]
        win = frame.window(hilum_u - 50.0, hilum_u + 50.0, hilum_v - 50.0, hilum_v + 50.0)
        if win is not None:
            du, dv = u[win] - hilum_u, v[win] - hilum_v
            projection[win] += (MU_SOFT * 26.0) * np.exp((du * du + dv * dv) * (-1.0 / (2.0 * 15.0 * 15.0)))
        # Every lung quantity is zero outside the lung field, which lies inside this window.
        q0, q1 = p["M0"] - 1.0, s["W"] + 1.0
        u0, u1 = sorted((cx + sign * q0, cx + sign * q1))
        win = frame.window(u0, u1, s["apex"] - 1.0, s["dome"] + max(s["cp"], 22.0) + 2.0)
        if win is None:
            continue
        uw, vw = u[win], v[win]
        q = (uw - cx) * sign
        geo = _margins(q, vw, uw, p, s)
        ramp_air = _ramp(geo["m_air"], 14.0)
        ramp_col = ramp_air if geo["m_col"] is geo["m_air"] else _ramp(geo["m_col"], 14.0)  # same without a PTX
        local = (p["mu_lung"] * ramp_col - MU_SOFT * ramp_air) * (body[win] * p["lung_depth"])
        # Lung markings: vessel trees out of each hilum. Each generation of branches spans a doubling of the
        # distance r; within it every branch forks into two that diverge to the next generation's angles, and the
        # branches thin (and fade with depth overlap) toward the periphery.
        dq, dv = q - s["hilum_q"], vw - hilum_v
        r = np.sqrt(dq * dq + dv * dv)
        np.maximum(r, 16.0, out=r)
        angle = np.arctan2(dv, dq)
        angle += 0.09 * np.sin(r * (1.0 / 21.0) + 3.0 * angle + p["mark_phase"])
        angle += 0.05 * np.sin(r * (1.0 / 8.0) + 5.0 * angle + p["mark_phase2"])
        level = np.log2(r * (1.0 / 16.0))
        generation = np.floor(level)
        level -= generation
        cell = np.exp2(generation) * (6.0 / (2.0 * np.pi))
        x = angle * cell
        x -= np.floor(x)
        x -= 0.5
        distance = np.abs(np.abs(x) - 0.25 * level) * (r / cell)
        radius = 2.6 * np.exp2(-0.32 * (generation + level))
        vessels = 3.4 * _chord(radius, distance) * np.exp(r * (-1.0 / 170.0))
        local += (MU_SOFT * p["markings"]) * vessels * ramp_col
        projection[win] += local
        np.maximum(lung_ramp[win], ramp_col, out=lung_ramp[win])
        aerated = geo["m_air"] > 0
        regions = {("left_lung" if side == _LEFT else "right_lung"): aerated}
        if geo["m_col"] is not geo["m_air"]:  # a pneumothorax on this side
            regions["pneumothorax"] = aerated & (geo["m_col"] <= 0)
        if geo["m_air"] is not geo["m_hemi"]:  # pleural fluid on this side
            regions["effusion"] = (geo["m_hemi"] > 0) & ~aerated
        for name, region in regions.items():
            if name in channel:
                masks[win + (channel[name],)] |= region
        sides.append((s, win))
    if "heart" in channel:
        heart = p["heart"]
        win = frame.window(
            heart["hx"] - heart["ha"], heart["hx"] + heart["ha"], heart["hy"] - heart["ha"], heart["hy"] + heart["ha"]
        )
        if win is not None:
            du, dv = u[win] - heart["hx"], v[win] - heart["hy"]
            hu = (du * heart["cos"] + dv * heart["sin"]) * (1.0 / heart["ha"])
            hv = (dv * heart["cos"] - du * heart["sin"]) * (1.0 / heart["hb"])
            floor = heart["floor_y"] + heart["floor_slope"] * (du + (heart["hx"] - heart["floor_x"]))
            masks[win + (channel["heart"],)] = (hu * hu + hv * hv <= 1.0) & (v[win] <= floor)
    return sides, lung_ramp


def _render_midline(frame, p, projection):
    """Add the trachea and main bronchi (air), the spine (bone behind the mediastinum) and the gastric bubble."""
    cx, carina = p["cx"], p["carina"]
    air = 0.85 * MU_SOFT
    win = frame.window(cx - 36.0, cx + 44.0, carina - 9.0, carina + 36.0)
    if win is not None:  # the main bronchi, drawn where they are not already part of the trachea
        u, v = frame.u[win], frame.v[win]
        trachea = _chord(8.5, u - cx) * (v < carina)
        right = _chord(6.5, _segment_distance(u, v, cx, carina, cx - 24.0, carina + 26.0))
        left = _chord(6.0, _segment_distance(u, v, cx, carina, cx + 32.0, carina + 22.0))
        projection[win] -= air * np.maximum(np.maximum(right, left) - trachea, 0.0)
    win = frame.window(cx - 20.0, cx + 20.0, -200.0, BODY_BOTTOM_MM)
    if win is not None:
        u, v = frame.u[win], frame.v[win]
        discs = 0.82 + 0.18 * np.cos((v - p["rib_first"]) * (2.0 * np.pi / (1.25 * p["rib_step"])))
        du = u - cx
        spine = ((MU_BONE - MU_SOFT) * 0.35) * _chord(19.0, du) * discs
        spine -= air * _chord(8.5, du) * (v < carina)  # the trachea, in front of the spine down to the carina
        projection[win] += spine
    bu, bv = cx + 0.5 * p["W_l"], p["dome_l"] + 24.0
    win = frame.window(bu - 31.0, bu + 31.0, bv - 17.0, bv + 17.0)
    if win is not None:
        du, dv = (frame.u[win] - bu) * (1.0 / 30.0), (frame.v[win] - bv) * (1.0 / 16.0)
        projection[win] -= (0.7 * MU_SOFT * 32.0) * np.sqrt(np.maximum(1.0 - du * du - dv * dv, 0.0))


def _airspace(opacity, body, ramp_col, p, strength):
    """Projection added when a fraction `opacity` of the aerated lung fills with fluid or cells."""
    return ((MU_SOFT - p["mu_lung"]) * p["lung_depth"] * strength) * body * ramp_col * opacity


def _render_opacities(frame, p, body, lung_ramp, sides, projection):
    """Add the diffuse findings (edema, infiltration, fibrosis, atelectasis, hernia) to `projection`."""
    cx, hilum_v = p["cx"], p["carina"] + 28.0
    for kind, spec in p["opacities"]:
        if kind == "infiltration":
            blobs = np.zeros_like(body)
            for signed_q, t, size in zip(spec["q"].tolist(), spec["t"].tolist(), spec["size"].tolist(), strict=True):
                s = _side(p, _LEFT if signed_q > 0 else _RIGHT)
                cu = cx + signed_q * s["W"]
                cv = s["apex"] + t * (s["dome"] - s["apex"])
                win = frame.window(cu - 3.5 * size, cu + 3.5 * size, cv - 3.5 * size, cv + 3.5 * size)
                if win is not None:
                    du, dv = frame.u[win] - cu, frame.v[win] - cv
                    blobs[win] += np.exp((du * du + dv * dv) * (-0.5 / (size * size)))
            projection += _airspace(np.minimum(blobs, 1.0), body, lung_ramp, p, 0.35)
            continue
        if kind == "hernia":
            cu, cv = cx + 14.0, p["dome_l"] - spec["level"] * spec["ry"] - 8.0
            win = frame.window(cu - spec["rx"], cu + spec["rx"], cv - spec["ry"], cv + spec["ry"])
            if win is not None:
                hu, hv = (frame.u[win] - cu) / spec["rx"], (frame.v[win] - cv) / spec["ry"]
                inside = np.sqrt(np.maximum(1.0 - hu * hu - hv * hv, 0.0)) * (2.0 * spec["ry"])
                fluid = (hv > 0.15).astype(np.float32)
                projection[win] += (MU_SOFT * (-0.75 + 1.2 * fluid)) * inside
            continue
        for s, win in sides:
            u, v = frame.u[win], frame.v[win]
            q = (u - cx) * s["sign"]
            ramp, thick = lung_ramp[win], body[win]
            if kind == "edema":
                dq = q - s["hilum_q"]
                haze = spec["strength"] * np.exp((dq * dq + (v - hilum_v) ** 2) * (-0.5 / 48.0**2))
                kerley = np.cos(v * (np.pi / 5.0)) ** 16 * _clip((q - s["W"] + 26.0) / 8.0, 0.0, 1.0)
                kerley *= _clip((v - s["dome"] + 70.0) / 20.0, 0.0, 1.0)
                projection[win] += _airspace(haze, thick, ramp, p, 0.85) + (MU_SOFT * 22.0) * kerley * (ramp > 0)
            elif kind == "fibrosis":
                p1, p2 = 0.8 * u + 0.6 * v, 0.8 * v - 0.6 * u
                period = spec["period"]
                net = np.abs(np.cos(np.pi * p1 / period + 0.9 * np.sin(p2 / 13.0 + spec["phase"]))) ** 8
                net += np.abs(np.cos(np.pi * p2 / period + 0.9 * np.sin(p1 / 17.0))) ** 8
                apex, dome = s["apex"], s["dome"]
                zone = _clip((v - apex - 0.4 * (dome - apex)) / 60.0, 0.0, 1.0) * _clip(q / s["W"], 0.3, 1.0)
                projection[win] += (MU_SOFT * 15.0) * net * zone * ramp + _airspace(0.3 * zone, thick, ramp, p, 1.0)
            elif kind == "atelectasis" and spec["side"] == s["side"]:
                line = s["apex"] + spec["level"] * (s["dome"] - s["apex"]) + spec["tilt"] * (q - 0.5 * s["W"])
                band = np.exp(-(((v - line) / 3.5) ** 2)) * _clip((q - 0.3 * s["W"]) / 10.0, 0.0, 1.0)
                below = _clip((v - line) / 15.0, 0.0, 1.0)
                projection[win] += (MU_SOFT * 16.0) * band * ramp + _airspace(0.5 * below, thick, ramp, p, 1.0)


def _lesion_window(frame, title, spec):
    cu, cv = spec["center"]
    if title in ("Nodule", "Mass"):
        reach = spec["radius"] * (1.0 + float(np.sum(spec["lobes"]))) + 2.0
    elif title == "Pneumonia":
        reach = float(np.abs(spec["offsets"]).max() + 3.0 * spec["sizes"].max())
    else:
        reach = 1.25 * max(spec["radii"]) + 2.0  # lobulated edge (0.98) plus the soft border (0.21)
    return frame.window(cu - reach, cu + reach, cv - reach, cv + reach)


def _render_lesions(frame, p, body, lung_ramp, projection):
    """Add the box lesions to `projection`; return each one's title, pixel window and own mask."""
    lesions = []
    for title, spec in p["lesions"]:
        win = _lesion_window(frame, title, spec)
        if win is None:
            continue
        u, v = frame.u[win], frame.v[win]
        ramp, thick = lung_ramp[win], body[win]
        cu, cv = spec["center"]
        du, dv = u - cu, v - cv
        if title in ("Nodule", "Mass"):
            angle = np.arctan2(dv, du)
            radius = spec["radius"]
            for k, (amplitude, phase) in enumerate(zip(spec["lobes"].tolist(), spec["phase"].tolist(), strict=True)):
                radius = radius + (spec["radius"] * amplitude) * np.sin((k + 2) * angle + phase)
            distance = np.sqrt(du * du + dv * dv)
            density = 1.6 if title == "Nodule" else 1.1
            projection[win] += ((MU_SOFT - p["mu_lung"]) * density) * _chord(radius, distance)
            region = distance < radius
        else:
            side = _LEFT if spec["side"] == _LEFT else _RIGHT
            mine = (u > p["cx"]) if side == _LEFT else (u <= p["cx"])
            lung = (ramp > 0) & mine
            if title == "Pneumonia":
                # Ill-defined, mottled airspace opacity: overlapping acini filling unevenly, fading at the edges.
                blobs = np.zeros_like(u)
                for (ou, ov), size in zip(spec["offsets"].tolist(), spec["sizes"].tolist(), strict=True):
                    eu, ev = du - ou, dv - ov
                    blobs += np.exp((eu * eu + ev * ev) * (-0.5 / (size * size)))
                patchy = 1.0 - np.exp(-1.4 * blobs)
                patchy *= lung
                projection[win] += _airspace(patchy, thick, ramp, p, 0.6)
                region = patchy > 0.4
            else:
                # Lobar consolidation: a lobulated, soft-edged airspace opacity that stops sharply at the fissure,
                # with air bronchograms (aerated bronchi, dark branching lines) inside.
                ra, rb = spec["radii"]
                eu, ev = du * (1.0 / ra), dv * (1.0 / rb)
                spread = np.sqrt(eu * eu + ev * ev)
                angle = np.arctan2(ev, eu)
                phase = spec["phase"]
                edge = 0.82 + 0.1 * np.sin(3.0 * angle + phase) + 0.06 * np.sin(5.0 * angle + 2.3 * phase)
                dense = _clip((edge - spread) * 2.4 + 0.5, 0.0, 1.0)
                dense *= dense * (3.0 - 2.0 * dense)  # smoothstep: a fluffy border about 8 mm wide
                fissure = cv + (0.45 * rb if spec["upper"] else -0.45 * rb) + spec["fissure"] * du
                dense *= _clip(((fissure - v) if spec["upper"] else (v - fissure)) * 0.5 + 0.5, 0.0, 1.0)
                dense *= lung
                s = _side(p, side)
                dq = (u - p["cx"]) * s["sign"] - s["hilum_q"]
                bronchi = np.cos(7.0 * np.arctan2(v - p["carina"] - 28.0, dq) + phase) ** 2
                bronchi **= 24
                bronchi *= dense
                projection[win] += _airspace(dense * (1.0 - 0.35 * bronchi), thick, ramp, p, 0.8)
                region = dense > 0.5
        lesions.append((title, win, region))
    return lesions


# ---------------------------------------------------------------------------------------------------------------
# Acquisition: how the film was taken and processed. Drawn per study from its own random stream, so the same seed
# gives the same anatomy and findings with either acquisition, and forced findings do not change the acquisition.

ACQUISITIONS = ("varied", "standard")
"""`generate(acquisition=...)`: `"varied"` draws framing, projection, exposure, detector processing, collimation,
text markers and support devices per study, as real films vary; `"standard"` is one fixed PA set-up (a centred
380 mm field, one film curve, nothing on the film), for experiments that must isolate the anatomy."""

STANDARD_ACQUISITION: dict = {
    "fov_x": FIELD_OF_VIEW_MM,
    "fov_y": FIELD_OF_VIEW_MM,
    "frame_u": FIELD_OF_VIEW_MM / 2,
    "frame_v": FIELD_OF_VIEW_MM / 2,
    "projection": "PA",
    "gamma": 1.0,
    "auto_window": None,
    "detail": 0.0,
    "scatter": 0.0,
    "blur_mm": 0.75,
    "collimation": (),
    "markers": (),
    "devices": (),
    "arm_gap": 0.0,
}
"""The acquisition of every study with `acquisition="standard"` (and the defaults of the fields below)."""

MU_METAL = 0.35
"""Metal of electrodes, wires and a pacemaker can, per mm (far denser than bone)."""

MARKER_TEXTS = ("R", "L", "PA", "AP", "ERECT", "PORTABLE", "SUPINE", "INSP")
"""Burned-in text markers drawn on varied films."""


def _sample_acquisition(rng: np.random.Generator, p: dict) -> dict:
    """Draw one study's acquisition: framing, projection, exposure, processing, collimation, markers, devices."""
    a = {}
    portable = rng.uniform() < 0.2
    a["projection"] = "AP" if portable else "PA"
    # Framing: a 35 x 43 cm detector (or a crop of it) stored as a square image, so pixels may be wider than tall;
    # the patient is off-centre by a few centimetres, more on portable films.
    a["fov_x"] = rng.uniform(330.0, 430.0)
    a["fov_y"] = a["fov_x"] * rng.uniform(0.8, 1.23)  # 35/43 to 43/35
    spread = 2.0 if portable else 1.0
    a["frame_u"] = p["cx"] + rng.normal(0.0, 10.0 * spread)
    # Protocols put the upper edge a few centimetres above the shoulders: the lungs sit in the upper part of the film.
    a["frame_v"] = 0.5 * (p["apex_r"] + p["dome_l"] + p["cp_l"]) + rng.normal(22.0, 14.0 * spread)
    # Both apices and both costophrenic angles stay on the film (a film that cuts them off is repeated).
    highest = min(p["apex_r"], p["apex_l"]) - 0.03 * a["fov_y"] + 0.5 * a["fov_y"]
    lowest = max(p["dome_r"] + p["cp_r"], p["dome_l"] + p["cp_l"]) + 0.03 * a["fov_y"] - 0.5 * a["fov_y"]
    a["frame_v"] = min(max(a["frame_v"], lowest), max(highest, lowest))
    a["rotation"] = p["rotation"] + math.radians(rng.normal(0.0, 2.5 * spread))
    # Exposure and detector processing. Digital systems range the display on the image's own histogram, so lungs
    # and mediastinum land on similar greys whatever the dose: `auto_window` puts the median lung at `lung_grey` and
    # the dense soft tissue at `soft_grey`. Then a gamma, a detail (unsharp-mask) enhancement, the detector's blur
    # and the dose.
    a["auto_window"] = (rng.uniform(0.2, 0.42), rng.uniform(0.82, 0.97))
    a["gamma"] = math.exp(rng.uniform(-0.25, 0.25))
    a["detail"] = rng.uniform(0.0, 1.0) if rng.uniform() < 0.7 else 0.0
    a["scatter"] = rng.uniform(0.03, 0.3)
    a["blur_mm"] = rng.uniform(0.5, 1.8)
    a["photons"] = p["photons"] * math.exp(rng.uniform(-1.2, 0.4))
    # Habitus of the moment: arms away from the chest wall (dark air between them) or raised out of the field.
    a["arm_gap"] = rng.uniform(0.0, 45.0) if rng.uniform() < 0.6 else 0.0
    a["arms_out"] = rng.uniform() < 0.12
    # Collimation: up to four edges covered by a straight, slightly tilted band, dark (outside the scanned film or
    # cropped) or bright (unexposed film); a band stops short of the lungs.
    bands = []
    for edge in ("top", "bottom", "left", "right"):
        if rng.uniform() < (0.3 if edge == "bottom" else 0.2):
            bands.append((edge, rng.uniform(0.1, 1.0), rng.normal(0.0, 0.03), rng.uniform() < 0.85))
    a["collimation"] = tuple(bands)
    # Burned-in text markers near the corners: a side letter and a label box.
    markers = []
    for _ in range(int(rng.integers(0, 3))):
        text = MARKER_TEXTS[int(rng.integers(len(MARKER_TEXTS)))]
        corner = (rng.uniform() < 0.5, rng.uniform() < 0.8)
        markers.append((text, corner, rng.uniform(0.02, 0.12, 2), rng.uniform(0.02, 0.045), rng.uniform() < 0.5))
    a["markers"] = tuple(markers)
    # Support devices: ECG electrodes and leads, a central venous line, a pacemaker.
    devices = []
    if rng.uniform() < (0.5 if portable else 0.12):
        for _ in range(int(rng.integers(2, 6))):
            devices.append(("electrode", rng.uniform(-1.1, 1.1), rng.uniform(-0.2, 1.1), rng.normal(0.0, 1.0, 2)))
    if rng.uniform() < (0.3 if portable else 0.05):
        devices.append(("line", rng.uniform() < 0.5, rng.uniform(-1.0, 1.0, 3)))
    if rng.uniform() < 0.04:
        devices.append(("pacemaker", rng.uniform() < 0.8, rng.uniform(-1.0, 1.0, 3)))
    a["devices"] = tuple(devices)
    return a


def _add_wire(frame, projection, points, radius: float, mu: float) -> None:
    """Add a tube of `radius` mm along the polyline `points` `(K, 2)` mm, of attenuation `mu` per mm."""
    points = np.asarray(points, dtype=np.float64)
    low, high = points.min(axis=0) - radius - 1.0, points.max(axis=0) + radius + 1.0
    win = frame.window(low[0], high[0], low[1], high[1])
    if win is None:
        return
    u, v = frame.u[win], frame.v[win]
    distance = np.full(u.shape, np.inf, dtype=np.float32)
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:], strict=True):
        np.minimum(distance, _segment_distance(u, v, x0, y0, x1, y1), out=distance)
    # A wire thinner than a pixel still shows: its cross-section (mu * pi * radius**2 across the wire) is spread over
    # a tube at least half a pixel wide.
    width = max(radius, 0.5 * frame.spacing)
    projection[win] += (mu * radius * radius / (width * width)) * _chord(width, distance)


def _curve(start, control, end, count: int = 12) -> np.ndarray:
    """Points of the quadratic Bezier curve from `start` to `end` pulled toward `control`, `(count, 2)`."""
    t = np.linspace(0.0, 1.0, count)[:, None]
    start, control, end = (np.asarray(x, dtype=np.float64) for x in (start, control, end))
    return (1 - t) ** 2 * start + 2 * (1 - t) * t * control + t * t * end


def _add_devices(frame, p, projection) -> None:
    """Add ECG electrodes and leads, central lines and a pacemaker to `projection` (metal, in the body's plane)."""
    cx, apex = p["cx"], 0.5 * (p["apex_r"] + p["apex_l"])
    width = 0.5 * (p["W_r"] + p["W_l"])
    heart = p["heart"]
    for device in p["devices"]:
        kind = device[0]
        if kind == "electrode":
            _, across, down, bend = device
            eu, ev = cx + across * width, apex + 20.0 + down * (p["dome_l"] - apex)
            win = frame.window(eu - 8.0, eu + 8.0, ev - 8.0, ev + 8.0)
            if win is not None:
                du, dv = frame.u[win] - eu, frame.v[win] - ev
                ring = _chord(6.0, np.sqrt(du * du + dv * dv)) - 0.6 * _chord(4.0, np.sqrt(du * du + dv * dv))
                projection[win] += (MU_METAL * 0.25) * ring
            lead_end = (eu + 60.0 * bend[0], FIELD_OF_VIEW_MM + 60.0)
            _add_wire(frame, projection, _curve((eu, ev), (eu + 50.0 * bend[1], ev + 80.0), lead_end), 0.6, MU_METAL)
        elif kind == "line":
            _, left, jitter = device
            sign = 1.0 if left else -1.0
            entry = (cx + sign * (width * 0.55 + 15.0 * jitter[0]), apex - 30.0)
            tip = (cx - 8.0 + 6.0 * jitter[1], p["carina"] + 30.0 + 10.0 * jitter[2])
            bend = (cx + sign * 20.0, p["carina"] - 40.0)
            _add_wire(frame, projection, _curve(entry, bend, tip), 1.2, MU_METAL * 0.12)
        else:  # pacemaker: a can under the clavicle and a lead into the right ventricle
            _, left, jitter = device
            sign = 1.0 if left else -1.0
            can_u, can_v = cx + sign * (0.6 * width + 12.0 * jitter[0]), apex + 30.0 + 10.0 * jitter[1]
            win = frame.window(can_u - 26.0, can_u + 26.0, can_v - 22.0, can_v + 22.0)
            if win is not None:
                du, dv = (frame.u[win] - can_u) * (1.0 / 24.0), (frame.v[win] - can_v) * (1.0 / 20.0)
                inside = _clip((1.0 - np.maximum(np.abs(du), np.abs(dv)) ** 4) * 6.0, 0.0, 1.0)
                projection[win] += (MU_METAL * 4.0) * inside
            tip = (heart["hx"] + 0.3 * heart["half"], heart["hy"] + 0.5 * heart["hb"])
            _add_wire(frame, projection, _curve((can_u, can_v), (cx - 10.0, p["carina"]), tip), 1.0, MU_METAL)


def _box_blur(image: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a `(2 radius + 1)` square, edges replicated, by cumulative sums (cost independent of `radius`)."""
    if radius < 1:
        return image
    for axis in (0, 1):
        padded = np.concatenate(
            [
                np.repeat(np.take(image, [0], axis), radius + 1, axis),
                image,
                np.repeat(np.take(image, [-1], axis), radius, axis),
            ],
            axis=axis,
        )
        total = np.cumsum(padded, axis=axis, dtype=np.float32)
        size = image.shape[axis]
        upper = np.take(total, np.arange(2 * radius + 1, 2 * radius + 1 + size), axis)
        lower = np.take(total, np.arange(0, size), axis)
        image = (upper - lower) * np.float32(1.0 / (2 * radius + 1))
    return image


def _auto_window(projection: np.ndarray, lung_ramp: np.ndarray, greys: tuple[float, float]) -> dict:
    """The film curve's centre and width that map the median lung and the dense soft tissue to `greys`.

    The lung value is the median projection where the lung is deep (`lung_ramp > 0.5`), the soft-tissue value the
    98th percentile of the image; `0.5 + 0.5 tanh((P - centre) / width)` then passes through both points.
    """
    deep = projection[lung_ramp > 0.5]
    lung = float(np.median(deep)) if deep.size else float(np.percentile(projection, 30))
    soft = float(np.percentile(projection, 98))
    low, high = (math.atanh(2.0 * g - 1.0) for g in greys)
    width = max(soft - lung, 0.3) / (high - low)
    return {"window_center": lung - low * width, "window_width": width}


def _add_scatter(image: np.ndarray, twin: np.ndarray, fraction: float, radius: int) -> None:
    """Add scattered radiation to both log images in place: `P <- -log(exp(-P) + fraction * S)`.

    Scatter `S` is the primary intensity `exp(-P)` of the image spread over a few centimetres (a box blur, twice).
    Where the body is thick the primary is weak and scatter dominates, so bone contrast fades behind the heart and
    the abdomen (real films, without the contrast a flat window would give there); `fraction` is what the anti-scatter
    grid lets through. The twin gets the image's scatter, so the image stays at least as dense as its twin.
    """
    primary = np.exp(-image)
    spread = _box_blur(_box_blur(primary, radius), radius)
    spread *= np.float32(fraction)
    for target, source in ((image, primary), (twin, None)):
        intensity = source if source is not None else np.exp(-target)
        intensity += spread
        np.log(intensity, out=intensity)
        np.negative(intensity, out=target)


def _detail_enhance(projection: np.ndarray, low_pass: np.ndarray, strength: float) -> None:
    """Unsharp mask in place: `P + strength (P - low_pass)`, the large-scale contrast flattened, details raised."""
    projection += np.float32(strength) * (projection - low_pass)


def _collimate(image: np.ndarray, p, frame, landmarks: np.ndarray) -> None:
    """Cover the collimated edges of `image` `(H, W)` with dark or bright bands that stop short of the lungs."""
    size = image.shape[0]
    top = float(np.min(landmarks[1:3, 1])) - 6.0 / frame.spacing_y
    bottom = float(np.max(landmarks[7:9, 1])) + 10.0 / frame.spacing_y
    right = float(landmarks[3, 0]) - 10.0 / frame.spacing_x
    left = float(landmarks[4, 0]) + 10.0 / frame.spacing_x
    index = np.arange(size, dtype=np.float32) + 0.5
    for edge, depth, tilt, dark in p["collimation"]:
        if edge == "top":
            limit, along, across, flip = top, index[None, :], index[:, None], False
        elif edge == "bottom":
            limit, along, across, flip = size - bottom, index[None, :], size - index[:, None], False
        elif edge == "left":
            limit, along, across, flip = right, index[:, None], index[None, :], True
        else:
            limit, along, across, flip = size - left, index[:, None], size - index[None, :], True
        if limit <= 1.0:
            continue
        reach = depth * limit + tilt * (along - 0.5 * size)
        covered = np.broadcast_to(across < np.minimum(reach, limit), image.shape)
        value = 0.02 if dark else 0.97
        image[covered] = value
        del flip


def _draw_markers(image: np.ndarray, p, landmarks: np.ndarray) -> None:
    """Burn the study's text markers into `image` `(H, W)`: bright letters, some on a dark box, never on the lungs.

    Radiographers put the markers in a corner of the field, off the lungs; a marker that would touch the lungs'
    bounding box (from the landmarks, 2 pixels added) is left out.
    """
    from PIL import Image, ImageDraw, ImageFont

    size = image.shape[0]
    lung_x0, lung_x1 = landmarks[3, 0] - 2.0, landmarks[4, 0] + 2.0
    lung_y0, lung_y1 = np.min(landmarks[1:3, 1]) - 2.0, np.max(landmarks[7:9, 1]) + 2.0
    for text, (left, top), (dx, dy), height, boxed in p["markers"]:
        pixels = max(4, int(round(height * size)))
        try:
            font = ImageFont.load_default(size=max(6, pixels))
        except TypeError:  # Pillow < 10.1 has one bitmap font size
            font = ImageFont.load_default()
        x0, y0, x1, y1 = font.getbbox(text)
        canvas = Image.new("L", (x1 - x0 + 4, y1 - y0 + 4), 0)
        ImageDraw.Draw(canvas).text((2 - x0, 2 - y0), text, fill=255, font=font)
        glyph = np.asarray(canvas, dtype=np.float32) * np.float32(1.0 / 255.0)
        gh, gw = glyph.shape
        col = int(dx * size) if left else size - gw - int(dx * size)
        row = int(dy * size) if top else size - gh - int(dy * size)
        r0, c0 = max(row, 0), max(col, 0)
        r1, c1 = min(row + gh, size), min(col + gw, size)
        if r0 >= r1 or c0 >= c1 or (c0 < lung_x1 and c1 > lung_x0 and r0 < lung_y1 and r1 > lung_y0):
            continue
        patch = glyph[r0 - row : r1 - row, c0 - col : c1 - col]
        target = image[r0:r1, c0:c1]
        if boxed:
            target *= 0.25
        np.maximum(target, 0.95 * patch, out=target)


def _blur(image, sigma):
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


def _quantum_noise(seed_sequence, size):
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


def _film(projection, p, out):
    """The film curve `(0.5 + 0.5 tanh((P - centre) / width)) ** gamma` of the study, written into `out`."""
    np.subtract(projection, np.float32(p["window_center"]), out=out)
    out *= np.float32(1.0 / p["window_width"])
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    if p["gamma"] != 1.0:
        np.power(out, np.float32(p["gamma"]), out=out)


def _render_image(p, frame, landmarks, noise_seed, channel, image_out, twin_out, masks):
    """Render one study into `image_out` and `twin_out` (the bone-free twin, or None), both `(H, W)` in [0, 1],
    and `masks` (`(H, W, M)` uint8, zero on entry); return the boxes `(x1, y1, x2, y2, title)`."""
    image_size = frame.size
    body = _body(frame, p)
    projection = MU_SOFT * body
    _add_breasts(frame, p, projection)
    bones = np.zeros_like(body)
    sides, lung_ramp = _render_sides(frame, p, body, projection, bones, masks, channel)
    _render_midline(frame, p, projection)
    _render_opacities(frame, p, body, lung_ramp, sides, projection)
    boxes = []
    for title, (rows, cols), region in _render_lesions(frame, p, body, lung_ramp, projection):
        hit_rows, hit_cols = np.nonzero(region)
        if hit_rows.size == 0:
            continue
        r0, c0 = rows.start, cols.start
        boxes.append(
            (c0 + hit_cols.min(), r0 + hit_rows.min(), c0 + hit_cols.max() + 1.0, r0 + hit_rows.max() + 1.0, title)
        )
        name = title.lower()
        if name in channel:
            masks[rows, cols, channel[name]] |= region
    if p["devices"]:
        _add_devices(frame, p, projection)
    # Quantum noise: N = N0 exp(-P) photons per pixel, so log(N0 / N) has standard deviation exp(P / 2) / sqrt(N0).
    noise = _quantum_noise(noise_seed, image_size)
    photons = p["photons"] * frame.spacing_x * frame.spacing_y
    noise *= np.exp(0.5 * np.maximum(projection, 0.0))
    projection += noise * (1.0 / math.sqrt(photons))
    sigma = p["blur_mm"] / frame.spacing
    bone_free = _blur(projection, sigma)
    bones *= (MU_BONE - MU_SOFT) * p["bone_density"]
    image = bone_free + _blur(bones, sigma)
    if p["scatter"]:
        _add_scatter(image, bone_free, p["scatter"], int(round(25.0 / frame.spacing)))
    if p["detail"]:
        # Detail enhancement relative to the low-pass of the full image, for the twin too: the image minus its twin
        # stays the (enhanced) bone, never negative.
        low_pass = _box_blur(_box_blur(image, int(round(12.0 / frame.spacing))), int(round(12.0 / frame.spacing)))
        _detail_enhance(image, low_pass, p["detail"])
        _detail_enhance(bone_free, low_pass, p["detail"])
    if p["auto_window"] is not None:
        p = {**p, **_auto_window(image, lung_ramp, p["auto_window"])}
    _film(image, p, image_out)
    if twin_out is not None:
        _film(bone_free, p, twin_out)
    for out in (image_out, twin_out):
        if out is not None and (p["collimation"] or p["markers"]):
            _collimate(out, p, frame, landmarks)
            _draw_markers(out, p, landmarks)
    return boxes


def _landmarks(p, frame):
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
    x, y = frame.to_pixels(anatomical[:, 0], anatomical[:, 1])
    return np.stack([x, y], axis=1).astype(np.float32)


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
    if acquisition not in ACQUISITIONS:
        raise ValueError(f"acquisition must be one of {list(ACQUISITIONS)}, got {acquisition!r}")
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
        acquisition_rng = (
            np.random.default_rng(np.random.SeedSequence([seed, 3, index])) if acquisition == "varied" else None
        )
        params.append(_sample_study(rng, patient, titles, forced is not None, acquisition_rng))
        patient_ids.append(f"phantom-{seed}-{patient_index:06d}")

    channel = {name: i for i, name in enumerate(mask_names)}
    images = np.empty((num_images, image_size, image_size, 1), dtype=np.float32)
    twins = np.empty_like(images) if bone_free else None
    masks = np.zeros((num_images, image_size, image_size, len(mask_names)), dtype=np.uint8)
    landmarks = np.empty((num_images, len(LANDMARK_NAMES), 2), dtype=np.float32)
    spacings = np.empty((num_images, 2), dtype=np.float32)
    all_boxes, labels = [], np.zeros((num_images, NUM_PATHOLOGIES), dtype=np.float32)
    for index, item in enumerate(params):
        noise_seed = np.random.SeedSequence([seed, 2, index])
        twin = twins[index, ..., 0] if bone_free else None
        frame = _Frame(item, image_size)
        landmarks[index] = _landmarks(item, frame)
        spacings[index] = (frame.spacing_y, frame.spacing_x)
        boxes = _render_image(
            item, frame, landmarks[index], noise_seed, channel, images[index, ..., 0], twin, masks[index]
        )
        all_boxes.append([(*box[:4], code_of(box[4])) for box in boxes])
        titles = {t for t in item["titles"] if t not in BOX_FINDINGS} | {box[4] for box in boxes}
        titles.discard("Cardiomegaly")
        labels[index, [code_of(t) for t in titles]] = 1.0

    # Imported here: lecture_lib.metrics loads Keras, which the data modules (and their users) need not import.
    from lecture_lib.metrics import cardiothoracic_ratio

    ratio = np.asarray(cardiothoracic_ratio(landmarks, LANDMARK_NAMES), dtype=np.float32)
    labels[:, code_of("Cardiomegaly")] = [item["cardiomegaly"] for item in params]
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
        "reader_ctr": np.array([item["reader_ctr"] for item in params], dtype=np.float32),
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
        views=np.array([item["projection"] for item in params], dtype=object),
        pixel_spacing_mm=spacings,
        source="phantom",
    )
