"""Where every dataset on the slides comes from: files, URLs, sizes, hashes, licence and access level.

Three access levels exist:

- `"public"`: `load_<name>(download=True)` fetches the files (NIH ChestX-ray14, MedMNIST, and NLM's Montgomery and
  Shenzhen tuberculosis sets).
- `"registration"`: a free account or form on the provider's site (CheXpert, PADChest, JSRT + SCR, and the two
  Kaggle challenges SIIM-ACR and RSNA, whose rules must be accepted); the loader explains where to register and
  which folder layout to place under `data/<name>/`.
- `"credentialed"`: PhysioNet credentialing plus a signed data use agreement (MIMIC-CXR-JPG).

Facts such as URLs and MD5s are copied from the cited sources, never guessed; `None` marks what no source gives.

Example:
    >>> from lecture_lib.datasets import registry
    >>> registry.get("nih").access
    'public'
    >>> registry.get("medmnist").file("chestmnist_64.npz").md5
    '9de6cd0b934ebb5b7426cfba5efbae16'
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from lecture_lib.checks import check_choice

ACCESS_LEVELS = ("public", "registration", "credentialed")


@dataclasses.dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset.

    Args:
        name: file name under `data/<dataset>/`.
        url: where to download it, or `None` when it can only be fetched by hand after registration.
        md5: the MD5 published by the provider (hex), or `None` when none is published.
        size_bytes: size in bytes when a source states it exactly, else `None`.
        extract: for archives, the folder (relative to `data/<dataset>/`) they are unpacked into; `None` otherwise.
        note: anything a person fetching the file should know (for a file with no hash: why, and what to check).
        sha256: the SHA-256 (hex) of the file at `url`, when it was verified; `download.fetch` enforces it.
    """

    name: str
    url: str | None = None
    md5: str | None = None
    size_bytes: int | None = None
    extract: str | None = None
    note: str = ""
    sha256: str | None = None


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """Everything needed to obtain one dataset and to put it where the loader looks.

    Args:
        name: the short name used in `load_<name>` and in `data/<name>/`.
        title: the dataset's full name.
        access: one of `ACCESS_LEVELS`.
        licence: the terms of use, in short.
        homepage: the provider's page.
        register: where to register or apply; `None` for public data.
        files: the files the loader reads, as `RemoteFile`s.
        layout: the folder tree expected under `data/<name>/`.
        size: the approximate total download.
        citation: the paper to cite.
    """

    name: str
    title: str
    access: str
    licence: str
    homepage: str
    register: str | None
    files: tuple[RemoteFile, ...]
    layout: str
    size: str
    citation: str

    def file(self, name: str) -> RemoteFile:
        """Return the `RemoteFile` called `name`.

        Raises:
            KeyError: if the dataset has no such file; the message lists the known files.
        """
        for item in self.files:
            if item.name == name:
                return item
        raise KeyError(f"{self.name} has no file {name!r}; known files: {[item.name for item in self.files]}")

    def instructions(self, folder: Path | str) -> str:
        """Return the text a loader shows when the files are missing: where to get them and where to put them."""
        folder = Path(folder)
        if self.access == "public":
            how = (
                f"{self.title} is public: call the loader with download=True to fetch it into {folder}, "
                f"or download it from {self.homepage} and place it as shown."
            )
        else:
            kind = (
                "register"
                if self.access == "registration"
                else "get credentialed access and sign the data use agreement"
            )
            how = (
                f"{self.title} needs you to {kind} at {self.register}; then download the files and place them as shown."
            )
        return f"{how}\nExpected layout under {folder}:\n{self.layout.rstrip()}\nLicence: {self.licence}"


