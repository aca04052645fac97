"""Read and write chest radiographs as DICOM files.

Hospitals store X-rays as DICOM: a header of tagged attributes (patient, study, series, pixel spacing, how the
stored numbers become grey levels) followed by the pixel data, often JPEG-compressed. `read_dicom` turns a file into
the course's display convention, a float image in `[0, 1]` where bright means dense (bone, soft tissue), by applying
the DICOM display pipeline in order:

1. **stored values**: the `Bits Stored` low bits of each pixel (pydicom decodes JPEG / RLE pixel data here);
2. **modality LUT**: `Rescale Slope` and `Rescale Intercept` (or a Modality LUT Sequence) give modality units;
3. **VOI LUT**: a window `(center, width)` or a VOI LUT picks the range of values shown, mapped to `[0, 1]`;
4. **photometric interpretation**: `MONOCHROME1` files store white as the *lowest* value, so they are inverted.

`write_dicom` does the reverse for a phantom image: a valid Computed Radiography (CR) file with file meta
information, UIDs, patient / study / series identifiers, pixel spacing, 8 to 16 bits stored, MONOCHROME2 or
MONOCHROME1, an optional rescale and window, and optionally RLE-lossless or JPEG-Baseline compressed pixel data
(the compression of the SIIM-ACR pneumothorax files).

Example:
    >>> import numpy as np
    >>> from lecture_lib.datasets import dicom
    >>> image = np.linspace(0, 1, 64 * 64, dtype=np.float32).reshape(64, 64)
    >>> path = dicom.write_dicom("/tmp/example.dcm", image, patient_id="P0001", bits_stored=12)
    >>> restored, meta = dicom.read_dicom(path)
    >>> restored.shape, meta.modality, meta.bits_stored
    ((64, 64, 1), 'CR', 12)
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import io
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pydicom
from pydicom import uid as dicom_uid
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels import apply_modality_lut, apply_voi_lut, get_decoder

from lecture_lib.checks import check_choice, check_count, check_number, is_integer

CR_IMAGE_STORAGE = dicom_uid.ComputedRadiographyImageStorage
"""SOP Class UID of Computed Radiography Image Storage, `1.2.840.10008.5.1.4.1.1.1`."""

PHOTOMETRIC_INTERPRETATIONS = ("MONOCHROME2", "MONOCHROME1")
"""MONOCHROME2: the lowest value is black. MONOCHROME1: the lowest value is white (stored inverted)."""

COMPRESSIONS = {
    None: dicom_uid.ExplicitVRLittleEndian,
    "rle": dicom_uid.RLELossless,
    "jpeg_baseline": dicom_uid.JPEGBaseline8Bit,
}
"""The pixel-data encodings `write_dicom` can produce, by name, with their transfer syntax UIDs."""

PATIENT_SEXES = ("M", "F", "O")
"""The values of Patient's Sex `(0010,0040)`: male, female, other."""

WINDOW_FUNCTIONS = ("LINEAR", "LINEAR_EXACT", "SIGMOID")
"""The VOI LUT functions of DICOM PS3.3 C.11.2.1.2."""

AUTO_WINDOW_PERCENTILES = (0.5, 99.5)
"""`window="auto"` spans these percentiles of the modality values (robust to collimator edges and labels)."""

# How to install a decoder, by transfer syntax UID. pydicom itself decodes the uncompressed and RLE ones, and Pillow
# (a dependency) JPEG Baseline, 8-bit JPEG Extended and JPEG 2000; the others need the `dicom-codecs` extra.
_LIBJPEG_HINT = "`pip install pylibjpeg pylibjpeg-libjpeg` (GPL-3; part of the course's `dicom-codecs` extra)"
_OPENJPEG_HINT = "`pip install pylibjpeg pylibjpeg-openjpeg` (part of the course's `dicom-codecs` extra)"
_DECODER_HINTS = {
    dicom_uid.JPEGBaseline8Bit: f"`pip install pillow` or {_LIBJPEG_HINT}",
    dicom_uid.JPEGExtended12Bit: f"`pip install pillow` (8-bit files) or {_LIBJPEG_HINT}",
    dicom_uid.JPEGLossless: _LIBJPEG_HINT,
    dicom_uid.JPEGLosslessSV1: _LIBJPEG_HINT,
    dicom_uid.JPEGLSLossless: f"`pip install pyjpegls` or {_LIBJPEG_HINT}",
    dicom_uid.JPEGLSNearLossless: f"`pip install pyjpegls` or {_LIBJPEG_HINT}",
    dicom_uid.JPEG2000Lossless: f"`pip install pillow` or {_OPENJPEG_HINT}",
    dicom_uid.JPEG2000: f"`pip install pillow` or {_OPENJPEG_HINT}",
    dicom_uid.HTJ2KLossless: _OPENJPEG_HINT,
    dicom_uid.HTJ2KLosslessRPCL: _OPENJPEG_HINT,
    dicom_uid.HTJ2K: _OPENJPEG_HINT,
    dicom_uid.RLELossless: "`pip install pylibjpeg pylibjpeg-rle`",
}


