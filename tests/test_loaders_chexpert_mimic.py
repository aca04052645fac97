"""Tests of the CheXpert and MIMIC-CXR-JPG loaders: label policies, mapping table, paths, splits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from loader_fixtures import another_seed, make_chexpert, make_mimic, seeded_sample

from lecture_lib import labels
from lecture_lib.datasets import chexpert, download, mimic

nan = np.nan
C = labels.code_of


def test_chexpert_mapping_table_uses_slide_titles():
    assert {labels.code_of(title) for title in chexpert.CHEXPERT_TO_SLIDE.values()} == {0, 1, 2, 3, 4, 10, 13, 14}


def test_load_chexpert_default_policies(tmp_path):
    data = chexpert.load_chexpert(make_chexpert(tmp_path), image_size=32, progress=False)
    assert len(data) == 3 and data.views.tolist() == ["AP", "PA", "AP"]  # lateral dropped
    assert data.patient_ids.tolist() == ["patient00001", "patient00002", "patient00003"]
    first, second, third = data.labels
    assert first[C("Cardiomegaly")] == 1 and np.isnan(first[C("Edema")]) and first[C("Effusion")] == 0
    assert first[C("Atelectasis")] == 0 and first[C("No Finding")] == 0  # blank -> 0 by default
    assert second[C("No Finding")] == 1 and np.nansum(second) == 1  # No Finding row: findings 0
    assert np.isnan(third[C("Pneumonia")]) and third[C("No Finding")] == 0
    for row in data.labels:  # codes CheXpert does not label stay NaN
        assert np.isnan(row[[C("Emphysema"), C("Fibrosis"), C("Hernia"), C("Infiltration"), C("Mass"), C("Nodule"),
                             C("Pleural_Thickening")]]).all()  # fmt: skip
    np.testing.assert_allclose(data.images[0], 50 / 255, atol=0.01)


def test_chexpert_uncertainty_policies(tmp_path):
    folder = make_chexpert(tmp_path)
    ones = chexpert.load_chexpert(folder, image_size=16, uncertain="ones", progress=False).labels
    zeros = chexpert.load_chexpert(folder, image_size=16, uncertain="zeros", blank="nan", progress=False).labels
    assert ones[0, C("Edema")] == 1 and ones[2, C("Pneumonia")] == 1
    assert zeros[0, C("Edema")] == 0 and np.isnan(zeros[0, C("Atelectasis")])
    assert zeros[1, C("Atelectasis")] == 0  # No Finding = 1 makes blanks 0 even with blank="nan"
    with pytest.raises(ValueError, match="uncertain must be one of \\['nan', 'ones', 'zeros'\\], got 'maybe'"):
        chexpert.load_chexpert(folder, uncertain="maybe")


def test_chexpert_frontal_only_drops_decubitus_rows_and_views_stay_in_the_vocabulary(tmp_path):
    folder = make_chexpert(tmp_path, decubitus=True)
    table = pd.read_csv(folder / "CheXpert-v1.0-small" / "train.csv")
    frontal = (table["Frontal/Lateral"] == "Frontal") & table["AP/PA"].isin(["AP", "PA"])
    assert (table["AP/PA"].isin(["LL", "RL"]) & (table["Frontal/Lateral"] == "Frontal")).sum() == 2
    data = chexpert.load_chexpert(folder, image_size=16, progress=False)
    assert len(data) == frontal.sum() == 3 and data.views.tolist() == table.loc[frontal, "AP/PA"].tolist()
    everything = chexpert.load_chexpert(folder, image_size=16, views=("PA", "AP", "LATERAL"), progress=False)
    assert len(everything) == len(table) == 6
    assert everything.views.tolist() == ["AP", "PA", "LATERAL", "AP", "LATERAL", "LATERAL"]  # LL, RL: laterals
    laterals = chexpert.load_chexpert(folder, image_size=16, views="lateral", progress=False)
    assert laterals.patient_ids.tolist() == ["patient00002", "patient00004", "patient00005"]
    with pytest.raises(ValueError, match=r"chexpert views are \['PA', 'AP', 'LATERAL'\], got \['LL'\]"):
        chexpert.load_chexpert(folder, views=("LL",))
    with pytest.warns(DeprecationWarning, match=r"frontal_only=...\) is now views"):
        assert len(chexpert.load_chexpert(folder, image_size=16, frontal_only=False, progress=False)) == 6


def test_chexpert_splits_use_the_common_names_and_meta_has_age_sex_and_study(tmp_path):
    folder = make_chexpert(tmp_path)
    small = folder / "CheXpert-v1.0-small"
    lines = (small / "train.csv").read_text().splitlines()
    (small / "valid.csv").write_text("\n".join([lines[0], lines[1].replace("Female,68", "Male,40")]) + "\n")
    assert len(chexpert.load_chexpert(folder, image_size=16, split="train", progress=False)) == 3
    val = chexpert.load_chexpert(folder, image_size=16, split="val", progress=False)
    assert len(val) == 1 and val.meta["sex"].tolist() == ["M"] and val.meta["age"].tolist() == [40.0]
    everything = chexpert.load_chexpert(folder, image_size=16, progress=False)  # split="all": train, then valid
    assert len(everything) == 4 and everything.meta["sex"].tolist() == ["F", "F", "F", "M"]
    assert everything.meta["study_id"].tolist() == ["patient00001/study1", "patient00002/study1",
                                                    "patient00003/study2", "patient00001/study1"]  # fmt: skip
    assert everything.meta["file"].iloc[0] == "CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg"
    with pytest.warns(DeprecationWarning, match="split='valid' is now split='val'"):
        assert len(chexpert.load_chexpert(folder, image_size=16, split="valid", progress=False)) == 1
    with pytest.raises(ValueError, match=r"chexpert publishes no 'test' split"):
        chexpert.load_chexpert(folder, split="test")


def test_chexpert_needs_registration(tmp_path):
    with pytest.raises(download.DatasetNotFoundError, match="(?s)register at https://stanfordaimi.*train.csv"):
        chexpert.load_chexpert(tmp_path / "none")


def test_mimic_image_path_layout():
    assert mimic.image_path(10000032, 50414267, "abc") == "files/p10/p10000032/s50414267/abc.jpg"


def test_load_mimic_joins_study_labels_split_and_views(tmp_path):
    folder = make_mimic(tmp_path)
    train = mimic.load_mimic(folder, image_size=16, split="train", progress=False)
    assert train.patient_ids.tolist() == ["10000032"] and train.views.tolist() == ["PA"]  # lateral filtered
    assert train.labels[0, C("No Finding")] == 1 and train.labels[0, C("Edema")] == 0
    test = mimic.load_mimic(folder, image_size=16, split="test", progress=False)
    assert np.isnan(test.labels[0, C("Atelectasis")]) and test.labels[0, C("Edema")] == 1
    assert test.labels[0, C("Effusion")] == 1
    negbio = mimic.load_mimic(folder, image_size=16, split="test", labeler="negbio", progress=False)
    assert negbio.labels[0, C("Atelectasis")] == 0
    everything = mimic.load_mimic(folder, image_size=16, split="all", views=("PA", "LATERAL", "AP"), progress=False)
    assert everything.views.tolist() == ["PA", "LATERAL", "AP"]
    np.testing.assert_allclose(everything.images[:, 0, 0, 0], [100 / 255, 150 / 255, 200 / 255], atol=0.01)
    assert everything.meta["study_id"].tolist() == ["50414267", "50414267", "53000001"]
    assert everything.meta["file"].iloc[2] == "files/p11/p11000011/s53000001/d3.jpg"
    frontal = mimic.load_mimic(folder, progress=False)  # defaults: split="all", PA and AP, 128 px
    assert frontal.views.tolist() == ["PA", "AP"] and frontal.image_size == (128, 128)


def test_mimic_old_split_names_warn_and_val_is_validate(tmp_path):
    folder = make_mimic(tmp_path)
    with pytest.warns(DeprecationWarning, match=r"split=None\) is now split='all'"):
        assert len(mimic.load_mimic(folder, image_size=16, split=None, progress=False)) == 2
    with pytest.raises(
        download.DatasetNotFoundError, match="no MIMIC-CXR-JPG image"
    ):  # the fixture has no validate rows
        mimic.load_mimic(folder, image_size=16, split="val", progress=False)
    with (
        pytest.warns(DeprecationWarning, match="split='validate' is now split='val'"),
        pytest.raises(download.DatasetNotFoundError),
    ):
        mimic.load_mimic(folder, image_size=16, split="validate", progress=False)


def test_mimic_image_of_a_study_without_a_label_row_is_unknown(tmp_path):
    folder = make_mimic(tmp_path, unlabelled_study=True)
    meta = pd.read_csv(folder / "mimic-cxr-2.0.0-metadata.csv.gz")
    studies = pd.read_csv(folder / "mimic-cxr-2.0.0-chexpert.csv.gz")[["subject_id", "study_id"]]
    joined = meta.merge(studies, on=["subject_id", "study_id"], how="left", indicator=True)
    assert joined.loc[joined["_merge"] == "left_only", "dicom_id"].tolist() == ["d4"]
    for labeler in ("chexpert", "negbio"):
        for blank in ("zeros", "nan"):
            data = mimic.load_mimic(folder, image_size=16, split="test", labeler=labeler, blank=blank, progress=False)
            assert data.patient_ids.tolist() == ["11000011", "12000012"]
            assert data.labels[0, C("Edema")] == 1 and np.isnan(data.labels[1]).all()  # d4: the source says nothing


def test_mimic_is_credentialed(tmp_path):
    with pytest.raises(download.DatasetNotFoundError, match="(?s)credentialed access.*physionet.*files/p10"):
        mimic.load_mimic(tmp_path, download=True)


# ------------------------------------------------------------------------------------------ num_images and seed


def test_chexpert_num_images_takes_the_first_images_or_a_seeded_sample(tmp_path):
    folder = make_chexpert(tmp_path)
    every = ("PA", "AP", "LATERAL")
    files = chexpert.load_chexpert(folder, image_size=16, views=every, progress=False).meta["file"].tolist()
    grey = {name: 50 * (index + 1) for index, name in enumerate(files)}  # make_chexpert: JPEG i is 50 (i + 1)
    first = chexpert.load_chexpert(folder, image_size=16, num_images=2, seed=None, views=every, progress=False)
    assert len(files) == 4 and first.meta["file"].tolist() == files[:2]
    for seed in (0, another_seed(files, 2, 0)):
        drawn = chexpert.load_chexpert(folder, image_size=16, num_images=2, views=every, seed=seed, progress=False)
        expected = seeded_sample(files, 2, seed)
        assert drawn.meta["file"].tolist() == expected
        np.testing.assert_allclose(drawn.images[:, 0, 0, 0], [grey[name] / 255 for name in expected], atol=2 / 255)
    frontal = [name for name in files if "frontal" in name]  # views=None: the frontal images only
    drawn = chexpert.load_chexpert(folder, image_size=16, num_images=2, seed=5, progress=False)
    assert drawn.meta["file"].tolist() == seeded_sample(frontal, 2, 5)


def test_mimic_num_images_takes_the_first_images_or_a_seeded_sample(tmp_path):
    folder = make_mimic(tmp_path, unlabelled_study=True)
    every = ("PA", "AP", "LATERAL")
    files = mimic.load_mimic(folder, image_size=16, views=every, progress=False).meta["file"].tolist()
    grey = dict(zip(files, (100, 150, 200, 250), strict=True))  # d1 ... d4 of make_mimic
    assert [name[-6:] for name in files] == ["d1.jpg", "d2.jpg", "d3.jpg", "d4.jpg"]
    first = mimic.load_mimic(folder, image_size=16, num_images=3, views=every, progress=False)
    assert first.meta["file"].tolist() == files[:3]
    for seed in (0, another_seed(files, 2, 0)):
        drawn = mimic.load_mimic(folder, image_size=16, num_images=2, views=every, seed=seed, progress=False)
        expected = seeded_sample(files, 2, seed)
        assert drawn.meta["file"].tolist() == expected
        np.testing.assert_allclose(drawn.images[:, 0, 0, 0], [grey[name] / 255 for name in expected], atol=2 / 255)
        unlabelled = [name.endswith("d4.jpg") for name in expected]  # d4's study has no label row: all NaN
        assert np.isnan(drawn.labels).all(axis=1).tolist() == unlabelled