# NIH ChestX-ray14. URLs: NIH's own `batch_download_zips.py` from the dataset's Box folder
# (https://nihcc.app.box.com/v/ChestXray-NIHCC). MD5s: NIH's FAQ_CHESTXRAY.pdf in the same folder, question Q07
# ("We thank Utku Ozbulak for providing those MD5s").
_NIH_ARCHIVES = (
    ("vfk49d74nhbxq3nqjg0900w5nvkorp5c", "fe8ed0a6961412fddcbb3603c11b3698"),
    ("i28rlmbvmfjbl8p2n3ril0pptcmcu9d1", "ab07a2d7cbe6f65ddd97b4ed7bde10bf"),
    ("f1t00wrtdk94satdfb9olcolqx20z2jp", "2301d03bde4c246388bad3876965d574"),
    ("0aowwzs5lhjrceb3qp67ahp0rd1l1etg", "9f1b7f5aae01b13f4bc8e2c44a4b8ef6"),
    ("v5e3goj22zr6h8tzualxfsqlqaygfbsn", "1861f3cd0ef7734df8104f2b0309023b"),
    ("asi7ikud9jwnkrnkj99jnpfkjdes7l6l", "456b53a8b351afd92a35bc41444c58c8"),
    ("jn1b4mw4n6lnh74ovmcjb8y48h8xj07n", "1075121ea20a137b87f290d6a4a5965e"),
    ("tvpxmn7qyrgl0w8wfh9kqfjskv6nmm1j", "b61f34cec3aa69f295fbb593cbd9d443"),
    ("upyy3ml7qdumlgk2rfcvlb9k6gvqq2pj", "442a3caa61ae9b64e61c561294d1e183"),
    ("l6nilvfa9cg3s28tqv1qc1olm3gnz54p", "09ec81c4c31e32858ad8cf965c494b74"),
    ("hhq8fkdgvcari67vfhs7ppg2w6ni4jze", "499aefc67207a5a97692424cf5dbeed5"),
    ("ioqwiy20ihqwyr8pf4c24eazhh281pbu", "dc9fda1757c2de0032b63347a7d2895c"),
)
# The label files have no static Box link in NIH's script; a third-party Hugging Face mirror
# (alkzar90/NIH-Chest-X-ray-dataset, folder data/) serves them. NIH publishes no hash for them, and this entry was
# written without network access, so neither a mirror revision nor the SHA-256 of the mirror's files could be
# checked: the URLs follow the mirror's main branch and no hash is enforced. Each note says what to check instead.
# The reference SHA-256s are those of NIH's files in the course's reference data (`../shared/realdata/`, gzipped;
# gzip names Data_Entry_2017_v2020.csv of 2020-07-29 and BBox_List_2017.csv of 2020-07-28); a maintainer who
# confirms that the mirror serves the same bytes should pin its commit in _NIH_MIRROR and move them to `sha256`.
_NIH_MIRROR = "https://huggingface.co/datasets/alkzar90/NIH-Chest-X-ray-dataset/resolve/main/data/"
_NIH_UNPINNED = "Not pinned: a third-party mirror whose revision and hash could not be verified (see registry.py). "

NIH = DatasetInfo(
    name="nih",
    title="NIH ChestX-ray14",
    access="public",
    licence=(
        "unrestricted use; link to the NIH download site, acknowledge the NIH Clinical Center and cite "
        "Wang et al., CVPR 2017 (NIH FAQ Q04)"
    ),
    homepage="https://nihcc.app.box.com/v/ChestXray-NIHCC",
    register=None,
    files=(
        *(
            RemoteFile(
                name=f"images_{index:03d}.tar.gz",
                url=f"https://nihcc.box.com/shared/static/{key}.gz",
                md5=md5,
                extract=".",
                note="unpacks to images/*.png (1024x1024, 8-bit grey; a few RGBA)",
            )
            for index, (key, md5) in enumerate(_NIH_ARCHIVES, start=1)
        ),
        RemoteFile(
            "Data_Entry_2017_v2020.csv",
            _NIH_MIRROR + "Data_Entry_2017_v2020.csv",
            note=(
                "labels, 2020 revision. " + _NIH_UNPINNED + "To check: NIH's copy has SHA-256 "
                "dc1d2df67fdc1c5a7601d48699cda2b13dc2c4841488b4183dcf04884dbaca11 (9,003,499 bytes); a copy with "
                "another hash must still have 112,120 rows, 11 columns and 30,805 patients."
            ),
        ),
        RemoteFile(
            "BBox_List_2017.csv",
            _NIH_MIRROR + "BBox_List_2017.csv",
            note=(
                "984 boxes on 880 images. " + _NIH_UNPINNED + "To check: NIH's copy has SHA-256 "
                "0bbfea9d4c4e9771481b3023b1bc9f0df9dea924453b12986beb29b0c4d0c95b (92,416 bytes); a copy with "
                "another hash must still have 984 boxes on 880 images."
            ),
        ),
        RemoteFile(
            "train_val_list.txt",
            _NIH_MIRROR + "train_val_list.txt",
            note="patient-level split. " + _NIH_UNPINNED + "To check: with test_list.txt, it lists each of the "
            "112,120 images of the label file exactly once, and no patient is in both lists.",
        ),
        RemoteFile(
            "test_list.txt",
            _NIH_MIRROR + "test_list.txt",
            note="patient-level split. " + _NIH_UNPINNED + "To check: with train_val_list.txt, it lists each of "
            "the 112,120 images of the label file exactly once, and no patient is in both lists.",
        ),
    ),
    layout="""\
data/nih/
  Data_Entry_2017_v2020.csv      (or Data_Entry_2017_v2020.csv.gz)
  BBox_List_2017.csv             (or .csv.gz; optional, for boxes)
  train_val_list.txt  test_list.txt
  images/00000001_000.png ...    (from images_001.tar.gz ... images_012.tar.gz)
""",
    size="about 45 GB in 12 archives of 2-4.5 GB; labels 8 MB",
    citation="Wang X. et al., ChestX-ray8: Hospital-scale chest X-ray database and benchmarks, CVPR 2017",
)

