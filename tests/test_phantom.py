"""Tests of the synthetic chest X-ray phantom: determinism, resolution independence, ground truth vs geometry."""

import dataclasses
import warnings

import numpy as np
import pytest
from scipy.ndimage import binary_dilation, binary_erosion, median_filter
from skimage.transform import resize

from lecture_lib.datasets import phantom
from lecture_lib.datasets.phantom import LANDMARK_NAMES, MASK_NAMES, generate
from lecture_lib.datasets.phantom.acquisition import (
    STANDARD_ACQUISITION,
    Frame,
    add_wire,
    auto_window,
    film,
    quantum_noise,
)
from lecture_lib.datasets.phantom.anatomy import LEFT, RIGHT, sample_patient
from lecture_lib.datasets.phantom.findings import FINDING_TABLE
from lecture_lib.labels import FINDINGS, PATHOLOGIES, code_of
from lecture_lib.metrics import cardiothoracic_ratio


@pytest.fixture(scope="module")
def data():
    return generate(48, image_size=64, seed=3)


@pytest.fixture(scope="module")
def standard():
    """The fixed PA set-up: a centred 380 mm field, one film curve, nothing on the film."""
    return generate(48, image_size=64, seed=3, acquisition="standard")


def test_contract_shapes_and_ranges(data):
    assert data.images.shape == (48, 64, 64, 1) and data.images.dtype == np.float32
    assert 0.0 <= data.images.min() and data.images.max() <= 1.0
    assert data.masks.shape == (48, 64, 64, len(MASK_NAMES)) and data.mask_names == MASK_NAMES
    assert data.landmarks.shape == (48, len(LANDMARK_NAMES), 2) and len(LANDMARK_NAMES) >= 8
    assert data.targets["bone_free"].shape == data.images.shape
    assert data.source == "phantom"


def test_pixel_spacing_follows_the_acquisition(data, standard):
    np.testing.assert_allclose(standard.pixel_spacing_mm, phantom.FIELD_OF_VIEW_MM / 64)
    assert set(standard.views) == {"PA"}
    # Varied films: a 330-430 mm wide field whose height is 35/43 to 43/35 of its width, stored in 64 x 64 pixels.
    rows, cols = data.pixel_spacing_mm[:, 0], data.pixel_spacing_mm[:, 1]
    assert np.all((cols >= 330 / 64) & (cols <= 430 / 64))
    assert np.all((rows / cols >= 0.8 - 1e-5) & (rows / cols <= 1.23 + 1e-5))
    assert len(np.unique(cols)) == len(data)


def test_the_acquisition_does_not_change_anatomy_or_findings():
    varied, fixed = generate(6, 64, seed=9), generate(6, 64, seed=9, acquisition="standard")
    np.testing.assert_array_equal(np.delete(varied.labels, code_of("Cardiomegaly"), axis=1),
                                  np.delete(fixed.labels, code_of("Cardiomegaly"), axis=1))  # fmt: skip
    np.testing.assert_array_equal(varied.targets["reader_ctr"], fixed.targets["reader_ctr"])
    np.testing.assert_array_equal(varied.patient_ids, fixed.patient_ids)


def test_views_are_pa_or_ap_at_about_one_in_five():
    views = generate(300, 32, seed=0, mask_names=[], bone_free=False).views
    assert set(views) == {"PA", "AP"}
    assert 0.12 < np.mean(views == "AP") < 0.28


def test_deterministic():
    first, second = generate(6, 64, seed=11), generate(6, 64, seed=11)
    np.testing.assert_array_equal(first.images, second.images)
    np.testing.assert_array_equal(first.masks, second.masks)
    np.testing.assert_array_equal(first.boxes, second.boxes)
    assert not np.array_equal(first.images, generate(6, 64, seed=12).images)


def test_prefix_of_larger_set_is_the_smaller_set():
    np.testing.assert_array_equal(generate(3, 64, seed=5).images, generate(7, 64, seed=5).images[:3])


def _iou(a, b):
    return np.logical_and(a, b).sum() / max(np.logical_or(a, b).sum(), 1)


