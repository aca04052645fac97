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
    with pytest.raises(TypeError, match="must be an integer"):
        labels.one_hot([1.5])
    with pytest.raises(TypeError, match="must be an integer"):
        labels.one_hot(True)


def test_no_finding_cannot_be_combined():
    with pytest.raises(ValueError, match=r"'No Finding' cannot be combined with findings \(Effusion\)"):
        labels.multi_hot("No Finding|Effusion")


def test_decode_rejects_wrong_shapes():
    with pytest.raises(ValueError, match=r"got shape \(14,\)"):
        labels.decode(np.zeros(14))
    with pytest.raises(ValueError, match=r"got shape \(2, 3, 15\)"):
        labels.decode(np.zeros((2, 3, 15)))