CHEXPERT = DatasetInfo(
    name="chexpert",
    title="CheXpert (Stanford ML Group)",
    access="registration",
    licence="Stanford University School of Medicine CheXpert Dataset Research Use Agreement (non-commercial research)",
    homepage="https://stanfordmlgroup.github.io/competitions/chexpert/",
    register="https://stanfordaimi.azurewebsites.net/datasets/8cbd9ed4-2eb9-4565-affc-111cf4f7ebe2",
    files=(
        RemoteFile("CheXpert-v1.0-small/train.csv", note="223,414 rows; labels 1, 0, -1 (uncertain) or blank"),
        RemoteFile("CheXpert-v1.0-small/valid.csv", note="234 rows labelled by radiologists; 0 or 1 only"),
    ),
    layout="""\
data/chexpert/
  CheXpert-v1.0-small/            (or CheXpert-v1.0/ for full resolution)
    train.csv  valid.csv
    train/patient00001/study1/view1_frontal.jpg ...
    valid/patient64541/study1/view1_frontal.jpg ...
""",
    size="11 GB (downsampled 'small' version) or 439 GB (full)",
    citation="Irvin J. et al., CheXpert: a large chest radiograph dataset with uncertainty labels, AAAI 2019",
)

MIMIC = DatasetInfo(
    name="mimic",
    title="MIMIC-CXR-JPG v2.0.0 (PhysioNet)",
    access="credentialed",
    licence="PhysioNet Credentialed Health Data License 1.5.0 with the PhysioNet data use agreement",
    homepage="https://physionet.org/content/mimic-cxr-jpg/2.0.0/",
    register="https://physionet.org/settings/credentialing/ (then sign the DUA on the dataset page)",
    files=(
        RemoteFile("mimic-cxr-2.0.0-metadata.csv.gz", note="one row per image: dicom_id, ViewPosition, Rows, ..."),
        RemoteFile("mimic-cxr-2.0.0-chexpert.csv.gz", note="one row per study, CheXpert labeller"),
        RemoteFile("mimic-cxr-2.0.0-negbio.csv.gz", note="one row per study, NegBio labeller"),
        RemoteFile("mimic-cxr-2.0.0-split.csv.gz", note="train / validate / test per image"),
    ),
    layout="""\
data/mimic/
  mimic-cxr-2.0.0-metadata.csv.gz  mimic-cxr-2.0.0-chexpert.csv.gz
  mimic-cxr-2.0.0-negbio.csv.gz    mimic-cxr-2.0.0-split.csv.gz     (plain .csv also accepted)
  files/p10/p10000032/s50414267/02aa804e-bde0afdd-112c0b34-7bc16630-4e384014.jpg ...
        p{first two digits of subject}/p{subject_id}/s{study_id}/{dicom_id}.jpg
""",
    size="about 570 GB (377,110 JPEGs)",
    citation="Johnson A. et al., MIMIC-CXR-JPG, a large publicly available database of labeled chest radiographs, 2019",
)

PADCHEST = DatasetInfo(
    name="padchest",
    title="PADChest (BIMCV, Hospital San Juan, Alicante)",
    access="registration",
    licence="PADChest Dataset Research Use Agreement (BIMCV), non-commercial research",
    homepage="https://bimcv.cipf.es/bimcv-projects/padchest/",
    register="https://bimcv.cipf.es/bimcv-projects/padchest/ (request form)",
    files=(
        RemoteFile(
            "PADCHEST_chest_x_ray_images_labels_160K_01.02.19.csv.gz",
            note="Labels / Localizations as Python list text, CUI columns as numpy-printed arrays",
        ),
    ),
    layout="""\
data/padchest/
  PADCHEST_chest_x_ray_images_labels_160K_01.02.19.csv.gz   (or the unzipped .csv)
  0/216840111366964012283393834152009033102258826_04-059-087.png ...   ({ImageDir}/{ImageID}, 16-bit PNG)
  1/...  ... 54/...
""",
    size="about 1 TB in 55 zip files (160,868 16-bit PNGs)",
    citation="Bustos A. et al., PadChest: a large chest x-ray image dataset with multi-label annotated reports, MedIA 2020",
)