def test_same_anatomy_at_every_resolution():
    names = ["right_lung", "left_lung", "heart"]
    small = generate(4, 64, seed=2, mask_names=names)
    large = generate(4, 256, seed=2, mask_names=names)
    np.testing.assert_array_equal(small.labels, large.labels)
    np.testing.assert_allclose(small.landmarks * 4, large.landmarks, rtol=1e-5, atol=1e-3)
    for i in range(4):
        for c in range(3):
            upsampled = resize(small.masks[i, ..., c].astype(float), (256, 256), order=1) > 0.5
            assert _iou(upsampled, large.masks[i, ..., c] > 0) >= 0.9


def test_ctr_landmarks_and_the_readers_label(data, standard):
    ctr = cardiothoracic_ratio(data.landmarks, data.landmark_names)
    heart = data.landmarks[:, [LANDMARK_NAMES.index("right_heart"), LANDMARK_NAMES.index("left_heart")], 0]
    thorax = data.landmarks[:, [LANDMARK_NAMES.index("right_thorax"), LANDMARK_NAMES.index("left_thorax")], 0]
    np.testing.assert_allclose(ctr, (heart[:, 1] - heart[:, 0]) / (thorax[:, 1] - thorax[:, 0]), rtol=1e-6)
    np.testing.assert_allclose(data.targets["cardiothoracic_ratio"], ctr, rtol=1e-6)
    # The label is the reader's measurement above 0.5, not the image's ratio.
    reader = data.targets["reader_ctr"]
    np.testing.assert_array_equal(data.labels[:, code_of("Cardiomegaly")], (reader > 0.5).astype(np.float32))
    # On the standard PA film the image's ratio is the true one, and the reader is off by a reading error of 0.012
    # (4 standard deviations at most). Ratios are continuous across 0.5.
    standard_ctr = cardiothoracic_ratio(standard.landmarks, standard.landmark_names)
    assert np.abs(standard_ctr - standard.targets["reader_ctr"]).max() < 0.05
    assert np.abs(standard_ctr - standard.targets["reader_ctr"]).max() > 0.0
    # AP films magnify the heart (8-20 %), so their image ratio overstates what the reader reports.
    ap = data.views == "AP"
    assert ap.any()
    assert np.all(ctr[ap] > data.targets["reader_ctr"][ap])
    forced = generate(6, 64, seed=1, findings=["Cardiomegaly"], acquisition="standard")
    assert np.all(cardiothoracic_ratio(forced.landmarks, forced.landmark_names) > 0.5)
    assert np.all(forced.labels[:, code_of("Cardiomegaly")] == 1)
    healthy = generate(6, 64, seed=1, findings=[], acquisition="standard")
    assert np.all(healthy.labels[:, code_of("Cardiomegaly")] == 0)


def test_ctr_is_continuous_around_one_half():
    reader = generate(400, 32, seed=0, mask_names=[], bone_free=False).targets["reader_ctr"]
    assert ((reader > 0.47) & (reader <= 0.5)).sum() >= 10 and ((reader > 0.5) & (reader < 0.53)).sum() >= 10
    assert 0.42 < np.median(reader) < 0.47


def test_heart_landmarks_lie_on_the_heart_mask_border(data):
    heart = data.masks[..., MASK_NAMES.index("heart")]
    for i in range(8):
        cols = np.nonzero(heart[i].any(axis=0))[0]
        x_right, x_left = (
            data.landmarks[i, LANDMARK_NAMES.index("right_heart"), 0],
            data.landmarks[i, LANDMARK_NAMES.index("left_heart"), 0],
        )
        assert abs(cols.min() - x_right) <= 1.0 and abs(cols.max() + 1 - x_left) <= 1.0