@dataclasses.dataclass(frozen=True)
class DicomMetadata:
    """What `read_dicom` reports about a file besides its pixels.

    Attributes:
        path: the file that was read.
        patient_id: `(0010,0020)` Patient ID; empty string when absent.
        study_instance_uid: `(0020,000D)`, identifies the study (one visit).
        series_instance_uid: `(0020,000E)`, identifies the series inside the study.
        sop_instance_uid: `(0008,0018)`, identifies this image.
        study_id: `(0020,0010)` Study ID, a short human-readable id; empty string when absent.
        modality: `(0008,0060)`, e.g. `"CR"` or `"DX"`.
        view_position: `(0018,5101)`, e.g. `"PA"` or `"AP"`; empty string when absent.
        pixel_spacing_mm: `(row, column)` spacing in mm from Pixel Spacing (or Imager Pixel Spacing when only that
            is present); `None` when the file does not say.
        photometric: `"MONOCHROME1"`, `"MONOCHROME2"`, or a colour one such as `"RGB"` (converted to grey).
        bits_stored: significant bits per pixel, 1 to 16.
        bits_allocated: bits per pixel in the pixel data, 8 or 16.
        rows: image height in pixels.
        columns: image width in pixels.
        rescale_slope: `(0028,1053)`, 1.0 when absent.
        rescale_intercept: `(0028,1052)`, 0.0 when absent.
        window: the `(center, width)` stored in the file (first one), or `None`.
        voi: how the grey levels were chosen: `"file window"`, `"file LUT"`, `"full range"`, `"auto"` or `"given"`.
        window_used: the `(center, width)` that mapped modality values to `[0, 1]`, or `None` for a VOI LUT.
        transfer_syntax_uid: how the pixel data was encoded, e.g. `1.2.840.10008.1.2.4.50` (JPEG Baseline).
        sex: `(0010,0040)`, `"M"`, `"F"`, `"O"`, or `None` when absent.
        age_years: `(0010,1010)` Patient's Age in years (`"062Y"`, `"018M"` and plain `"62"` are understood), or
            `None`.
    """

    path: Path
    patient_id: str
    study_instance_uid: str
    series_instance_uid: str
    sop_instance_uid: str
    study_id: str
    modality: str
    view_position: str
    pixel_spacing_mm: tuple[float, float] | None
    photometric: str
    bits_stored: int
    bits_allocated: int
    rows: int
    columns: int
    rescale_slope: float
    rescale_intercept: float
    window: tuple[float, float] | None
    voi: str
    window_used: tuple[float, float] | None
    transfer_syntax_uid: str
    sex: str | None
    age_years: float | None

    def to_dict(self) -> dict:
        """Return the metadata as a plain `dict` (e.g. for a pandas row)."""
        return dataclasses.asdict(self)