JSRT = DatasetInfo(
    name="jsrt",
    title="JSRT database with SCR segmentation masks and landmarks",
    access="registration",
    licence="JSRT: research and education use with acknowledgement of the JSRT; SCR: research use, cite van Ginneken 2006",
    homepage="http://db.jsrt.or.jp/eng.php",
    register="http://db.jsrt.or.jp/eng.php (JSRT request form) and https://www.isi.uu.nl/Research/Databases/SCR/ (SCR)",
    files=(
        RemoteFile("All247images/JPCLN001.IMG", note="raw 2048x2048 big-endian 12-bit, no header, 0.175 mm/pixel"),
        RemoteFile("CLNDAT_EN.txt", note="nodule cases: file, subtlety, size mm, age, sex, x, y, malignancy, ..."),
        RemoteFile("CNNDAT_EN.TXT", note="non-nodule cases: file, age, sex, 'non-nodule'"),
        RemoteFile("scr/masks/left lung/JPCLN001.gif", note="SCR masks, 1024x1024 GIF, one folder per organ"),
        RemoteFile("scr/landmarks/JPCLN001.pfs", note="SCR landmark points (optional)"),
    ),
    layout="""\
data/jsrt/
  All247images/JPCLN001.IMG ... JPCNN093.IMG
  CLNDAT_EN.txt  CNNDAT_EN.TXT
  scr/masks/right lung/JPCLN001.gif    scr/masks/left lung/...    scr/masks/heart/...
  scr/masks/right clavicle/...         scr/masks/left clavicle/...      (folder names with spaces, as shipped)
  scr/landmarks/JPCLN001.pfs ...       (optional)
""",
    size="about 2 GB (247 images of 8 MB) plus 30 MB of SCR masks",
    citation=(
        "Shiraishi J. et al., AJR 2000 (JSRT); van Ginneken B. et al., Segmentation of anatomical structures in "
        "chest radiographs using supervised methods, MedIA 2006 (SCR)"
    ),
)

SIIM = DatasetInfo(
    name="siim",
    title="SIIM-ACR Pneumothorax Segmentation (Kaggle 2019)",
    access="registration",
    licence="Kaggle competition rules (non-commercial research); the images are NIH ChestX-ray14 images",
    homepage="https://www.kaggle.com/c/siim-acr-pneumothorax-segmentation",
    register="https://www.kaggle.com/c/siim-acr-pneumothorax-segmentation/rules (Kaggle account, accept the rules)",
    files=(
        RemoteFile("train-rle.csv", note="ImageId, EncodedPixels: relative column-major RLE, -1 for no pneumothorax"),
    ),
    layout="""\
data/siim/
  train-rle.csv                    (or stage_2_train.csv)
  dicom-images-train/<study UID>/<series UID>/<ImageId>.dcm ...   (JPEG Baseline compressed, any nesting)
""",
    size="about 2 GB (12,089 DICOMs)",
    citation="Zawacki A. et al., SIIM-ACR Pneumothorax Segmentation challenge, 2019",
)

RSNA = DatasetInfo(
    name="rsna",
    title="RSNA Pneumonia Detection Challenge (Kaggle 2018)",
    access="registration",
    licence="Kaggle competition rules (non-commercial research); the images are NIH ChestX-ray14 images",
    homepage="https://www.kaggle.com/c/rsna-pneumonia-detection-challenge",
    register="https://www.kaggle.com/c/rsna-pneumonia-detection-challenge/rules (Kaggle account, accept the rules)",
    files=(
        RemoteFile("stage_2_train_labels.csv", note="patientId,x,y,width,height,Target; up to 4 rows per patient"),
        RemoteFile("stage_2_detailed_class_info.csv", note="patientId,class"),
    ),
    layout="""\
data/rsna/
  stage_2_train_labels.csv  stage_2_detailed_class_info.csv
  stage_2_train_images/<patientId>.dcm ...
""",
    size="about 3.5 GB (26,684 training DICOMs)",
    citation="Shih G. et al., Augmenting the NIH chest radiograph dataset with expert annotations, Radiology: AI 2019",
)

