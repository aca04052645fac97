"""Tests of the SIIM-ACR (RLE masks, JPEG DICOMs) and RSNA (boxes) loaders on fixtures in their real formats."""

from __future__ import annotations

import numpy as np
import pytest
from loader_fixtures import REALDATA, another_seed, make_rsna, make_siim, ramp, rle2mask, seeded_sample

from lecture_lib import labels
from lecture_lib.datasets import download, rsna, siim

NAN = float("nan")


def test_rle_decode_hand_example_is_relative_and_column_major():
    # 3 rows x 4 columns; runs: pixels 1-2 (column 0, rows 1-2), then 4 past pixel 3 -> pixel 7 = column 2, row 1
    mask = siim.rle_decode("1 2 4 1", height=3, width=4)
    expected = np.zeros((3, 4), np.uint8)
    expected[1, 0] = expected[2, 0] = expected[1, 2] = 1
    np.testing.assert_array_equal(mask, expected)
    assert siim.rle_encode(expected) == "1 2 4 1"
    assert siim.rle_decode(" -1", 3, 4).sum() == 0 and siim.rle_encode(np.zeros((3, 4))) == "-1"


def test_rle_matches_the_challenge_reference_decoder_and_round_trips():
    rng = np.random.default_rng(0)
    mask = (rng.random((40, 40)) > 0.7).astype(np.uint8)
    rle = siim.rle_encode(mask)
    np.testing.assert_array_equal(rle2mask(rle, 40, 40).T / 255, mask)
    np.testing.assert_array_equal(siim.rle_decode(rle, 40, 40), mask)


def test_rle_errors_name_the_problem():
    with pytest.raises(ValueError, match="pairs, got 3 values"):
        siim.rle_decode("1 2 3", 4, 4)
    with pytest.raises(ValueError, match="passes the end of a 4x4 image"):
        siim.rle_decode("10 10", 4, 4)


def test_read_rle_csv_spaced_header_union_and_minus_one(tmp_path):
    make_siim(tmp_path)
    runs = siim.read_rle_csv(tmp_path / "train-rle.csv")
    assert runs == {"1.2.3.1": ["0 32", "128 32"], "1.2.3.2": [], "1.2.3.3": ["2080 64"], "1.2.3.9": []}


def test_load_siim_masks_labels_and_dicom_metadata(tmp_path):
    data = siim.load_siim(make_siim(tmp_path), image_size=32, progress=False)
    assert len(data) == 3 and data.mask_names == ("pneumothorax",)  # 1.2.3.9 has no DICOM
    expected = np.zeros((64, 64), np.uint8)
    expected[:32, 0] = expected[:32, 2] = 1  # union of the two rows of 1.2.3.1
    np.testing.assert_array_equal(siim.rle_decode("0 32", 64, 64) | siim.rle_decode("128 32", 64, 64), expected)
    # area-resized to 32: the 2x2 blocks over columns 0-1 and 2-3 are half covered -> >= 0.5 -> 1
    assert data.masks[0, :16, :2, 0].all() and data.masks[0, 16:, :, 0].sum() == 0 and data.masks[0].sum() == 32
    assert data.masks[1].sum() == 0
    # 2080 = 32 * 64 + 32: column 32 rows 32-63, then column 33 rows 0-31; each 2x2 block of output column 16 is half full
    assert data.masks[2, :, 16, 0].sum() == 32 and data.masks[2].sum() == 32
    pneumothorax = labels.code_of("Pneumothorax")
    assert data.labels[:, pneumothorax].tolist() == [1.0, 0.0, 1.0]
    assert np.isnan(np.delete(data.labels, pneumothorax, axis=1)).all()
    assert data.patient_ids.tolist() == ["pat-0", "pat-1", "pat-2"] and data.views.tolist() == ["AP", "PA", "PA"]
    np.testing.assert_allclose(data.pixel_spacing_mm, 0.168 * 2, rtol=1e-6)
    np.testing.assert_allclose(data.images[0, 5, :, 0], (np.arange(32) * 2 + 0.5) / 63, atol=0.02)
    assert len(siim.load_siim(tmp_path, image_size=32, only_positive=True, progress=False)) == 2


def test_siim_needs_registration(tmp_path):
    with pytest.raises(download.DatasetNotFoundError, match="(?s)kaggle.com/c/siim-acr.*train-rle.csv"):
        siim.load_siim(tmp_path, download=True)


@pytest.mark.realdata
@pytest.mark.skipif(not REALDATA.is_dir(), reason="../shared/realdata is absent")
def test_real_siim_dicom_loads(tmp_path):
    folder = tmp_path / "siim"
    nested = folder / "dicom-images-train" / "study" / "series"
    nested.mkdir(parents=True)
    (nested / "real.dcm").symlink_to(REALDATA / "siim_sample.dcm")
    (folder / "train-rle.csv").write_text("ImageId, EncodedPixels\nreal, -1\n")
    data = siim.load_siim(folder, image_size=256, progress=False)
    np.testing.assert_allclose(data.pixel_spacing_mm, [[0.168 * 4, 0.168 * 4]], rtol=1e-3)
    assert data.masks.sum() == 0 and 0.2 < data.images.mean() < 0.8