def _check_image(image) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 2:
        raise ValueError(
            f"image has shape {array.shape}; expected one grey image of shape (height, width) or (height, width, 1). "
            "Write a batch one image at a time, e.g. `write_dicom(path, cxr.images[i], ...)`"
        )
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(
            f"image has dtype {array.dtype}; expected floats in [0, 1] in the display convention. "
            "Convert 8-bit pixels with `image / 255.0`"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError("image contains NaN or infinite values; expected finite floats in [0, 1]")
    low, high = float(array.min()), float(array.max())
    if low < 0.0 or high > 1.0:
        raise ValueError(
            f"image values span [{low:.4g}, {high:.4g}]; expected [0, 1]. "
            "Rescale it first, e.g. `np.clip(image, 0, 1)` or `(image - image.min()) / np.ptp(image)`"
        )
    return array.astype(np.float64)


_AGE_STRING = re.compile(r"\d{3}[DWMY]")


def _format_age(age) -> str:
    """Return a DICOM age string (`"062Y"`) from whole years, a digit string or an age string."""
    expected = "patient_age must be whole years in [0, 999] (62 or '62') or a DICOM age string like '062Y' or '018M'"
    if isinstance(age, str):
        text = age.strip().upper()
        if _AGE_STRING.fullmatch(text):
            return text
        if not text.isdigit():
            raise ValueError(f"{expected}, got {age!r}")
        age = int(text)
    if not is_integer(age):
        raise TypeError(f"{expected}, got {type(age).__name__} {age!r}")
    if not 0 <= int(age) <= 999:
        raise ValueError(f"{expected}, got {age!r}")
    return f"{int(age):03d}Y"


def _check_text(value, argument: str, *, allow_empty: bool = False) -> str:
    """A header text: a string, or an integer written as one (a Study ID of 1); never `None` written as "None"."""
    if is_integer(value):
        value = str(int(value))
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be a string, got {type(value).__name__} {value!r}")
    if not value.strip() and not allow_empty:
        raise ValueError(f"{argument} must not be empty, got {value!r}")
    return value


def _check_study_date(study_date) -> str:
    if study_date is None:
        return ""
    if isinstance(study_date, datetime.date):
        return study_date.strftime("%Y%m%d")
    if isinstance(study_date, str):
        try:
            datetime.datetime.strptime(study_date, "%Y%m%d")
        except ValueError:
            pass
        else:
            return study_date
    raise ValueError(f"study_date must be a datetime.date, a 'YYYYMMDD' string or None, got {study_date!r}")


def _derived_uid(*parts) -> str:
    """A UID that is the same for the same parts, so rewriting a phantom gives bit-identical files."""
    return dicom_uid.generate_uid(entropy_srcs=[str(part) for part in parts])


def write_dicom(
    path: str | os.PathLike,
    image,
    *,
    patient_id: str,
    study_id: str = "1",
    series_number: int = 1,
    instance_number: int = 1,
    pixel_spacing_mm: Sequence[float] = (0.143, 0.143),
    photometric: str = "MONOCHROME2",
    bits_stored: int = 12,
    rescale_slope: float | None = None,
    rescale_intercept: float | None = None,
    window: tuple[float, float] | None = None,
    view_position: str = "PA",
    patient_sex: str | None = None,
    patient_age: int | str | None = None,
    study_date: datetime.date | str | None = None,
    study_instance_uid: str | None = None,
    series_instance_uid: str | None = None,
    sop_instance_uid: str | None = None,
    compression: str | None = None,
    jpeg_quality: int = 95,
) -> Path:
    """Write one grey image as a Computed Radiography (CR) DICOM file.

    The image is quantized to `bits_stored` bits: stored value `round(image * (2**bits_stored - 1))`, or its
    complement `2**bits_stored - 1 - ...` for MONOCHROME1 (white stored as the lowest value), so that
    `read_dicom` gives the image back within half a quantization step. UIDs that are not given are derived from
    the identifiers and the pixels, so the same call writes the same file; follow-up images that share
    `patient_id` and `study_id` share the Study Instance UID.

    Args:
        path: where to write; parent folders are created. The usual suffix is `.dcm`.
        image: `(height, width)` or `(height, width, 1)` float array in `[0, 1]`, display convention (bright =
            dense), e.g. one image of a `CXRSet`.
        patient_id: Patient ID `(0010,0020)`, also used as the (anonymous) Patient's Name.
        study_id: Study ID `(0020,0010)`, e.g. the follow-up number.
        series_number: Series Number `(0020,0011)`.
        instance_number: Instance Number `(0020,0013)`.
        pixel_spacing_mm: `(row, column)` spacing in mm; 0.143 mm is a typical CR detector.
        photometric: `"MONOCHROME2"` (0 is black) or `"MONOCHROME1"` (0 is white, stored inverted).
        bits_stored: significant bits, 8 to 16; 8 bits are allocated up to 8 bits stored, 16 above.
        rescale_slope: Rescale Slope `(0028,1053)`; written (with the intercept) when either is given.
        rescale_intercept: Rescale Intercept `(0028,1052)`; modality value = slope * stored + intercept.
        window: `(center, width)` written as Window Center / Width `(0028,1050/1051)`, in modality units.
        view_position: View Position `(0018,5101)`, `"PA"`, `"AP"`, `"LL"` ...
        patient_sex: `"M"`, `"F"` or `"O"`, or `None` to leave it empty.
        patient_age: whole years (written as `"062Y"`) or a DICOM age string, or `None`.
        study_date: a `datetime.date` or `"YYYYMMDD"`, or `None` to leave it empty.
        study_instance_uid: give one to override the derived UID.
        series_instance_uid: give one to override the derived UID.
        sop_instance_uid: give one to override the derived UID.
        compression: `None` (uncompressed, explicit VR little endian), `"rle"` (RLE Lossless; pydicom's own
            encoder takes about 2.5 s for 1024 x 1024, `pip install pylibjpeg-rle` makes it fast) or
            `"jpeg_baseline"` (lossy JPEG Baseline as in SIIM-ACR; 8 bits stored only; needs Pillow).
        jpeg_quality: JPEG quality 1 to 100 for `"jpeg_baseline"`.

    Returns:
        The `Path` written.

    Raises:
        ValueError: for an image that is not one `(height, width[, 1])` array in `[0, 1]`, an unknown photometric
            interpretation, compression or sex, bits stored outside 8 to 16, JPEG with more than 8 bits, a pixel
            spacing that is not two positive finite numbers, an age that is not whole years or a DICOM age string,
            a non-finite rescale or window, or an empty `patient_id`.
        TypeError: for an integer image (divide 8-bit pixels by 255 first), or a `patient_id`, `study_id` or
            `view_position` that is not a string (`None` would be written as the text "None").
    """
    pixels = _check_image(image)
    patient_id = _check_text(patient_id, "patient_id")
    study_id = _check_text(study_id, "study_id")
    view_position = _check_text(view_position, "view_position", allow_empty=True)
    series_number = check_count(series_number, "series_number")
    instance_number = check_count(instance_number, "instance_number")
    photometric = check_choice(photometric, "photometric", PHOTOMETRIC_INTERPRETATIONS)
    if not is_integer(bits_stored) or not 8 <= bits_stored <= 16:
        raise ValueError(f"bits_stored must be an integer from 8 to 16, got {bits_stored!r}")
    compression = check_choice(compression, "compression", COMPRESSIONS)
    if compression == "jpeg_baseline" and bits_stored != 8:
        raise ValueError(
            f"JPEG Baseline holds 8-bit samples only, got bits_stored={bits_stored}; "
            "pass bits_stored=8 or use compression='rle' (lossless, up to 16 bits)"
        )
    try:
        spacing = tuple(float(value) for value in np.asarray(pixel_spacing_mm, dtype=np.float64).reshape(-1))
    except (TypeError, ValueError):
        spacing = ()
    if len(spacing) != 2 or not all(0 < value < math.inf for value in spacing):
        raise ValueError(
            f"pixel_spacing_mm must be two positive finite numbers (row, column) in mm, got {pixel_spacing_mm!r}"
        )
    jpeg_quality = check_number(jpeg_quality, "jpeg_quality", low=1, high=100, integer=True)
    if patient_sex is not None and patient_sex != "":
        patient_sex = check_choice(
            patient_sex,
            "patient_sex",
            PATIENT_SEXES,
            normalize=str.upper,
            fix="'M' male, 'F' female, 'O' other; None leaves it empty",
        )
    if patient_age is not None:
        patient_age = _format_age(patient_age)
    study_date = _check_study_date(study_date)
    if rescale_slope is not None:
        rescale_slope = check_number(rescale_slope, "rescale_slope")
        if rescale_slope == 0:
            raise ValueError("rescale_slope must not be 0 (every pixel would get the same value); 1.0 keeps them")
    if rescale_intercept is not None:
        rescale_intercept = check_number(rescale_intercept, "rescale_intercept")
    if window is not None:
        window = _check_window(window)
        if window[1] < 1:
            raise ValueError(f"window width must be >= 1 (DICOM LINEAR window), got {window[1]!r}")

    max_value = 2 ** int(bits_stored) - 1
    stored = np.rint(pixels * max_value).astype(np.int64)
    if photometric == "MONOCHROME1":
        stored = max_value - stored
    bits_allocated = 8 if bits_stored <= 8 else 16
    stored = stored.astype(np.uint8 if bits_allocated == 8 else np.uint16)

    pixel_hash = hashlib.sha256(stored.tobytes()).hexdigest()
    study_uid = study_instance_uid or _derived_uid("study", patient_id, study_id)
    series_uid = series_instance_uid or _derived_uid("series", study_uid, series_number)
    instance_uid = sop_instance_uid or _derived_uid("image", series_uid, instance_number, pixel_hash)
    for name, value in (("study", study_uid), ("series", series_uid), ("sop", instance_uid)):
        if not dicom_uid.UID(value).is_valid:
            raise ValueError(f"{name}_instance_uid {value!r} is not a valid DICOM UID (digits and dots, <= 64 chars)")

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CR_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = instance_uid
    meta.TransferSyntaxUID = COMPRESSIONS[compression]
    meta.ImplementationClassUID = dicom_uid.PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = "LECTURE_LIB"

    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = CR_IMAGE_STORAGE
    ds.SOPInstanceUID = instance_uid
    ds.StudyDate = study_date
    ds.StudyTime = ""
    ds.AccessionNumber = ""
    ds.Modality = "CR"
    ds.ConversionType = "WSD"
    ds.ReferringPhysicianName = ""
    ds.SeriesDescription = f"view: {view_position}"
    ds.PatientName = patient_id
    ds.PatientID = patient_id
    ds.PatientBirthDate = ""
    ds.PatientSex = patient_sex or ""
    if patient_age is not None:
        ds.PatientAge = patient_age
    ds.BodyPartExamined = "CHEST"
    ds.ViewPosition = view_position
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyID = study_id
    ds.SeriesNumber = series_number
    ds.InstanceNumber = instance_number
    # Rows run toward the feet and columns toward the patient's left: the standard way to hang a PA or AP chest film.
    ds.PatientOrientation = ["L", "F"]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.Rows, ds.Columns = (int(size) for size in stored.shape)
    ds.PixelSpacing = [f"{value:.6g}" for value in spacing]
    ds.BitsAllocated = bits_allocated
    ds.BitsStored = int(bits_stored)
    ds.HighBit = int(bits_stored) - 1
    ds.PixelRepresentation = 0
    if rescale_slope is not None or rescale_intercept is not None:
        ds.RescaleSlope = f"{1.0 if rescale_slope is None else float(rescale_slope):.10g}"
        ds.RescaleIntercept = f"{0.0 if rescale_intercept is None else float(rescale_intercept):.10g}"
        ds.RescaleType = "US"
    if window is not None:
        ds.WindowCenter = f"{window[0]:.10g}"
        ds.WindowWidth = f"{window[1]:.10g}"

    if compression == "jpeg_baseline":
        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(stored).save(buffer, format="JPEG", quality=int(jpeg_quality))
        ds.PixelData = pydicom.encaps.encapsulate([buffer.getvalue()])
        ds["PixelData"].VR = "OB"
        ds.LossyImageCompression = "01"
        ds.LossyImageCompressionMethod = "ISO_10918_1"
    elif compression == "rle":
        ds.compress(dicom_uid.RLELossless, stored, generate_instance_uid=False)
    else:
        ds.PixelData = stored.tobytes()
        ds["PixelData"].VR = "OB" if bits_allocated == 8 else "OW"

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def _check_window(window) -> tuple[float, float]:
    """Return a `(center, width)` pair of finite floats."""
    expected = "window must be None, 'full', 'auto' or a (center, width) pair of finite numbers"
    try:
        center, width = (float(value) for value in window)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{expected}, got {window!r}") from error
    if not (math.isfinite(center) and math.isfinite(width)):
        raise ValueError(f"{expected}, got {window!r}; a NaN or infinite window maps every pixel to NaN")
    return center, width


def _decoder_hint(transfer_syntax: str) -> str:
    return _DECODER_HINTS.get(transfer_syntax, f"{_LIBJPEG_HINT} or {_OPENJPEG_HINT}")


def _check_decodable(ds: Dataset, path: Path) -> str:
    transfer_syntax = dicom_uid.UID(ds.file_meta.get("TransferSyntaxUID", dicom_uid.ExplicitVRLittleEndian))
    if not transfer_syntax.is_compressed:
        return transfer_syntax
    try:
        decoder = get_decoder(transfer_syntax)
    except NotImplementedError as error:
        raise NotImplementedError(
            f"{path}: pixel data uses transfer syntax {transfer_syntax} ({transfer_syntax.name}), which pydicom "
            f"cannot decode at all ({error}). Convert the file first, e.g. `gdcmconv --raw {path.name} out.dcm`"
        ) from error
    if not decoder.is_available:
        raise RuntimeError(
            f"{path}: pixel data is compressed with {transfer_syntax.name} ({transfer_syntax}) and no decoder for it "
            f"is installed. Install one with {_decoder_hint(transfer_syntax)} "
            f"(pydicom's decoder plugins: {'; '.join(decoder.missing_dependencies)})"
        )
    return transfer_syntax


def _number(ds: Dataset, keyword: str, default, index: int = 0):
    value = ds.get(keyword)
    if value is None or value == "":
        return default
    if isinstance(value, pydicom.multival.MultiValue):
        value = value[index] if len(value) > index else value[0]
    return float(value)


def _parse_age(value) -> float | None:
    if not value:
        return None
    text = str(value).strip().upper()
    units = {"Y": 1.0, "M": 1 / 12, "W": 7 / 365.25, "D": 1 / 365.25}
    factor = units.get(text[-1], 1.0)
    digits = text[:-1] if text[-1] in units else text
    try:
        return float(digits) * factor
    except ValueError:
        return None


def _complete_pixel_description(ds: Dataset, path: Path) -> None:
    """Check the Image Pixel module that decoding needs; fill in the elements that have a safe default.

    Bits Stored defaults to Bits Allocated (every allocated bit significant), Samples per Pixel to 1 and Pixel
    Representation to 0 (unsigned), as most writers that omit them mean.
    """
    missing = [keyword for keyword in ("Rows", "Columns", "BitsAllocated") if ds.get(keyword) in (None, "")]
    if missing:
        raise ValueError(
            f"{path} lacks {', '.join(missing)} (Image Pixel module, group 0028), which decoding the pixel data needs; "
            "the header is incomplete: fix it with pydicom (e.g. ds.BitsAllocated = 16) or re-export the image"
        )
    if ds.get("BitsStored") in (None, ""):
        ds.BitsStored = int(ds.BitsAllocated)
    if ds.get("SamplesPerPixel") in (None, ""):
        ds.SamplesPerPixel = 1
    if ds.get("PixelRepresentation") in (None, ""):
        ds.PixelRepresentation = 0
    if ds.get("PhotometricInterpretation") in (None, ""):
        ds.PhotometricInterpretation = "MONOCHROME2"


def _stored_range(ds: Dataset) -> tuple[float, float]:
    bits = int(ds.BitsStored)
    if int(ds.get("PixelRepresentation", 0)) == 1:
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1


def window_to_unit(values, center: float, width: float, function: str = "LINEAR") -> np.ndarray:
    """Map values through a DICOM VOI window onto `[0, 1]` (DICOM PS3.3 C.11.2.1.2 with output range 0 to 1).

    - `LINEAR`: `clip((x - (c - 0.5)) / (w - 1) + 0.5, 0, 1)`, the DICOM default; needs `w >= 1`.
    - `LINEAR_EXACT`: `clip((x - c) / w + 0.5, 0, 1)`; `c - w/2` maps to 0 and `c + w/2` to 1.
    - `SIGMOID`: `1 / (1 + exp(-4 (x - c) / w))`.

    Args:
        values: array of modality values, any shape.
        center: window center, in the same units.
        width: window width, in the same units.
        function: one of `WINDOW_FUNCTIONS`.

    Returns:
        `float64` array of the same shape, in `[0, 1]`.

    Raises:
        ValueError: for an unknown function, a NaN or infinite center or width, or a width too small for the
            function.
    """
    function = check_choice(str(function).upper(), "function", WINDOW_FUNCTIONS, fix="the VOI LUT Function")
    center, width = _check_window((center, width))
    if function == "LINEAR" and width < 1:
        raise ValueError(f"a LINEAR window needs width >= 1, got {width!r}; widen the window or use LINEAR_EXACT")
    if width <= 0:
        raise ValueError(f"window width must be positive, got {width!r}")
    values = np.asarray(values, dtype=np.float64)
    if function == "LINEAR":
        return np.clip((values - (center - 0.5)) / max(width - 1, 1e-12) + 0.5, 0.0, 1.0)
    if function == "LINEAR_EXACT":
        return np.clip((values - center) / width + 0.5, 0.0, 1.0)
    return 1.0 / (1.0 + np.exp(-4.0 * (values - center) / width))


def read_dicom(
    path: str | os.PathLike,
    *,
    window: None | str | tuple[float, float] = None,
    window_index: int = 0,
) -> tuple[np.ndarray, DicomMetadata]:
    """Read a DICOM radiograph as a float image in the display convention (bright = dense).

    The DICOM display pipeline is applied: stored bits, modality LUT (rescale slope / intercept), VOI (a window or
    VOI LUT), then the MONOCHROME1 inversion. Compressed pixel data (JPEG Baseline in SIIM-ACR, JPEG 2000, RLE ...)
    is decoded by pydicom's plugins. Colour images (e.g. an RGB secondary capture) are turned to grey with the
    ITU-R BT.601 luma weights.

    Args:
        path: the `.dcm` file.
        window: how modality values map to grey levels:
            - `None` (default): the file's own window (Window Center / Width, with its VOI LUT Function) or VOI LUT
              Sequence when it has one, else the full range of the stored bits (lossless for `write_dicom` files);
            - `"full"`: the full range of the stored bits, ignoring the file's window;
            - `"auto"`: a linear window spanning the `AUTO_WINDOW_PERCENTILES` of this image's values;
            - `(center, width)`: a DICOM LINEAR window in modality units (after rescale).
        window_index: which of several windows (or VOI LUTs) in the file to use when `window` is `None`.

    Returns:
        `(image, metadata)`: `image` is a `(rows, columns, 1)` `float32` array in `[0, 1]`, channels last like
        `CXRSet.images`; `metadata` is a `DicomMetadata`.

    Raises:
        FileNotFoundError: if `path` does not exist.
        pydicom.errors.InvalidDicomError: if the file is not DICOM (no `DICM` marker); the message names the file.
        ValueError: if the file has no pixel data (a truncated image file is named as such), is incomplete or
            corrupted, holds several frames, or `window` is malformed (NaN included).
        RuntimeError: if the pixel data is compressed and no decoder is installed; the message names the pip
            packages that provide one.
    """
    if isinstance(window, str):
        check_choice(window, "window", ("full", "auto"), fix="or None, or a (center, width) pair")
    elif window is not None:
        window = _check_window(window)
    window_index = check_count(window_index, "window_index", minimum=0)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no DICOM file at {path}; check the path (absolute: {path.resolve()})")
    try:
        ds = pydicom.dcmread(path)
    except InvalidDicomError as error:
        raise InvalidDicomError(
            f"{path} is not a DICOM file (no 'DICM' marker after the 128-byte preamble). Pass a .dcm file; PNG or "
            "JPEG images are read with `PIL.Image.open` or `skimage.io.imread` instead"
        ) from error
    if "PixelData" not in ds:
        kind = ds.get("SOPClassUID", None)
        kind_name = dicom_uid.UID(kind).name if kind else ""
        if "Image Storage" in kind_name or (not kind and "Rows" in ds):
            raise ValueError(
                f"{path} is a DICOM image ({kind_name or 'it has Rows and Columns'}) whose pixel data is missing: "
                f"the file is probably truncated ({path.stat().st_size} bytes), e.g. by an interrupted download or "
                "copy; fetch or copy it again"
            )
        raise ValueError(
            f"{path} is a DICOM file without pixel data{f' (SOP class {kind_name})' if kind_name else ''}, e.g. a "
            "report, a presentation state or a DICOMDIR; pass the image file of the study instead"
        )
    transfer_syntax = _check_decodable(ds, path)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames != 1:
        raise ValueError(f"{path} holds {frames} frames; read_dicom reads single-frame radiographs (CR, DX)")

    _complete_pixel_description(ds, path)
    try:
        stored = ds.pixel_array
    except ValueError as error:
        raise ValueError(
            f"{path}: the pixel data cannot be decoded; the file is probably truncated or corrupted (an interrupted "
            f"download or copy), fetch or copy it again. pydicom says: {error}"
        ) from error
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    if stored.ndim == 3:
        stored = stored[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    modality_values = apply_modality_lut(stored, ds)
    values = np.asarray(modality_values, dtype=np.float64)

    low, high = _stored_range(ds)
    if "ModalityLUTSequence" in ds:
        full_low, full_high = 0.0, float(2 ** int(ds.ModalityLUTSequence[0].LUTDescriptor[2]) - 1)
    else:
        ends = apply_modality_lut(np.array([low, high]), ds)
        full_low, full_high = float(np.min(ends)), float(np.max(ends))

    file_window = None
    if "WindowCenter" in ds and "WindowWidth" in ds:
        file_window = (_number(ds, "WindowCenter", 0.0, window_index), _number(ds, "WindowWidth", 1.0, window_index))

    window_used = None
    if window is None and "VOILUTSequence" in ds and "WindowCenter" not in ds:
        item = ds.VOILUTSequence[min(window_index, len(ds.VOILUTSequence) - 1)]
        lut_bits = int(item.LUTDescriptor[2])
        lut_values = apply_voi_lut(modality_values, ds, index=window_index, prefer_lut=True).astype(np.float64)
        unit = lut_values / float(2**lut_bits - 1)
        voi = "file LUT"
    elif window is None and file_window is not None:
        function = str(ds.get("VOILUTFunction", "LINEAR") or "LINEAR").upper()
        unit = window_to_unit(values, *file_window, function=function)
        window_used, voi = file_window, "file window"
    elif isinstance(window, str):
        if window == "full":
            center, width = (full_low + full_high) / 2, max(full_high - full_low, 1e-12)
            voi = "full range"
        else:
            lo, hi = np.percentile(values, AUTO_WINDOW_PERCENTILES)
            center, width = (lo + hi) / 2, max(hi - lo, 1e-12)
            voi = "auto"
        unit = window_to_unit(values, center, width, function="LINEAR_EXACT")
        window_used = (float(center), float(width))
    elif window is None:
        center, width = (full_low + full_high) / 2, max(full_high - full_low, 1e-12)
        unit = window_to_unit(values, center, width, function="LINEAR_EXACT")
        window_used, voi = (float(center), float(width)), "full range"
    else:
        center, width = window
        unit = window_to_unit(values, center, width, function="LINEAR")
        window_used, voi = (center, width), "given"

    if photometric == "MONOCHROME1":
        unit = 1.0 - unit
    image = unit.astype(np.float32)[..., None]

    spacing = ds.get("PixelSpacing") or ds.get("ImagerPixelSpacing")
    metadata = DicomMetadata(
        path=path,
        patient_id=str(ds.get("PatientID", "")),
        study_instance_uid=str(ds.get("StudyInstanceUID", "")),
        series_instance_uid=str(ds.get("SeriesInstanceUID", "")),
        sop_instance_uid=str(ds.get("SOPInstanceUID", "")),
        study_id=str(ds.get("StudyID", "")),
        modality=str(ds.get("Modality", "")),
        view_position=str(ds.get("ViewPosition", "")),
        pixel_spacing_mm=(float(spacing[0]), float(spacing[1])) if spacing else None,
        photometric=photometric,
        bits_stored=int(ds.BitsStored),
        bits_allocated=int(ds.BitsAllocated),
        rows=int(ds.Rows),
        columns=int(ds.Columns),
        rescale_slope=_number(ds, "RescaleSlope", 1.0),
        rescale_intercept=_number(ds, "RescaleIntercept", 0.0),
        window=file_window,
        voi=voi,
        window_used=window_used,
        transfer_syntax_uid=str(transfer_syntax),
        sex=str(ds.get("PatientSex", "")) or None,
        age_years=_parse_age(ds.get("PatientAge", "")),
    )
    return image, metadata