# MedMNIST v3 (MedMNIST+, Zenodo record 10519652). URLs and MD5s: `medmnist/info.py` of the official package
# (github.com/MedMNIST/MedMNIST, INFO["chestmnist"] and INFO["pneumoniamnist"], keys url/MD5, url_64/MD5_64, ...).
# Size of pneumoniamnist_224.npz: the Zenodo record's file listing (214,384,716 bytes); the others are not recorded.
_ZENODO = "https://zenodo.org/records/10519652/files/"
_MEDMNIST_MD5 = {
    "chestmnist.npz": "02c8a6516a18b556561a56cbdd36c4a8",
    "chestmnist_64.npz": "9de6cd0b934ebb5b7426cfba5efbae16",
    "chestmnist_128.npz": "db107e5590b27930b62dbaf558aebee3",
    "chestmnist_224.npz": "45bd33e6f06c3e8cdb481c74a89152aa",
    "pneumoniamnist.npz": "28209eda62fecd6e6a2d98b1501bb15f",
    "pneumoniamnist_64.npz": "8f4eceb4ccffa70c672198ea285246c6",
    "pneumoniamnist_128.npz": "05b46931834c231683c68f40c47b2971",
    "pneumoniamnist_224.npz": "d6a3c71de1b945ea11211b03746c1fe1",
}

MEDMNIST = DatasetInfo(
    name="medmnist",
    title="MedMNIST v3: ChestMNIST and PneumoniaMNIST",
    access="public",
    licence="CC BY 4.0 (ChestMNIST also under the NIH terms above); cite Yang et al., Scientific Data 2023",
    homepage="https://medmnist.com/",
    register=None,
    files=tuple(
        RemoteFile(
            name,
            f"{_ZENODO}{name}?download=1",
            md5,
            214_384_716 if name == "pneumoniamnist_224.npz" else None,
            note="npz keys train_images, train_labels, val_images, val_labels, test_images, test_labels",
        )
        for name, md5 in _MEDMNIST_MD5.items()
    ),
    layout="""\
data/medmnist/
  chestmnist.npz  chestmnist_64.npz  chestmnist_128.npz  chestmnist_224.npz        (28, 64, 128, 224 pixels)
  pneumoniamnist.npz  pneumoniamnist_64.npz  pneumoniamnist_128.npz  pneumoniamnist_224.npz
""",
    size="chestmnist 28 px: 80 MB ... 224 px: 3.9 GB; pneumoniamnist 28 px: 4 MB ... 224 px: 214 MB",
    citation="Yang J. et al., MedMNIST v2, Scientific Data 10, 41 (2023)",
)

# The two NLM tuberculosis sets. NLM now lists the unpacked files at data.lhncbc.nlm.nih.gov (the homepages below); the
# archive URLs are the Open-i collection links that NLM's earlier download page and many projects cite. Neither was
# fetched while writing this entry (no internet access), and NLM publishes no MD5 and no archive size, so md5 and
# size_bytes are None. The image byte totals in `size` come from a third-party inventory of NLM's file index.
_NLM_TB = "https://data.lhncbc.nlm.nih.gov/public/Tuberculosis-Chest-X-ray-Datasets/"
_NLM_TB_CITATION = (
    "Jaeger S. et al., Two public chest X-ray datasets for computer-aided screening of pulmonary diseases, "
    "Quant Imaging Med Surg 2014;4(6):475-477"
)