def test_lesion_boxes_contain_their_masks():
    data = generate(12, 128, seed=4, findings=["Nodule", "Mass", "Pneumonia", "Consolidation"])
    for i in range(len(data)):
        for code in (code_of("Nodule"), code_of("Mass"), code_of("Pneumonia"), code_of("Consolidation")):
            mask = data.masks[i, ..., MASK_NAMES.index(PATHOLOGIES[code].lower())]
            boxes = data.boxes[i][data.box_classes[i] == code]
            assert data.labels[i, code] == (len(boxes) > 0)
            rows, cols = np.nonzero(mask)
            inside = np.zeros(rows.shape, bool)
            for x1, y1, x2, y2 in boxes:
                inside |= (cols >= x1) & (cols + 1 <= x2) & (rows >= y1) & (rows + 1 <= y2)
            assert inside.all()
            for x1, y1, x2, y2 in boxes:
                assert mask[int(y1) : int(y2), int(x1) : int(x2)].any()


def test_bone_free_differs_only_by_bones(data, standard):
    image, twin = data.images[..., 0], data.targets["bone_free"][..., 0]
    assert np.all(image >= twin - 1e-6)
    lungs = data.masks[..., 0] | data.masks[..., 1]
    difference = (image - twin) > 0.01
    share = difference[lungs > 0].mean()
    assert 0.15 < share < 0.9
    # On the standard film, the corners above the shoulders hold no bone at all.
    np.testing.assert_array_equal(standard.images[:, :3, :3], standard.targets["bone_free"][:, :3, :3])


def test_masks_are_disjoint_where_anatomy_says_so(data):
    right, left, heart = (data.masks[..., MASK_NAMES.index(n)] for n in ("right_lung", "left_lung", "heart"))
    assert not np.any(right & left) and not np.any(right & heart) and not np.any(left & heart)
    ptx = data.masks[..., MASK_NAMES.index("pneumothorax")]
    assert np.all(ptx <= (right | left))


def test_lungs_are_darker_than_heart(data):
    # Whatever the acquisition: the auto-window puts the lungs well below the mediastinum.
    right, heart = data.masks[..., 0] > 0, data.masks[..., 2] > 0
    assert data.images[..., 0][right].mean() + 0.2 < data.images[..., 0][heart].mean()


def test_forced_findings_are_honoured():
    names = [["Effusion"], ["Pneumothorax"], [], ["No Finding"], ["Edema", "Hernia"]]
    data = generate(5, 64, seed=0, findings=names)
    assert data.labels[0, code_of("Effusion")] == 1 and data.masks[0, ..., MASK_NAMES.index("effusion")].any()
    assert data.labels[1, code_of("Pneumothorax")] == 1 and data.masks[1, ..., MASK_NAMES.index("pneumothorax")].any()
    for i in (2, 3):
        assert data.labels[i].tolist() == [float(k == code_of("No Finding")) for k in range(15)]
    assert data.labels[4].nonzero()[0].tolist() == [code_of("Edema"), code_of("Hernia")]


def test_prevalence_is_honoured_statistically():
    data = generate(400, 32, seed=0, prevalence={"Effusion": 0.5, "Pneumothorax": 0.0}, mask_names=[], bone_free=False)
    rate = data.labels[:, code_of("Effusion")].mean()
    assert abs(rate - 0.5) < 3 * np.sqrt(0.25 / 400)
    assert data.labels[:, code_of("Pneumothorax")].sum() == 0


def test_patients_have_several_studies_and_patient_split_has_no_overlap():
    data = generate(60, 32, seed=0, studies_per_patient=(2, 3), mask_names=[], bone_free=False)
    ids, counts = np.unique(data.patient_ids, return_counts=True)
    assert counts[:-1].min() >= 2 and counts.max() <= 3  # the last patient may be cut short
    parts = data.split((0.6, 0.2, 0.2), seed=1)
    seen = [set(part.patient_ids) for part in parts]
    assert not (seen[0] & seen[1]) and not (seen[0] & seen[2]) and not (seen[1] & seen[2])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_images": 0}, "num_images"),
        ({"num_images": 2, "image_size": 16}, "image_size"),
        ({"num_images": 2, "seed": -1}, "seed"),
        ({"num_images": 2, "findings": ["Cardiomegally"]}, "Cardiomegaly"),
        ({"num_images": 2, "prevalence": {"Effusion": 1.5}}, "probability"),
        ({"num_images": 2, "mask_names": ["liver"]}, "mask_names"),
        ({"num_images": 2, "findings": [["Mass"]]}, "one list per image"),
    ],
)
def test_bad_arguments_are_explained(kwargs, message):
    with pytest.raises(ValueError, match=message):
        generate(**kwargs)