def test_load_rsna_boxes_up_to_four_rows_and_target_zero(tmp_path):
    data = rsna.load_rsna(make_rsna(tmp_path), image_size=32, progress=False)
    assert data.patient_ids.tolist() == ["aaa", "bbb", "ccc"]
    # 64 px image -> 32 px: (x, y, w, h) halves and becomes xyxy
    np.testing.assert_allclose(data.boxes[0], [[4, 8, 9, 18], [20, 8, 26, 20]])
    assert data.box_classes.tolist() == [[13, 13], [-1, -1], [-1, -1]]
    pneumonia, no_finding = labels.code_of("Pneumonia"), labels.NO_FINDING
    assert data.labels[:, pneumonia].tolist() == [1.0, 0.0, 0.0]
    assert data.labels[:, no_finding].tolist() == [0.0, 1.0, 0.0]  # Normal -> No Finding; Not Normal -> 0
    assert np.isnan(data.labels[:, labels.code_of("Effusion")]).all()
    assert data.views.tolist() == ["AP", "PA", "PA"]
    np.testing.assert_allclose(data.pixel_spacing_mm, 0.28, rtol=1e-6)
    assert rsna.load_rsna(tmp_path, image_size=32, only_positive=True, progress=False).patient_ids.tolist() == ["aaa"]


def test_rsna_missing_files(tmp_path):
    with pytest.raises(download.DatasetNotFoundError, match="(?s)stage_2_train_labels.csv.*rsna-pneumonia"):
        rsna.load_rsna(tmp_path)


def test_rsna_and_siim_take_views_num_images_and_fill_meta_from_the_headers(tmp_path):
    from lecture_lib.datasets.dicom import write_dicom

    folder = make_rsna(tmp_path / "rsna")
    # bbb's DICOM again, with the age, sex and study the real headers carry
    write_dicom(folder / "stage_2_train_images" / "bbb.dcm", ramp(64), patient_id="bbb", bits_stored=8,
                pixel_spacing_mm=(0.14, 0.14), view_position="PA", patient_age="051Y", patient_sex="F")  # fmt: skip
    data = rsna.load_rsna(folder, image_size=16, views="pa", progress=False)
    assert data.patient_ids.tolist() == ["bbb", "ccc"] and data.views.tolist() == ["PA", "PA"]
    assert data.meta["file"].tolist() == ["stage_2_train_images/bbb.dcm", "stage_2_train_images/ccc.dcm"]
    assert data.meta["age"].iloc[0] == 51.0 and np.isnan(data.meta["age"].iloc[1])
    assert data.meta["sex"].tolist() == ["F", ""]
    assert rsna.load_rsna(folder, image_size=16, views=["AP"], progress=False).patient_ids.tolist() == ["aaa"]
    assert rsna.load_rsna(folder, image_size=16, views="PA", num_images=1, progress=False).patient_ids.tolist() == [
        "bbb"
    ]
    with pytest.raises(ValueError, match=r"rsna views are \['PA', 'AP'\], got \['LL'\]"):
        rsna.load_rsna(folder, views="LL")
    with pytest.raises(ValueError, match="rsna publishes no 'val' split"):
        rsna.load_rsna(folder, split="val")
    siim_set = siim.load_siim(make_siim(tmp_path / "siim"), views=["AP"], progress=False)
    assert siim_set.views.tolist() == ["AP"] and siim_set.image_size == (128, 128)
    assert siim_set.meta["file"].iloc[0] == "dicom-images-train/1.2.study0/1.2.series0/1.2.3.1.dcm"
    with pytest.warns(DeprecationWarning, match="max_images"):
        assert len(siim.load_siim(tmp_path / "siim", image_size=16, max_images=2, progress=False)) == 2


# ------------------------------------------------------------------------------------------ num_images and seed


def test_siim_num_images_takes_the_first_images_or_a_seeded_sample(tmp_path):
    folder = make_siim(tmp_path)
    ids = ["1.2.3.1", "1.2.3.2", "1.2.3.3"]  # the RLE file's order; 1.2.3.9 has no DICOM
    positive = {"1.2.3.1": 1.0, "1.2.3.2": 0.0, "1.2.3.3": 1.0}  # img2 is ' -1'
    first = siim.load_siim(folder, image_size=16, num_images=2, seed=None, progress=False)
    assert first.patient_ids.tolist() == ["pat-0", "pat-1"]
    for seed in (0, another_seed(ids, 2, 0)):
        for views in (None, ("PA", "AP")):  # with views, the sample is drawn after the headers are read
            drawn = siim.load_siim(folder, image_size=64, num_images=2, views=views, seed=seed, progress=False)
            expected = seeded_sample(ids, 2, seed)
            assert drawn.patient_ids.tolist() == [f"pat-{ids.index(name)}" for name in expected]
            assert drawn.labels[:, labels.code_of("Pneumothorax")].tolist() == [positive[name] for name in expected]
            # at the DICOMs' own 64 px, img1 has 32 + 32 mask pixels and img3 one run of 64
            assert drawn.masks.sum(axis=(1, 2, 3)).tolist() == [64 * positive[name] for name in expected]


def test_rsna_num_images_takes_the_first_patients_or_a_seeded_sample(tmp_path):
    folder = make_rsna(tmp_path)
    ids = ["aaa", "bbb", "ccc"]
    assert (
        rsna.load_rsna(folder, image_size=16, num_images=2, seed=None, progress=False).patient_ids.tolist() == ids[:2]
    )
    for seed in (0, another_seed(ids, 2, 0)):
        drawn = rsna.load_rsna(folder, image_size=16, num_images=2, seed=seed, progress=False)
        expected = seeded_sample(ids, 2, seed)
        assert drawn.patient_ids.tolist() == expected
        assert [int((row >= 0).sum()) for row in drawn.box_classes] == [2 if pid == "aaa" else 0 for pid in expected]
    for seed in range(4):  # views: the sample is drawn among the PA patients bbb and ccc
        drawn = rsna.load_rsna(folder, image_size=16, views="PA", num_images=1, seed=seed, progress=False)
        assert drawn.patient_ids.tolist() == seeded_sample(["bbb", "ccc"], 1, seed)
