"""Tests of the CXRSet data contract: validation errors, indexing, splits, task arrays, summary, concatenation."""

import numpy as np
import pytest

from lecture_lib.datasets import CXRSet


def make(num=10, size=8, patients=None, **fields):
    rng = np.random.default_rng(0)
    labels = np.zeros((num, 15), np.float32)
    labels[np.arange(num), np.arange(num) % 15] = 1.0
    base = {
        "images": rng.uniform(0, 1, (num, size, size, 1)).astype(np.float32),
        "labels": labels,
        "masks": (rng.uniform(0, 1, (num, size, size, 2)) > 0.5).astype(np.uint8),
        "mask_names": ("right_lung", "heart"),
        "boxes": np.array([[[1, 2, 5, 6], [-1, -1, -1, -1]]] * num, np.float32),
        "box_classes": np.array([[11, -1]] * num, np.int32),
        "landmarks": rng.uniform(0, size, (num, 3, 2)).astype(np.float32),
        "landmark_names": ("a", "b", "c"),
        "targets": {"bone_free": rng.uniform(0, 1, (num, size, size, 1)).astype(np.float32)},
        "patient_ids": patients if patients is not None else [f"p{i // 2}" for i in range(num)],
        "source": "test",
    }
    base.update(fields)
    return CXRSet(**base)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"images": np.zeros((2, 8, 8), np.float32)}, r"images has shape \(2, 8, 8\).*4 axes"),
        ({"images": np.zeros((10, 8, 8, 1), np.float64)}, "dtype float64"),
        ({"images": np.full((10, 8, 8, 1), 2.0, np.float32)}, r"\[0, 1\].*2.0"),
        ({"labels": np.zeros((10, 14), np.float32)}, r"labels has shape \(10, 14\)"),
        ({"labels": np.full((10, 15), -1.0, np.float32)}, "NaN"),
        ({"labels": np.zeros((9, 15), np.float32)}, "9 rows"),
        ({"masks": np.full((10, 8, 8, 2), 3, np.uint8)}, "maximum of 3"),
        ({"mask_names": ("right_lung",)}, "mask_names must be 2 strings"),
        ({"box_classes": np.array([[11, 11]] * 10, np.int32)}, "all -1 exactly where"),
        ({"boxes": np.array([[[5, 2, 1, 6], [-1] * 4]] * 10, np.float32)}, "x1 <= x2"),
        ({"box_classes": np.array([[15, -1]] * 10, np.int32)}, "slide codes"),
        ({"landmark_names": ("a", "a", "b")}, "duplicate"),
        ({"targets": {"bone_free": np.zeros((10, 4, 4, 1), np.float32)}}, "bone_free"),
        ({"patient_ids": ["p"] * 3}, "patient_ids must be 10 strings"),
        ({"pixel_spacing_mm": np.zeros((10, 2), np.float32)}, "positive mm"),
    ],
)
def test_validation_names_the_field_and_the_problem(fields, message):
    with pytest.raises(ValueError, match=message):
        make(**fields)


def test_defaults_and_len():
    data = CXRSet(images=np.zeros((3, 4, 5, 1), np.float32))
    assert len(data) == 3 and data.image_size == (4, 5)
    assert data.patient_ids.tolist() == ["image-0", "image-1", "image-2"] and data.views.tolist() == ["PA"] * 3
    assert np.isnan(data.pixel_spacing_mm).all()


def test_indexing_keeps_every_field_aligned():
    data = make()
    for index, expected in [(3, [3]), (-1, [9]), (slice(2, 8, 3), [2, 5]), (np.array([4, 1]), [4, 1])]:
        part = data[index]
        np.testing.assert_array_equal(part.images, data.images[expected])
        np.testing.assert_array_equal(part.masks, data.masks[expected])
        np.testing.assert_array_equal(part.targets["bone_free"], data.targets["bone_free"][expected])
        assert part.patient_ids.tolist() == [data.patient_ids[i] for i in expected]
    mask = np.arange(10) % 3 == 0
    assert data.subset(mask).patient_ids.tolist() == ["p0", "p1", "p3", "p4"]
    with pytest.raises(IndexError, match="out of range"):
        data[10]


def test_patient_split_has_no_overlap_and_follows_fractions():
    patients = [f"p{i // 3}" for i in range(300)]
    data = make(300, 4, patients=patients, boxes=None, box_classes=None)
    parts = data.split((0.7, 0.15, 0.15), seed=0)
    assert sum(len(part) for part in parts) == 300
    sets = [set(part.patient_ids) for part in parts]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    assert [len(part) for part in parts] == pytest.approx([210, 45, 45], abs=3)
    by_image = data.split((0.5, 0.5), seed=0, by="image")
    assert set(by_image[0].patient_ids) & set(by_image[1].patient_ids)  # the leakage a patient split prevents