def _landmark(data, name):
    return data.landmarks[:, LANDMARK_NAMES.index(name)]


def test_heart_mask_ends_at_the_diaphragm(data):
    # The silhouette rests on the diaphragm: no heart pixel lies more than 25 mm (the medial slope of the domes)
    # below the lower dome landmark, while an uncut heart ellipse reaches about 40 mm below it.
    lowest_dome = np.maximum(_landmark(data, "right_dome")[:, 1], _landmark(data, "left_dome")[:, 1])
    heart = data.masks[..., MASK_NAMES.index("heart")]
    for i in range(len(data)):
        rows = np.nonzero(heart[i].any(axis=1))[0]
        # Rotation (a few degrees) can lower the heart's far corner by up to 5 % of its width.
        assert rows.max() + 1 <= lowest_dome[i] + 30.0 / data.pixel_spacing_mm[i, 0]


def test_effusion_meniscus_is_higher_laterally():
    data = generate(8, 128, seed=6, findings=["Effusion"], acquisition="standard")
    fluid = data.masks[..., MASK_NAMES.index("effusion")]
    checked = 0
    for i in range(len(data)):
        for half in (slice(0, 64), slice(64, 128)):
            side = fluid[i, :, half]
            cols = np.nonzero(side.any(axis=0))[0]
            if cols.size < 10:
                continue
            tops = np.array([np.nonzero(side[:, c])[0].min() for c in cols])
            lateral, medial = (tops[:3], tops[-3:]) if half.start == 0 else (tops[-3:], tops[:3])
            # Rows grow downward: the lateral border of the fluid is at least 3 rows (9 mm) higher than the medial.
            assert lateral.mean() + 3 <= medial.mean()
            checked += 1
    assert checked >= 8


def test_no_lung_markings_beyond_the_pneumothorax_edge():
    # Same patient, pose, exposure and noise with and without the pneumothorax (forced findings do not change them).
    names = ["right_lung", "left_lung", "pneumothorax"]
    collapsed = generate(6, 128, seed=8, findings=["Pneumothorax"], mask_names=names, acquisition="standard")
    healthy = generate(6, 128, seed=8, findings=[], mask_names=names, acquisition="standard")
    for i in range(6):
        gap = collapsed.masks[i, ..., 2] > 0
        assert gap.sum() > 30
        inner = binary_erosion(gap, iterations=2)
        twin_gap, twin_lung = collapsed.targets["bone_free"][i, ..., 0], healthy.targets["bone_free"][i, ..., 0]
        # Free pleural air is darker than aerated lung and has no vessels: away from its borders, the thin lines
        # that stand out of a 5x5 median in the healthy lung at the same pixels are missing, leaving mostly quantum
        # noise. (The median follows the smooth rise of the darkness from the chest wall, which both images share.)
        assert twin_gap[gap].mean() < twin_lung[gap].mean() - 0.03
        lines_gap = np.abs(twin_gap - median_filter(twin_gap, 5))[inner].mean()
        lines_lung = np.abs(twin_lung - median_filter(twin_lung, 5))[inner].mean()
        assert lines_gap < 0.85 * lines_lung


def test_ribs_fade_where_soft_tissue_is_thick(standard):
    data = standard
    # Log + window film curve: thick abdomen saturates toward white, so bone adds little there, unlike in the lungs.
    image, twin = data.images[..., 0], data.targets["bone_free"][..., 0]
    bone = image - twin
    lungs = (data.masks[..., 0] | data.masks[..., 1]) > 0
    below = np.ceil(np.maximum(_landmark(data, "right_costophrenic")[:, 1], _landmark(data, "left_costophrenic")[:, 1]))
    rows = np.arange(64)[None, :, None] >= below[:, None, None] + 2
    cols = np.abs(np.arange(64) - 32)[None, None, :] < 14
    abdomen = rows & cols
    assert twin[abdomen].mean() > 0.85 and twin[lungs].mean() < 0.45
    assert np.percentile(bone[abdomen], 90) < 0.25 * np.percentile(bone[lungs], 90)