MONTGOMERY = DatasetInfo(
    name="montgomery",
    title="Montgomery County chest X-ray set (U.S. National Library of Medicine)",
    access="public",
    licence=(
        "public, no registration; NLM asks users to cite Jaeger et al. 2014 and, for the lung masks, Candemir et al. "
        "2014 (no formal licence text is distributed with the set)"
    ),
    homepage=_NLM_TB + "Montgomery-County-CXR-Set/MontgomerySet/index.html",
    register=None,
    files=(
        RemoteFile(
            "NLM-MontgomeryCXRSet.zip",
            "https://openi.nlm.nih.gov/imgs/collections/NLM-MontgomeryCXRSet.zip",
            extract=".",
            note=(
                "URL not verified here (Open-i collection link; if it fails, fetch CXR_png/, ClinicalReadings/ and "
                "ManualMask/ from the homepage); no MD5 published; about 600 MB; unpacks to MontgomerySet/"
            ),
        ),
    ),
    layout="""\
data/montgomery/
  MontgomerySet/                         (as unpacked from NLM-MontgomeryCXRSet.zip; CXR_png/ may also sit directly
                                          in data/montgomery/ or one folder deeper)
    CXR_png/MCUCXR_0001_0.png ...        (138 PNGs, 4020x4892 or 4892x4020, 12-bit grey, 0.0875 mm/pixel;
                                          last digit 0 = normal (80), 1 = tuberculosis (58))
    ClinicalReadings/MCUCXR_0001_0.txt ...   (patient's sex, age and the reading; optional)
    ManualMask/leftMask/MCUCXR_0001_0.png ...    ManualMask/rightMask/MCUCXR_0001_0.png ...
                                         (manual lung masks, 0/255, same name and size as the image)
or, instead, the simple layout of downsized copies (masks of both lungs in one file, same names):
  images/MCUCXR_0001_0.png ...    masks/MCUCXR_0001_0.png ...
""",
    size="about 600 MB (the 138 PNGs total 614,034,765 bytes)",
    citation=(
        f"{_NLM_TB_CITATION}; Candemir S. et al., Lung segmentation in chest radiographs using anatomical atlases "
        "with nonrigid registration, IEEE TMI 2014;33(2):577-590 (masks)"
    ),
)

SHENZHEN = DatasetInfo(
    name="shenzhen",
    title="Shenzhen chest X-ray set (NLM and Shenzhen No.3 People's Hospital)",
    access="public",
    licence=(
        "images: public, no registration, cite Jaeger et al. 2014 (no formal licence text is distributed with the "
        "set); lung masks: CC BY-NC-SA 4.0 as stated on their Mendeley Data record (not verified here)"
    ),
    homepage=_NLM_TB + "Shenzhen-Hospital-CXR-Set/index.html",
    register=None,
    files=(
        RemoteFile(
            "ChinaSet_AllFiles.zip",
            "https://openi.nlm.nih.gov/imgs/collections/ChinaSet_AllFiles.zip",
            extract=".",
            note=(
                "URL not verified here (Open-i collection link; if it fails, fetch CXR_png/ and ClinicalReadings/ "
                "from the homepage); no MD5 published; about 3.8 GB; unpacks to ChinaSet_AllFiles/"
            ),
        ),
        RemoteFile(
            "mask/CHNCXR_0001_0_mask.png",
            note=(
                "optional lung masks of Stirenko et al. 2018 (both lungs in one mask, 566 of the 662 images), not part "
                "of NLM's archive: https://www.kaggle.com/datasets/yoctoman/shcxr-lung-mask (Kaggle account) or "
                "https://doi.org/10.17632/8gf9vpkhgy.2 (Mendeley Data)"
            ),
        ),
    ),
    layout="""\
data/shenzhen/
  ChinaSet_AllFiles/                     (as unpacked from ChinaSet_AllFiles.zip; CXR_png/ may also sit directly in
                                          data/shenzhen/ or one folder deeper)
    CXR_png/CHNCXR_0001_0.png ...        (662 PNGs of about 3000x3000 pixels; last digit 0 = normal (326),
                                          1 = tuberculosis (336))
    ClinicalReadings/CHNCXR_0001_0.txt ...   (sex and age, then the reading; optional)
  mask/CHNCXR_0001_0_mask.png ...        (optional lung masks of Stirenko et al., a separate download; also found
                                          in masks/, shcxr-lung-mask/mask/ or shcxr-lung-mask/mask/mask/ (Kaggle))
""",
    size="about 3.8 GB (the 662 PNGs total 3,772,099,214 bytes); the masks are a separate, smaller download",
    citation=(
        f"{_NLM_TB_CITATION}; Stirenko S. et al., Chest X-ray analysis of tuberculosis by deep learning with "
        "segmentation and augmentation, IEEE ELNANO 2018 (lung masks)"
    ),
)

DATASETS: dict[str, DatasetInfo] = {
    info.name: info for info in (NIH, CHEXPERT, MIMIC, PADCHEST, JSRT, SIIM, RSNA, MEDMNIST, MONTGOMERY, SHENZHEN)
}
"""Every dataset on the slides (and MedMNIST and the two NLM tuberculosis sets), by short name."""


def get(name: str) -> DatasetInfo:
    """Return the registry entry of a dataset.

    Args:
        name: a short name such as `"nih"` (case-insensitive).

    Raises:
        TypeError: if `name` is not a string.
        ValueError: for an unknown name; the message suggests the closest one.
    """
    return DATASETS[check_choice(name, "name", DATASETS, normalize=lambda text: text.strip().lower(), what="dataset")]