def test_split_rejects_bad_fractions():
    with pytest.raises(ValueError, match="summing to 1"):
        make().split((0.5, 0.4))
    with pytest.raises(ValueError, match="'patient' or 'image'"):
        make().split(by="study")


def test_xy_for_each_task():
    data = make()
    x, y = data.xy("classification", findings=["Atelectasis", "Cardiomegaly"])
    assert x.shape == (10, 8, 8, 1) and y.tolist()[:3] == [[1, 0], [0, 1], [0, 0]]
    _, y = data.xy("segmentation", mask_names=["heart"], background=True)
    assert y.dtype == np.float32 and y.shape == (10, 8, 8, 2)
    np.testing.assert_array_equal(y[..., 0], 1 - data.masks[..., 1])
    _, y = data.xy("detection", normalized=True)
    np.testing.assert_allclose(y["boxes"][0, 0], [1 / 8, 2 / 8, 5 / 8, 6 / 8])
    assert y["labels"][0].tolist() == [11, -1] and y["boxes"][0, 1].tolist() == [-1] * 4
    _, y = data.xy("detection", classes=["Mass"])
    assert (y["labels"] == -1).all()
    _, y = data.xy("landmarks", landmark_names=["c", "a"], normalized=True)
    np.testing.assert_allclose(y, data.landmarks[:, [2, 0]] / 8)
    _, y = data.xy("bone_suppression")
    assert y is data.targets["bone_free"]
    with pytest.raises(ValueError, match="unknown task"):
        data.xy("registration")
    with pytest.raises(ValueError, match="no masks"):
        CXRSet(images=np.zeros((1, 4, 4, 1), np.float32)).xy("segmentation")


def test_summary_counts_positives_and_unknowns():
    data = make()
    data.labels[0, 1] = np.nan
    table = data.summary()
    assert table.loc["Atelectasis", "positive"] == 1 and table.loc["Cardiomegaly", "unknown"] == 1
    assert table.loc["Cardiomegaly", "positive"] == 1 and table.loc["Cardiomegaly", "prevalence"] == pytest.approx(
        1 / 9
    )


def test_concatenate_pads_boxes_and_fills_missing_labels():
    first = make(4)
    second = make(3, boxes=np.full((3, 3, 4), -1, np.float32), box_classes=np.full((3, 3), -1, np.int32))
    second.labels = None
    joined = CXRSet.concatenate([first, second])
    assert len(joined) == 7 and joined.boxes.shape == (7, 3, 4)
    assert np.isnan(joined.labels[4:]).all() and joined.box_classes[0].tolist() == [11, -1, -1]
    with pytest.raises(ValueError, match="different sizes"):
        CXRSet.concatenate([first, make(2, size=4)])


def test_unreadable_files_stay_listed_through_subset_split_and_concatenate():
    loaded = make(6, unreadable={"0/b.png": "missing"})
    assert make(2).unreadable == {}
    assert loaded[1:3].unreadable == {"0/b.png": "missing"}
    assert all(part.unreadable == {"0/b.png": "missing"} for part in loaded.split((0.5, 0.5), seed=0, by="image"))
    joined = CXRSet.concatenate([loaded, make(2, unreadable={"1/c.png": "truncated"})])
    assert joined.unreadable == {"0/b.png": "missing", "1/c.png": "truncated"}


def test_meta_rows_follow_the_images_through_subset_split_and_concatenate():
    import pandas as pd

    meta = pd.DataFrame({"file": [f"f{i}.png" for i in range(6)], "age": [20.0, 30, 40, 50, 60, 70]})
    loaded = make(6, meta=meta)
    assert list(loaded[[4, 1]].meta["file"]) == ["f4.png", "f1.png"] and list(loaded[[4, 1]].meta.index) == [0, 1]
    assert list(loaded[loaded.meta["age"] > 45].meta["age"]) == [50, 60, 70]
    for part in loaded.split((0.5, 0.5), seed=3, by="patient"):
        # each image keeps its own row: image i of the fixture has patient p{i // 2} and file f{i}.png
        assert [f"p{int(name[1]) // 2}" for name in part.meta["file"]] == list(part.patient_ids)
    joined = CXRSet.concatenate([loaded, make(2)])
    assert list(joined.meta.columns) == ["file", "age"] and len(joined.meta) == 8
    assert joined.meta["file"].iloc[5] == "f5.png" and joined.meta["age"].iloc[6:].isna().all()
    assert make(3).meta.shape == (3, 0)


def test_meta_must_have_one_row_per_image():
    import pandas as pd

    with pytest.raises(ValueError, match=r"meta must be a pandas.DataFrame with one row per image \(10\).*length 3"):
        make(10, meta=pd.DataFrame({"age": [1, 2, 3]}))
    with pytest.raises(ValueError, match="meta must be a pandas.DataFrame.*got dict"):
        make(10, meta={"age": list(range(10))})