@pytest.mark.parametrize("finding", ["Consolidation", "Pneumonia"])
def test_airspace_opacities_have_soft_borders(finding):
    # Same patient, pose, exposure and noise with and without the finding: the difference of the bone-free twins is
    # the opacity alone. It is densest inside the mask, fades across its border (no cut-out block), and is absent
    # far from it.
    names = [finding.lower(), "right_lung", "left_lung"]
    sick = generate(6, 128, seed=12, findings=[finding], mask_names=names, acquisition="standard")
    healthy = generate(6, 128, seed=12, findings=[], mask_names=names, acquisition="standard")
    checked = 0
    for i in range(6):
        region = sick.masks[i, ..., 0] > 0
        if region.sum() < 20:
            continue
        opacity = sick.targets["bone_free"][i, ..., 0] - healthy.targets["bone_free"][i, ..., 0]
        core = binary_erosion(region, iterations=2)
        # The border inside the lung: an opacity stops at the chest wall's lining (PLEURA_MM = 5 mm, 2 pixels here).
        field = binary_erosion(healthy.masks[i, ..., 1] | healthy.masks[i, ..., 2], iterations=2)
        ring = binary_dilation(region, iterations=1) & ~region & field
        far = ~binary_dilation(region, iterations=8)
        assert opacity[core].mean() > 0.05
        # A cut-out block would leave the ring at 0; the fade is weaker next to the wall, where the lung is thin.
        assert 0.05 * opacity[core].mean() < opacity[ring].mean() < 0.8 * opacity[core].mean()
        assert np.abs(opacity[far]).mean() < 0.01
        checked += 1
    assert checked >= 4


def test_quantum_noise_is_standardized_and_deterministic():
    seed = np.random.SeedSequence([3, 2, 7])
    noise = quantum_noise(seed, 256)
    assert noise.shape == (256, 256) and noise.dtype == np.float32
    np.testing.assert_array_equal(noise, quantum_noise(np.random.SeedSequence([3, 2, 7]), 256))
    # Sum of four uniform bytes: mean 0, variance 1, bounded by 510 / sqrt(21845) = 3.45, kurtosis 3 - 1.2 / 4 = 2.7.
    assert abs(noise.mean()) < 0.01 and abs(noise.std() - 1.0) < 0.01
    assert np.abs(noise).max() <= 510 / np.sqrt(21845) + 1e-5
    kurtosis = np.mean(noise.astype(np.float64) ** 4) / np.mean(noise.astype(np.float64) ** 2) ** 2
    assert abs(kurtosis - 2.7) < 0.03
    # Neighbouring pixels are independent.
    assert abs(np.corrcoef(noise[:, :-1].ravel(), noise[:, 1:].ravel())[0, 1]) < 0.01


def test_auto_window_puts_lung_and_soft_tissue_on_the_chosen_greys():
    projection = np.full((20, 20), 4.0, np.float32)
    projection[5:15, 5:15] = 1.5  # lung
    ramp = np.zeros_like(projection)
    ramp[5:15, 5:15] = 1.0
    center, width = auto_window(projection, ramp, (0.3, 0.9))
    out = np.empty_like(projection)
    film(projection, center, width, 1.0, out)
    # 0.5 + 0.5 tanh((P - centre) / width) passes through (1.5, 0.3) and (4.0, 0.9).
    np.testing.assert_allclose(out[10, 10], 0.3, atol=1e-6)
    np.testing.assert_allclose(out[0, 0], 0.9, atol=1e-6)


def test_a_wire_adds_its_cross_section():
    # Across a straight wire of radius r, the projection integrates to mu * pi * r**2 (the area of its section).
    frame = Frame(STANDARD_ACQUISITION, 512)  # centred, no rotation, no shift
    projection = np.zeros((512, 512), np.float32)
    add_wire(frame, projection, [(100.0, 190.0), (280.0, 190.0)], 3.0, 0.35)
    across = projection[:, 256].sum() * frame.spacing_y
    np.testing.assert_allclose(across, 0.35 * np.pi * 3.0**2, rtol=0.03)
    assert projection[:, 60].sum() == 0.0  # beyond the wire's end


