"""The slide's 15 codes and their encodings."""

import numpy as np
import pytest

from lecture_lib import labels

SLIDE_TABLE = [
    "Atelectasis",
    "Cardiomegaly",
    "Consolidation",
    "Edema",
    "Effusion",
    "Emphysema",
    "Fibrosis",
    "Hernia",
    "Infiltration",
    "Mass",
    "No Finding",
    "Nodule",
    "Pleural_Thickening",
    "Pneumonia",
    "Pneumothorax",
]


def test_codes_follow_the_slide_table():
    assert list(labels.PATHOLOGIES) == SLIDE_TABLE
    assert labels.NUM_PATHOLOGIES == 15
    assert labels.NO_FINDING == 10
    assert labels.code_of("Pneumothorax") == 14
    assert len(labels.FINDINGS) == 14 and "No Finding" not in labels.FINDINGS


@pytest.mark.parametrize("spelling", ["Pleural_Thickening", "pleural thickening", "PLEURAL  THICKENING"])
def test_code_of_accepts_spellings(spelling):
    assert labels.code_of(spelling) == 12


def test_one_hot_of_a_code_matches_the_slide_row():
    # Slide row "Cardiomegaly 1": a single 1 in column 1.
    expected = np.zeros(15, dtype=np.float32)
    expected[1] = 1
    np.testing.assert_array_equal(labels.one_hot(1), expected)
    np.testing.assert_array_equal(labels.one_hot("Cardiomegaly"), expected)
    assert labels.one_hot(1).dtype == np.float32


def test_one_hot_of_all_codes_is_the_identity():
    np.testing.assert_array_equal(labels.one_hot(range(15)), np.eye(15, dtype=np.float32))
    np.testing.assert_array_equal(labels.one_hot(np.array([4, 0])), np.eye(15, dtype=np.float32)[[4, 0]])


def test_multi_hot_of_an_nih_string():
    vector = labels.multi_hot("Cardiomegaly|Effusion")
    assert vector.shape == (15,)
    assert np.flatnonzero(vector).tolist() == [1, 4]
    np.testing.assert_array_equal(vector, labels.multi_hot(["Effusion", 1]))


def test_multi_hot_no_finding_and_empty():
    assert np.flatnonzero(labels.multi_hot("No Finding")).tolist() == [10]
    assert labels.multi_hot("").sum() == 0
    assert labels.multi_hot([]).sum() == 0


def test_multi_hot_batch():
    batch = labels.multi_hot_batch(["Mass|Nodule", "No Finding", "Hernia"])
    assert batch.shape == (3, 15)
    assert [np.flatnonzero(row).tolist() for row in batch] == [[9, 11], [10], [7]]
    assert labels.multi_hot_batch([]).shape == (0, 15)


def test_decode_round_trip_and_threshold():
    assert labels.decode(labels.multi_hot("Cardiomegaly|Effusion")) == ["Cardiomegaly", "Effusion"]
    probabilities = np.full(15, 0.1, dtype=np.float32)
    probabilities[[2, 13]] = [0.7, 0.5]
    assert labels.decode(probabilities) == ["Consolidation", "Pneumonia"]
    assert labels.decode(probabilities, threshold=0.6) == ["Consolidation"]
    with_nan = np.full(15, np.nan, dtype=np.float32)
    with_nan[14] = 1
    assert labels.decode(with_nan) == ["Pneumothorax"]
    assert labels.decode(np.stack([probabilities, with_nan])) == [["Consolidation", "Pneumonia"], ["Pneumothorax"]]


def test_to_label_string():
    assert labels.to_label_string(labels.multi_hot("Effusion|Cardiomegaly")) == "Cardiomegaly|Effusion"
    assert labels.to_label_string(np.zeros(15)) == "No Finding"


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match="did you mean 'Pneumothorax'"):
        labels.code_of("Pneumothorx")
    with pytest.raises(ValueError, match="did you mean 'Effusion'"):
        labels.multi_hot("Cardiomegaly|Efusion")
    with pytest.raises(ValueError, match="unknown pathology 'xyz'"):
        labels.code_of("xyz")


@pytest.mark.parametrize("code", [-1, 15, 100])
def test_code_out_of_range_names_the_valid_range(code):
    with pytest.raises(ValueError, match=rf"code {code} is out of range; valid codes are 0 to 14"):
        labels.one_hot(code)
    with pytest.raises(ValueError, match="valid codes are 0 to 14"):
        labels.name_of(code)


def test_non_integer_codes_are_rejected():
    with pytest.raises(TypeError, match="codes must hold integer pathology codes or titles, got float 1.5"):
        labels.one_hot([1.5])
    with pytest.raises(TypeError, match="codes must be an integer code, a title, or a sequence of them, got bool True"):
        labels.one_hot(True)


