"""Tests of lecture_lib.datasets.dicom: round trips, hand-made files, pydicom cross-checks, real SIIM files, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom import uid as dicom_uid
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels import apply_modality_lut, apply_voi_lut
from pydicom.pixels.decoders.base import Decoder
from pydicom.sequence import Sequence

from lecture_lib.datasets import dicom

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
SIIM = REALDATA / "siim_sample.dcm"
SIIM_MONOCHROME1 = REALDATA / "siim_sample_monochrome1.dcm"
needs_realdata = pytest.mark.skipif(not SIIM.is_file(), reason=f"real sample files absent ({REALDATA})")


def _ramp(height=48, width=40):
    """A smooth image covering [0, 1] exactly, with every quantization level hit at 8 bits."""
    return np.linspace(0.0, 1.0, height * width).reshape(height, width)


def _hand_dataset(stored, *, photometric="MONOCHROME2", bits_stored=12, **tags) -> Dataset:
    """A minimal uncompressed single-frame image built with pydicom alone (not with our writer)."""
    stored = np.asarray(stored, dtype=np.uint16 if bits_stored > 8 else np.uint8)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = dicom_uid.ComputedRadiographyImageStorage
    meta.MediaStorageSOPInstanceUID = dicom_uid.generate_uid()
    meta.TransferSyntaxUID = dicom_uid.ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "DX"
    ds.PatientID = "HAND"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.Rows, ds.Columns = stored.shape
    ds.BitsAllocated = stored.dtype.itemsize * 8
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 0
    for keyword, value in tags.items():
        setattr(ds, keyword, value)
    ds.PixelData = stored.tobytes()
    return ds


def _save(ds: Dataset, path: Path) -> Path:
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.parametrize("bits_stored", [8, 12, 16])
@pytest.mark.parametrize("photometric", ["MONOCHROME2", "MONOCHROME1"])
@pytest.mark.parametrize("rescale", [None, (2.0, -1024.0)])
def test_round_trip_within_quantization(tmp_path, bits_stored, photometric, rescale):
    image = _ramp()
    slope, intercept = rescale if rescale else (None, None)
    path = dicom.write_dicom(
        tmp_path / "x.dcm",
        image[..., None],
        patient_id="P7",
        bits_stored=bits_stored,
        photometric=photometric,
        rescale_slope=slope,
        rescale_intercept=intercept,
    )
    restored, meta = dicom.read_dicom(path)
    assert restored.shape == (48, 40, 1) and restored.dtype == np.float32
    half_step = 0.5 / (2**bits_stored - 1)
    assert np.max(np.abs(restored[..., 0] - image)) <= half_step + 1e-6
    assert meta.photometric == photometric and meta.bits_stored == bits_stored
    assert meta.bits_allocated == (8 if bits_stored == 8 else 16)
    assert meta.rescale_slope == (slope or 1.0) and meta.rescale_intercept == (intercept or 0.0)
    assert meta.voi == "full range"


def test_written_tags_and_stored_values_by_hand(tmp_path):
    image = np.array([[0.0, 0.5, 1.0], [0.25, 0.75, 1 / 3]])
    path = dicom.write_dicom(
        tmp_path / "tiny.dcm",
        image,
        patient_id="P0042",
        study_id="2",
        pixel_spacing_mm=(0.2, 0.15),
        bits_stored=8,
        patient_sex="F",
        patient_age=62,
        study_date="20240131",
        window=(128, 256),
    )
    ds = pydicom.dcmread(path)
    # round(x * 255): 127.5 -> 128 (numpy rounds half to even: 128), 63.75 -> 64, 191.25 -> 191, 85 -> 85.
    np.testing.assert_array_equal(ds.pixel_array, [[0, 128, 255], [64, 191, 85]])
    assert ds.file_meta.TransferSyntaxUID == dicom_uid.ExplicitVRLittleEndian
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.1" == ds.file_meta.MediaStorageSOPClassUID
    assert ds.SOPInstanceUID == ds.file_meta.MediaStorageSOPInstanceUID
    for keyword in ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID"):
        assert dicom_uid.UID(getattr(ds, keyword)).is_valid
    assert (ds.Modality, ds.ViewPosition, ds.PatientID, ds.StudyID) == ("CR", "PA", "P0042", "2")
    assert (ds.PatientSex, ds.PatientAge, ds.StudyDate) == ("F", "062Y", "20240131")
    assert [float(v) for v in ds.PixelSpacing] == [0.2, 0.15]
    assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation) == (8, 8, 7, 0)
    assert ds.PhotometricInterpretation == "MONOCHROME2" and list(ds.PatientOrientation) == ["L", "F"]
    assert (float(ds.WindowCenter), float(ds.WindowWidth)) == (128.0, 256.0)
    assert open(path, "rb").read()[128:132] == b"DICM"

    _, meta = dicom.read_dicom(path)
    assert meta.pixel_spacing_mm == (0.2, 0.15) and (meta.rows, meta.columns) == (2, 3)
    assert (meta.sex, meta.age_years, meta.window, meta.voi) == ("F", 62.0, (128.0, 256.0), "file window")


def test_monochrome1_is_stored_inverted(tmp_path):
    image = np.array([[0.0, 1.0, 0.2]])
    path = dicom.write_dicom(tmp_path / "m1.dcm", image, patient_id="P", photometric="MONOCHROME1", bits_stored=10)
    # 1023 - round(x * 1023): 0 -> 1023, 1 -> 0, 0.2 -> 1023 - 205 = 818.
    np.testing.assert_array_equal(pydicom.dcmread(path).pixel_array, [[1023, 0, 818]])


def test_hand_made_monochrome1_file_with_rescale_and_window(tmp_path):
    stored = [[0, 500, 1000], [250, 4095, 600]]
    ds = _hand_dataset(
        stored,
        photometric="MONOCHROME1",
        RescaleSlope="2",
        RescaleIntercept="-1000",
        WindowCenter="0.5",
        WindowWidth="1001",
    )
    path = _save(ds, tmp_path / "hand.dcm")
    # Modality values 2 * stored - 1000 = [[-1000, 0, 1000], [-500, 7190, 200]].
    # LINEAR window: clip((x - (0.5 - 0.5)) / (1001 - 1) + 0.5) = clip(x / 1000 + 0.5) = [[0, .5, 1], [0, 1, .7]];
    # MONOCHROME1 shows low values white, so the display image is 1 minus that.
    image, meta = dicom.read_dicom(path)
    np.testing.assert_allclose(image[..., 0], [[1.0, 0.5, 0.0], [1.0, 0.0, 0.3]], atol=1e-6)
    assert meta.voi == "file window" and meta.window_used == (0.5, 1001.0) and meta.modality == "DX"

    # The full 12-bit range: modality values from -1000 to 2 * 4095 - 1000 = 7190, inverted.
    full, meta = dicom.read_dicom(path, window="full")
    expected = 1.0 - (np.array([[-1000, 0, 1000], [-500, 7190, 200]]) + 1000) / 8190
    np.testing.assert_allclose(full[..., 0], expected, atol=1e-6)
    assert meta.voi == "full range"

    # A window given in modality units: center 100.5, width 201 -> clip((x - 100) / 200 + 0.5) = [[0,0,1],[0,1,1]].
    given, meta = dicom.read_dicom(path, window=(100.5, 201))
    np.testing.assert_allclose(given[..., 0], 1.0 - np.array([[0, 0, 1], [0, 1, 1]]), atol=1e-6)
    assert meta.voi == "given"


@pytest.mark.parametrize("function", ["LINEAR", "LINEAR_EXACT", "SIGMOID"])
@pytest.mark.parametrize("photometric", ["MONOCHROME2", "MONOCHROME1"])
def test_windowing_matches_pydicom(tmp_path, function, photometric):
    rng = np.random.default_rng(0)
    stored = rng.integers(0, 4096, size=(16, 24))
    ds = _hand_dataset(
        stored,
        photometric=photometric,
        RescaleSlope="0.5",
        RescaleIntercept="100",
        WindowCenter=["1000", "700"],
        WindowWidth=["800", "300"],
        VOILUTFunction=function,
    )
    path = _save(ds, tmp_path / "w.dcm")
    reference_ds = pydicom.dcmread(path)
    # pydicom maps the window onto the rescaled stored range [100, 0.5 * 4095 + 100].
    y_min, y_max = 100.0, 0.5 * 4095 + 100
    for index in (0, 1):
        voi = apply_voi_lut(apply_modality_lut(reference_ds.pixel_array, reference_ds), reference_ds, index=index)
        expected = (voi - y_min) / (y_max - y_min)
        if photometric == "MONOCHROME1":
            expected = 1.0 - expected
        image, _ = dicom.read_dicom(path, window_index=index)
        np.testing.assert_allclose(image[..., 0], expected, atol=1e-5)


def test_voi_lut_sequence_matches_pydicom(tmp_path):
    item = Dataset()
    item.LUTDescriptor = [4, 2, 8]  # 4 entries, first one maps stored value 2, 8-bit output
    item.LUTData = [0, 51, 153, 255]
    item["LUTDescriptor"].VR = "US"
    item["LUTData"].VR = "US"
    ds = _hand_dataset([[0, 2, 3], [4, 5, 9]], bits_stored=8, VOILUTSequence=Sequence([item]))
    path = _save(ds, tmp_path / "lut.dcm")
    image, meta = dicom.read_dicom(path)
    # Below the first mapped value -> first entry, above the last -> last entry: [[0, 0, 51], [153, 255, 255]] / 255.
    np.testing.assert_allclose(image[..., 0], np.array([[0, 0, 51], [153, 255, 255]]) / 255, atol=1e-6)
    reference_ds = pydicom.dcmread(path)
    np.testing.assert_allclose(image[..., 0] * 255, apply_voi_lut(reference_ds.pixel_array, reference_ds), atol=1e-4)
    assert meta.voi == "file LUT" and meta.window_used is None


def test_auto_window_spans_percentiles(tmp_path):
    rng = np.random.default_rng(1)
    image = np.clip(rng.normal(0.5, 0.1, size=(64, 64)), 0, 1)
    image[0, :4] = [0.0, 1.0, 0.0, 1.0]  # outliers that a min-max stretch would honour
    path = dicom.write_dicom(tmp_path / "auto.dcm", image, patient_id="P", bits_stored=12)
    stored = pydicom.dcmread(path).pixel_array.astype(np.float64)
    low, high = np.percentile(stored, dicom.AUTO_WINDOW_PERCENTILES)
    auto, meta = dicom.read_dicom(path, window="auto")
    np.testing.assert_allclose(auto[..., 0], np.clip((stored - low) / (high - low), 0, 1), atol=1e-6)
    assert meta.voi == "auto" and meta.window_used == pytest.approx(((low + high) / 2, high - low))


def test_rle_is_lossless_and_jpeg_baseline_is_close(tmp_path):
    image = _ramp(64, 64)
    rle_path = dicom.write_dicom(tmp_path / "rle.dcm", image, patient_id="P", bits_stored=16, compression="rle")
    rle, meta = dicom.read_dicom(rle_path)
    assert meta.transfer_syntax_uid == dicom_uid.RLELossless
    np.testing.assert_allclose(rle[..., 0], np.rint(image * 65535) / 65535, atol=1e-6)

    jpeg_path = dicom.write_dicom(
        tmp_path / "jpg.dcm", image, patient_id="P", bits_stored=8, compression="jpeg_baseline"
    )
    jpeg, meta = dicom.read_dicom(jpeg_path)
    assert meta.transfer_syntax_uid == "1.2.840.10008.1.2.4.50"
    reference = pydicom.dcmread(jpeg_path)
    assert reference.file_meta.TransferSyntaxUID.is_compressed and reference.LossyImageCompression == "01"
    np.testing.assert_allclose(jpeg[..., 0], reference.pixel_array / 255.0, atol=1e-6)
    assert np.mean(np.abs(jpeg[..., 0] - image)) < 0.01  # lossy, but a smooth ramp survives quality 95


def test_writing_is_deterministic_and_studies_share_uids(tmp_path):
    image = _ramp(8, 8)
    first = dicom.write_dicom(tmp_path / "a.dcm", image, patient_id="P1", study_id="1")
    again = dicom.write_dicom(tmp_path / "b.dcm", image, patient_id="P1", study_id="1")
    assert first.read_bytes() == again.read_bytes()
    same_study = dicom.write_dicom(tmp_path / "c.dcm", image[::-1], patient_id="P1", study_id="1", instance_number=2)
    follow_up = dicom.write_dicom(tmp_path / "d.dcm", image, patient_id="P1", study_id="2")
    metas = [dicom.read_dicom(path)[1] for path in (first, same_study, follow_up)]
    assert metas[0].study_instance_uid == metas[1].study_instance_uid != metas[2].study_instance_uid
    assert metas[0].sop_instance_uid != metas[1].sop_instance_uid
    assert metas[0].to_dict()["patient_id"] == "P1"


@pytest.mark.filterwarnings("ignore:Invalid value for VR AS")  # '62' is non-standard, but SIIM files have it
@pytest.mark.parametrize(("age", "years"), [("062Y", 62.0), ("018M", 1.5), ("62", 62.0), ("", None)])
def test_patient_age_is_parsed(tmp_path, age, years):
    path = _save(_hand_dataset([[1, 2]], bits_stored=8, PatientAge=age, PatientSex="M"), tmp_path / "age.dcm")
    _, meta = dicom.read_dicom(path)
    assert meta.age_years == years and meta.sex == "M"


@needs_realdata
@pytest.mark.realdata
def test_real_siim_sample_decodes():
    image, meta = dicom.read_dicom(SIIM)
    assert image.shape == (1024, 1024, 1) and image.dtype == np.float32
    assert meta.transfer_syntax_uid == "1.2.840.10008.1.2.4.50" and meta.bits_stored == 8
    assert meta.pixel_spacing_mm == (0.168, 0.168) and meta.photometric == "MONOCHROME2"
    assert (meta.modality, meta.view_position, meta.sex, meta.age_years) == ("CR", "PA", "M", 62.0)
    np.testing.assert_allclose(image[..., 0], pydicom.dcmread(SIIM).pixel_array / 255.0, atol=1e-6)
    # Display convention: the mediastinum (centre column) is brighter than the air-filled lungs beside it.
    centre, lung = image[300:700, 480:544].mean(), image[300:700, 200:300].mean()
    assert centre > lung + 0.1


@needs_realdata
@pytest.mark.realdata
def test_real_monochrome1_twin_reads_the_same_after_inversion():
    normal, _ = dicom.read_dicom(SIIM)
    inverted, meta = dicom.read_dicom(SIIM_MONOCHROME1)
    assert meta.photometric == "MONOCHROME1"
    # The twin stores the same numbers, but MONOCHROME1 means they are white-low: the reader must invert them.
    np.testing.assert_allclose(1.0 - inverted, normal, atol=1e-6)
    assert not np.allclose(inverted, normal, atol=0.1)


def test_not_a_dicom_file(tmp_path):
    path = tmp_path / "picture.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(300))
    with pytest.raises(InvalidDicomError, match=r"picture\.png is not a DICOM file.*PIL\.Image\.open"):
        dicom.read_dicom(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.dcm"):
        dicom.read_dicom(tmp_path / "nowhere.dcm")


def test_dicom_without_pixel_data(tmp_path):
    ds = _hand_dataset([[1]], bits_stored=8)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = dicom_uid.BasicTextSRStorage
    del ds.PixelData
    path = _save(ds, tmp_path / "report.dcm")
    with pytest.raises(ValueError, match=r"report\.dcm is a DICOM file without pixel data.*Basic Text SR"):
        dicom.read_dicom(path)


def test_compressed_file_without_decoder_names_the_package(tmp_path, monkeypatch):
    path = dicom.write_dicom(
        tmp_path / "jpeg.dcm", _ramp(8, 8), patient_id="P", bits_stored=8, compression="jpeg_baseline"
    )
    monkeypatch.setattr(Decoder, "is_available", property(lambda self: False))
    with pytest.raises(RuntimeError, match=r"jpeg\.dcm.*JPEG Baseline.*pip install pylibjpeg pylibjpeg-libjpeg"):
        dicom.read_dicom(path)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"image": np.zeros((2, 8, 8, 1))}, ValueError, r"shape \(2, 8, 8, 1\).*one image at a time"),
        ({"image": np.zeros((8, 8), dtype=np.uint8)}, TypeError, r"dtype uint8.*/ 255"),
        ({"image": np.full((8, 8), 1.5)}, ValueError, r"\[1\.5, 1\.5\]; expected \[0, 1\]"),
        ({"image": np.full((8, 8), np.nan)}, ValueError, "NaN"),
        ({"bits_stored": 7}, ValueError, "from 8 to 16, got 7"),
        ({"bits_stored": 17}, ValueError, "from 8 to 16, got 17"),
        ({"photometric": "RGB"}, ValueError, "'RGB'"),
        ({"compression": "jpeg_baseline", "bits_stored": 12}, ValueError, "bits_stored=12.*compression='rle'"),
        ({"compression": "zip"}, ValueError, "'zip'"),
        ({"pixel_spacing_mm": (0.1, 0)}, ValueError, "positive"),
    ],
)
def test_write_errors(tmp_path, kwargs, error, match):
    arguments = {"image": np.zeros((8, 8)), "patient_id": "P", **kwargs}
    with pytest.raises(error, match=match):
        dicom.write_dicom(tmp_path / "bad.dcm", **arguments)


def test_bad_window_argument(tmp_path):
    path = dicom.write_dicom(tmp_path / "w.dcm", _ramp(4, 4), patient_id="P")
    with pytest.raises(ValueError, match="'wide'"):
        dicom.read_dicom(path, window="wide")
    with pytest.raises(ValueError, match=r"\(center, width\)"):
        dicom.read_dicom(path, window=(1, 2, 3))


# ------------------------------------------------------------------------------------------ bad input (issue 16)


@pytest.mark.parametrize("window", [(float("nan"), 100), (100, float("inf")), ("a", 3)])
def test_a_nan_window_is_refused_instead_of_giving_a_nan_image(tmp_path, window):
    path = dicom.write_dicom(tmp_path / "w.dcm", _ramp(4, 4), patient_id="P")
    with pytest.raises(ValueError, match=r"\(center, width\) pair of finite numbers"):
        dicom.read_dicom(path, window=window)
    with pytest.raises(ValueError, match="finite numbers"):
        dicom.window_to_unit(np.zeros(3), float("nan"), 100.0)
    with pytest.raises(ValueError, match="finite numbers"):
        dicom.write_dicom(tmp_path / "x.dcm", _ramp(4, 4), patient_id="P", window=window)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"patient_id": None}, TypeError, "patient_id must be a string, got NoneType None"),
        ({"patient_id": " "}, ValueError, "patient_id must not be empty"),
        ({"study_id": None}, TypeError, "study_id must be a string"),
        ({"patient_sex": "male"}, ValueError, r"patient_sex must be one of 'M', 'F', 'O', got 'male'"),
        ({"patient_sex": "None"}, ValueError, "got 'None'"),
        ({"patient_age": "sixty"}, ValueError, r"patient_age must be whole years.*got 'sixty'"),
        ({"patient_age": 62.5}, TypeError, "got float 62.5"),
        ({"patient_age": 1000}, ValueError, "got 1000"),
        ({"pixel_spacing_mm": (float("nan"), 0.1)}, ValueError, "two positive finite numbers"),
        ({"pixel_spacing_mm": "0.1"}, ValueError, "two positive finite numbers"),
        ({"rescale_slope": float("nan")}, ValueError, "rescale_slope must be a finite number, got nan"),
        ({"rescale_slope": 0}, ValueError, "rescale_slope must not be 0"),
        ({"jpeg_quality": "high"}, TypeError, "jpeg_quality must be an integer in"),
        ({"series_number": 0}, ValueError, "series_number must be a positive integer"),
        ({"study_date": "2024-13-01"}, ValueError, "'YYYYMMDD'"),
    ],
)
def test_write_refuses_header_values_it_would_write_as_junk(tmp_path, kwargs, error, match):
    arguments = {"image": np.zeros((8, 8)), "patient_id": "P", **kwargs}
    with pytest.raises(error, match=match):
        dicom.write_dicom(tmp_path / "bad.dcm", **arguments)
    assert not (tmp_path / "bad.dcm").exists()


def test_write_accepts_the_usual_spellings(tmp_path):
    path = dicom.write_dicom(
        tmp_path / "ok.dcm", _ramp(4, 4), patient_id="P", study_id=2, patient_sex="f", patient_age="62",
        series_number=np.int64(3), pixel_spacing_mm=np.array([0.2, 0.2], np.float32),
        study_date="20240131", jpeg_quality=np.int64(90),
    )  # fmt: skip
    ds = pydicom.dcmread(path)
    assert (ds.PatientSex, ds.PatientAge, ds.StudyID, ds.SeriesNumber, ds.StudyDate) == (
        "F",
        "062Y",
        "2",
        3,
        "20240131",
    )
    _, meta = dicom.read_dicom(path)
    assert meta.sex == "F" and meta.age_years == 62.0


def test_a_truncated_file_is_called_truncated(tmp_path):
    path = dicom.write_dicom(tmp_path / "whole.dcm", _ramp(32, 32), patient_id="P", bits_stored=12)
    data = path.read_bytes()
    header_only = tmp_path / "header_only.dcm"
    header_only.write_bytes(data[:400])  # cut inside the header: pydicom stops before the pixel data
    with pytest.raises(ValueError, match=r"header_only\.dcm is a DICOM image \(Computed Radiography.*truncated"):
        dicom.read_dicom(header_only)
    short_pixels = tmp_path / "short_pixels.dcm"
    short_pixels.write_bytes(data[:-100])  # cut inside the pixel data
    with pytest.raises(ValueError, match=r"short_pixels\.dcm: the pixel data cannot be decoded.*truncated"):
        dicom.read_dicom(short_pixels)


def test_missing_bits_stored_defaults_to_bits_allocated(tmp_path):
    stored = np.array([[0, 65535], [1000, 30000]])
    ds = _hand_dataset(stored, bits_stored=16)
    del ds.BitsStored
    image, meta = dicom.read_dicom(_save(ds, tmp_path / "no_bits_stored.dcm"))
    assert meta.bits_stored == 16
    np.testing.assert_allclose(image[..., 0], stored / 65535.0, atol=1e-6)
    del ds.BitsAllocated
    with pytest.raises(ValueError, match=r"no_bits\.dcm lacks BitsAllocated \(Image Pixel module"):
        dicom.read_dicom(_save(ds, tmp_path / "no_bits.dcm"))