def test_collimation_and_markers_never_cover_the_lungs():
    data = generate(80, 64, seed=5, mask_names=["right_lung", "left_lung"], bone_free=False)
    lungs = data.masks.max(axis=-1) > 0
    band = (data.images[..., 0] == np.float32(0.02)) | (data.images[..., 0] == np.float32(0.97))
    assert band.any(axis=(1, 2)).sum() >= 10  # some films are collimated
    assert not (band & lungs).any()


def test_the_finding_table_has_one_entry_per_finding():
    assert sorted(FINDING_TABLE) == sorted(FINDINGS)
    assert phantom.BOX_FINDINGS == ("Nodule", "Mass", "Pneumonia", "Consolidation")
    assert all(FINDING_TABLE[title].render is not None for title in phantom.BOX_FINDINGS)
    assert phantom.CHRONIC_FINDINGS == {"Cardiomegaly", "Emphysema", "Fibrosis", "Hernia", "Pleural_Thickening"}
    assert list(phantom.DEFAULT_PREVALENCE) == list(FINDINGS) == list(phantom.NIH_PREVALENCE)
    assert phantom.DEFAULT_PREVALENCE["Effusion"] == 0.14 and phantom.NIH_PREVALENCE["Effusion"] == 0.119


def test_a_patient_is_frozen_and_its_heart_follows_replace():
    patient = sample_patient(np.random.default_rng(0))
    before = patient.heart.half_width
    with pytest.raises(dataclasses.FrozenInstanceError):
        patient.midline = 0.0
    wet = patient.with_side(LEFT, fluid_level=250.0)
    assert wet.left.fluid_level == 250.0 and wet.right == patient.right and patient.left.fluid_level is None
    # Half the heart's width is half the ratio times the thorax width, whatever the ratio was before.
    enlarged = dataclasses.replace(patient, cardiothoracic_ratio=0.6)
    thorax = patient.sides[RIGHT].width + patient.sides[LEFT].width
    np.testing.assert_allclose(enlarged.heart.half_width, 0.5 * 0.6 * thorax)
    assert patient.heart.half_width == before < enlarged.heart.half_width


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"findings": [13]}, TypeError, r"finding titles such as 'Mass'.*got 13 in \[13\] \(code 13 is 'Pneumonia'\)"),
        ({"findings": [["Mass"], 5]}, TypeError, r"got 5 in"),
        ({"findings": 5}, TypeError, r"findings must be a list of finding titles"),
        ({"image_size": 8192}, ValueError, r"image_size must be an integer in \[32, 2048\], got 8192"),
        ({"image_size": 64.0}, TypeError, r"image_size must be an integer in \[32, 2048\], got float 64.0"),
        ({"num_images": 2.5}, TypeError, r"num_images must be a positive integer, got float 2.5"),
        ({"seed": -1}, ValueError, r"seed must be a non-negative integer, got -1"),
        ({"bone_free": "no"}, TypeError, r"bone_free must be True or False, got str 'no'"),
    ],
)
def test_bad_arguments_get_errors_that_name_them(kwargs, error, message):
    kwargs = {"num_images": 2, "image_size": 32, **kwargs}
    with pytest.raises(error, match=message):
        generate(**kwargs)


def test_numpy_integers_and_one_mask_name_are_accepted():
    data = generate(np.int64(2), image_size=np.int32(32), seed=np.uint8(3), mask_names="heart")
    assert data.images.shape == (2, 32, 32, 1) and data.mask_names == ("heart",) and data.masks.shape[-1] == 1


def test_a_request_for_more_than_a_few_gib_warns_before_rendering():
    # 200,000 images of 256² with the twin and 9 masks: 200000 · 65536 · 4 B · (1 + 1 + 9/4) = 207.5 GiB.
    # The warning is raised as an error here, so nothing is rendered.
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        with pytest.raises(ResourceWarning, match=r"about 207.5 GiB"):
            generate(200_000, image_size=256)


def test_a_bad_argument_is_refused_before_any_memory_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="unknown pathology"):
            generate(200_000, image_size=256, findings=["not a finding"])
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