def test_no_finding_cannot_be_combined():
    with pytest.raises(ValueError, match=r"'No Finding' cannot be combined with findings \(Effusion\)"):
        labels.multi_hot("No Finding|Effusion")


def test_decode_rejects_wrong_shapes():
    with pytest.raises(ValueError, match=r"got shape \(14,\)"):
        labels.decode(np.zeros(14))
    with pytest.raises(ValueError, match=r"got shape \(2, 3, 15\)"):
        labels.decode(np.zeros((2, 3, 15)))


# ------------------------------------------------------------------------------------------ bad input (issue 16)


def test_a_15_long_zero_one_vector_is_a_multi_hot_vector_not_codes():
    vector = np.zeros(15, dtype=np.int64)
    vector[[1, 4]] = 1  # read as the codes {0, 1} before: Atelectasis and Cardiomegaly
    np.testing.assert_array_equal(labels.multi_hot(vector), labels.multi_hot("Cardiomegaly|Effusion"))
    np.testing.assert_array_equal(labels.multi_hot(vector.astype(bool)), labels.multi_hot([1, 4]))
    row = np.full(15, np.nan, np.float32)
    row[[9, 10]] = [1.0, 0.0]  # a CXRSet row: Mass, No Finding known, the rest unknown
    np.testing.assert_array_equal(labels.multi_hot(row), row)
    np.testing.assert_array_equal(labels.multi_hot_batch(np.stack([vector, vector]))[1], labels.multi_hot([1, 4]))
    with pytest.raises(ValueError, match="'No Finding' cannot be combined"):
        labels.multi_hot(np.eye(15)[10] + np.eye(15)[4])
    with pytest.raises(ValueError, match=r"one image, got an array of shape \(2, 15\); use multi_hot_batch"):
        labels.multi_hot(np.stack([vector, vector]))


def test_a_zero_one_vector_of_another_length_is_refused():
    chestmnist_row = np.zeros(14, dtype=np.uint8)
    chestmnist_row[2] = 1
    with pytest.raises(ValueError, match="0/1 label vector of length 14.*15 entries.*chestmnist_labels"):
        labels.multi_hot(chestmnist_row)
    # Two distinct codes are still codes.
    assert labels.decode(labels.multi_hot([0, 1])) == ["Atelectasis", "Cardiomegaly"]


@pytest.mark.parametrize("value", [None, float("nan"), 3.0, np.float64(2.0)])
def test_multi_hot_and_one_hot_refuse_non_codes_clearly(value):
    with pytest.raises(TypeError, match=r"names_or_codes must be an NIH label string.*got (NoneType|float)"):
        labels.multi_hot(value)
    with pytest.raises(TypeError, match=r"codes must be an integer code, a title, or a sequence of them, got"):
        labels.one_hot(value)


def test_numpy_integers_are_codes():
    np.testing.assert_array_equal(labels.one_hot(np.int64(4)), np.eye(15, dtype=np.float32)[4])
    assert labels.name_of(np.int32(9)) == "Mass"


def test_codes_of_a_single_string():
    assert labels.codes_of("Mass") == [9]  # was "unknown pathology 'M'": the string iterated as characters
    assert labels.codes_of("Cardiomegaly|Effusion") == [1, 4]
    assert labels.codes_of(("Mass", "Nodule")) == [9, 11]
    with pytest.raises(TypeError, match="names must be a title, an NIH label string or a sequence of titles"):
        labels.codes_of(None)
    with pytest.raises(TypeError, match="names must be a string, one of .*; got int 9"):
        labels.codes_of([9])


def test_to_label_string_does_not_call_unknown_labels_no_finding():
    with pytest.raises(ValueError, match=r"14 are unknown \(NaN\).*'No Finding' would claim they are absent"):
        labels.to_label_string(np.full(15, np.nan))
    partial = np.zeros(15)
    partial[3] = np.nan
    with pytest.raises(ValueError, match=r"1 are unknown \(NaN\): Edema"):
        labels.to_label_string(partial)
    # A present finding, or a known No Finding, needs no decision about the unknown ones.
    partial[13] = 1.0
    assert labels.to_label_string(partial) == "Pneumonia"
    no_finding = np.full(15, np.nan)
    no_finding[10] = 1.0
    assert labels.to_label_string(no_finding) == "No Finding"
    with pytest.raises(ValueError, match=r"vector must have shape \(15,\).*got shape \(2, 15\)"):
        labels.to_label_string(np.zeros((2, 15)))
