"""Tests of the dataset registry and the safe downloader / extractor, against a faulty local HTTP server."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import tarfile
import threading
import time
import zipfile

import pooch
import pytest
from loader_fixtures import REALDATA, faulty_server

from lecture_lib.datasets import download, registry

PAYLOAD = bytes(range(256)) * 400  # 102,400 bytes
PAYLOAD_MD5 = hashlib.md5(PAYLOAD).hexdigest()


@pytest.fixture()
def server():
    with faulty_server() as running:
        running.routes["/good.bin"] = (PAYLOAD, None)
        running.routes["/drop.bin"] = (PAYLOAD, "drop")
        running.routes["/stall.bin"] = (PAYLOAD, "stall")
        yield running


def leftovers(folder):
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())


# ----------------------------------------------------------------------------------------------- registry facts


def test_nih_registry_has_twelve_archives_with_nih_published_md5s():
    nih = registry.get("nih")
    archives = [item for item in nih.files if item.name.endswith(".tar.gz")]
    assert [item.name for item in archives] == [f"images_{i:03d}.tar.gz" for i in range(1, 13)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", item.md5) for item in archives)
    assert len({item.md5 for item in archives}) == 12
    # Values from NIH's FAQ_CHESTXRAY.pdf, Q07 (first and last).
    assert archives[0].md5 == "fe8ed0a6961412fddcbb3603c11b3698"
    assert archives[-1].md5 == "dc9fda1757c2de0032b63347a7d2895c"
    assert all(item.url.startswith("https://nihcc.box.com/shared/static/") for item in archives)
    assert nih.access == "public"


def test_medmnist_registry_points_at_the_zenodo_record_with_md5s():
    info = registry.get("MedMNIST")
    assert {item.name for item in info.files} >= {"chestmnist.npz", "pneumoniamnist_224.npz"}
    for item in info.files:
        assert item.url.startswith("https://zenodo.org/records/10519652/files/" + item.name)
        assert re.fullmatch(r"[0-9a-f]{32}", item.md5)
    assert info.file("pneumoniamnist.npz").md5 == "28209eda62fecd6e6a2d98b1501bb15f"


def test_every_dataset_has_access_licence_and_layout():
    assert set(registry.DATASETS) == {
        "nih",
        "chexpert",
        "mimic",
        "padchest",
        "jsrt",
        "siim",
        "rsna",
        "medmnist",
        "montgomery",
        "shenzhen",
    }
    for info in registry.DATASETS.values():
        assert info.access in registry.ACCESS_LEVELS
        assert info.licence and info.homepage.startswith("http") and info.layout.startswith(f"data/{info.name}/")
        assert (info.register is None) == (info.access == "public")
    assert registry.get("mimic").access == "credentialed"


NIH_MIRROR_FILES = ("Data_Entry_2017_v2020.csv", "BBox_List_2017.csv", "train_val_list.txt", "test_list.txt")


@pytest.mark.parametrize("name", NIH_MIRROR_FILES)
def test_nih_mirror_files_are_pinned_with_a_sha256_or_say_why_not_and_what_to_check(name):
    item = registry.NIH.file(name)
    pinned = re.search(r"/resolve/[0-9a-f]{40}/", item.url) is not None and item.sha256 is not None
    assert pinned or ("not pinned" in item.note.lower() and "to check" in item.note.lower())


@pytest.mark.parametrize("name", ["Data_Entry_2017_v2020.csv", "BBox_List_2017.csv"])
def test_nih_reference_sha256_is_that_of_the_real_file(name):
    real = REALDATA / f"{name}.gz"
    if not real.exists():
        pytest.skip(f"{real} is not here")
    digest = hashlib.sha256(gzip.decompress(real.read_bytes())).hexdigest()
    item = registry.NIH.file(name)
    assert digest in ((item.sha256 or "") + item.note)


def test_unknown_dataset_suggests_the_closest_name():
    with pytest.raises(ValueError, match=r"unknown dataset 'chexpret' \(did you mean 'chexpert'\?\); name must be"):
        registry.get("chexpret")


def test_registration_dataset_explains_where_to_register_and_the_layout(tmp_path):
    with pytest.raises(download.DatasetNotFoundError) as caught:
        download.download_dataset("chexpert", data_dir=tmp_path / "chexpert")
    message = str(caught.value)
    assert "stanfordaimi" in message and "CheXpert-v1.0-small/" in message and "train.csv" in message


def test_require_lists_missing_files_and_accepts_alternatives(tmp_path):
    (tmp_path / "labels.csv.gz").write_bytes(b"x")
    found = download.require(registry.RSNA, tmp_path, [("labels.csv", "labels.csv.gz")])
    assert found["labels.csv"] == tmp_path / "labels.csv.gz"
    with pytest.raises(download.DatasetNotFoundError, match="missing in .*: stage_2_train_labels.csv"):
        download.require(registry.RSNA, tmp_path, ["stage_2_train_labels.csv"])


# ------------------------------------------------------------------------------------------------- downloads


def test_fetch_downloads_verifies_and_does_not_download_twice(server, tmp_path):
    target = tmp_path / "sub" / "file.bin"
    path = download.fetch(server.url("/good.bin"), target, md5=PAYLOAD_MD5, size_bytes=len(PAYLOAD), progress=False)
    assert path == target and target.read_bytes() == PAYLOAD
    assert hashlib.md5(target.read_bytes()).hexdigest() == PAYLOAD_MD5
    download.fetch(server.url("/good.bin"), target, md5=PAYLOAD_MD5, progress=False)
    assert server.hits["/good.bin"] == 1
    assert leftovers(tmp_path) == ["sub/file.bin"]


def test_fetch_replaces_a_corrupt_existing_file(server, tmp_path):
    target = tmp_path / "file.bin"
    target.write_bytes(b"truncated")
    download.fetch(server.url("/good.bin"), target, md5=PAYLOAD_MD5, progress=False)
    assert target.read_bytes() == PAYLOAD


def test_an_existing_file_of_the_wrong_size_is_downloaded_again(server, tmp_path):
    target = tmp_path / "file.bin"
    target.write_bytes(b"short")
    download.fetch(server.url("/good.bin"), target, size_bytes=len(PAYLOAD), progress=False)
    assert target.read_bytes() == PAYLOAD


def test_a_failed_re_download_deletes_the_corrupt_file_and_says_so(server, tmp_path):
    target = tmp_path / "file.bin"
    target.write_bytes(b"truncated")
    with pytest.raises(download.DownloadError) as caught:
        download.fetch(server.url("/drop.bin"), target, md5=PAYLOAD_MD5, progress=False)
    assert "did not match the expected MD5 and was deleted; nothing was saved in its place" in str(caught.value)
    assert leftovers(tmp_path) == []


def test_an_interrupted_re_download_leaves_no_corrupt_or_partial_file(server, tmp_path, monkeypatch):
    target = tmp_path / "file.bin"
    target.write_bytes(b"truncated")

    def interrupted(self, url, output_file, pooch, check_only=False):
        with open(output_file, "wb") as stream:
            stream.write(PAYLOAD[:1000])
        raise KeyboardInterrupt

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", interrupted)
    with pytest.raises(KeyboardInterrupt):
        download.fetch(server.url("/good.bin"), target, md5=PAYLOAD_MD5, progress=False)
    assert leftovers(tmp_path) == []


def test_concurrent_fetches_into_one_folder_do_not_disturb_each_other(server, tmp_path):
    slow_body = PAYLOAD[::-1]
    server.routes["/gated.bin"] = (slow_body, "gate")
    errors = []

    def slow_fetch():
        try:
            download.fetch(server.url("/gated.bin"), tmp_path / "slow.bin", md5=hashlib.md5(slow_body).hexdigest(),
                           progress=False)  # fmt: skip
        except BaseException as error:  # handed to the main thread, which asserts there is none
            errors.append(error)

    thread = threading.Thread(target=slow_fetch)
    thread.start()
    try:
        assert server.half_sent.wait(10)
        download.fetch(server.url("/good.bin"), tmp_path / "fast.bin", md5=PAYLOAD_MD5, progress=False)
    finally:
        server.release.set()
        thread.join(20)
    assert errors == []
    assert (tmp_path / "slow.bin").read_bytes() == slow_body and (tmp_path / "fast.bin").read_bytes() == PAYLOAD
    assert leftovers(tmp_path) == ["fast.bin", "slow.bin"]


def test_wrong_sha256_is_rejected_and_deleted(server, tmp_path):
    target = tmp_path / "file.bin"
    with pytest.raises(download.DownloadError, match="does not have the recorded SHA-256 f{64}.*was deleted"):
        download.fetch(server.url("/good.bin"), target, sha256="f" * 64, progress=False)
    assert leftovers(tmp_path) == []
    download.fetch(server.url("/good.bin"), target, sha256=hashlib.sha256(PAYLOAD).hexdigest(), progress=False)
    assert target.read_bytes() == PAYLOAD


def test_connection_dropped_mid_file_leaves_nothing(server, tmp_path):
    target = tmp_path / "file.bin"
    with pytest.raises(download.DownloadError, match="Run the same call again"):
        download.fetch(server.url("/drop.bin"), target, md5=None, progress=False)
    assert leftovers(tmp_path) == []


def test_wrong_hash_is_rejected_and_deleted(server, tmp_path):
    target = tmp_path / "file.bin"
    with pytest.raises(download.DownloadError, match="does not have the published MD5 0{32}.*was deleted"):
        download.fetch(server.url("/good.bin"), target, md5="0" * 32, progress=False)
    assert leftovers(tmp_path) == []


def test_wrong_size_is_rejected(server, tmp_path):
    with pytest.raises(download.DownloadError, match="gave 102400 bytes, expected 5: the transfer was incomplete"):
        download.fetch(server.url("/good.bin"), tmp_path / "f.bin", size_bytes=5, progress=False)
    assert leftovers(tmp_path) == []


def test_404_says_to_check_the_url(server, tmp_path):
    with pytest.raises(download.DownloadError, match="404.*download it by hand and place it at"):
        download.fetch(server.url("/missing.bin"), tmp_path / "f.bin", progress=False)
    assert leftovers(tmp_path) == []


def test_stalled_server_times_out(server, tmp_path):
    server.stall_seconds = 4.0
    with pytest.raises(download.DownloadError, match="timed out \\(timeout 0.5 s\\)"):
        download.fetch(server.url("/stall.bin"), tmp_path / "f.bin", timeout=0.5, progress=False)
    assert leftovers(tmp_path) == []


def test_stale_partial_file_from_a_crash_is_cleaned_but_a_live_one_is_kept(server, tmp_path):
    stale = tmp_path / download.PARTIAL_DIR / "file.bin.crashed.part"
    stale.parent.mkdir()
    stale.write_bytes(b"half a file")
    long_ago = time.time() - download.STALE_AFTER_SECONDS - 60
    os.utime(stale, (long_ago, long_ago))
    live = stale.with_name("other.bin.live.part")  # another download, still writing
    live.write_bytes(b"a quarter")
    download.fetch(server.url("/good.bin"), tmp_path / "file.bin", md5=PAYLOAD_MD5, progress=False)
    assert leftovers(tmp_path) == [f"{download.PARTIAL_DIR}/other.bin.live.part", "file.bin"]


# ------------------------------------------------------------------------------------------------- archives


def make_tar(members, gz=True):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gz else "w") as handle:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(data)
                handle.addfile(info, io.BytesIO(data))
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, data
                handle.addfile(info)
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, data
                handle.addfile(info)
    return buffer.getvalue()


def make_zip(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as handle:
        for name, data in members:
            handle.writestr(name, data)
    return buffer.getvalue()


def test_extract_unpacks_tar_gz_and_zip_once(tmp_path):
    archive = tmp_path / "images_001.tar.gz"
    archive.write_bytes(make_tar([("images/a.png", "file", b"A"), ("images/b.png", "file", b"B")]))
    target = tmp_path / "data"
    download.extract(archive, target)
    assert (target / "images" / "a.png").read_bytes() == b"A"
    second = tmp_path / "images_002.zip"
    second.write_bytes(make_zip([("images/c.png", b"C")]))
    download.extract(second, target)
    assert sorted(p.name for p in (target / "images").iterdir()) == ["a.png", "b.png", "c.png"]
    (target / "images" / "a.png").unlink()
    download.extract(archive, target)  # marker present: not unpacked again
    assert not (target / "images" / "a.png").exists()


@pytest.mark.parametrize(
    ("members", "problem"),
    [
        ([("ok.txt", "file", b"1"), ("../evil.txt", "file", b"x")], "climbs out"),
        ([("/tmp/evil.txt", "file", b"x")], "absolute path"),
        ([("link", "symlink", "/etc/passwd")], "is a link"),
        ([("ok.txt", "file", b"1"), ("hard", "hardlink", "ok.txt")], "is a link"),
    ],
)
def test_extract_refuses_escaping_tar_members_and_writes_nothing(tmp_path, members, problem):
    archive = tmp_path / "bad.tar.gz"
    archive.write_bytes(make_tar(members))
    target = tmp_path / "data"
    with pytest.raises(download.UnsafeArchiveError, match=f"{problem}.*Nothing was extracted.*download it again"):
        download.extract(archive, target)
    assert leftovers(target) == [] and not (tmp_path / "evil.txt").exists()


def test_extract_refuses_escaping_zip_member(tmp_path):
    archive = tmp_path / "bad.zip"
    archive.write_bytes(make_zip([("good.txt", b"1"), ("../../evil.txt", b"x")]))
    with pytest.raises(download.UnsafeArchiveError, match="'../../evil.txt' climbs out"):
        download.extract(archive, tmp_path / "data")
    assert leftovers(tmp_path / "data") == []


def test_download_dataset_with_an_escaping_archive_from_the_server(server, tmp_path):
    body = make_tar([("images/x.png", "file", b"png"), ("../../escape.txt", "file", b"x")])
    server.routes["/images_001.tar.gz"] = (body, None)
    info = registry.DatasetInfo(
        name="toy",
        title="Toy",
        access="public",
        licence="test",
        homepage="http://127.0.0.1",
        register=None,
        files=(
            registry.RemoteFile(
                "images_001.tar.gz", server.url("/images_001.tar.gz"), hashlib.md5(body).hexdigest(), extract="."
            ),
        ),
        layout="data/toy/\n",
        size="1 kB",
        citation="-",
    )
    folder = tmp_path / "toy"
    with pytest.raises(download.UnsafeArchiveError):
        download.download_dataset(info, data_dir=folder, progress=False)
    assert leftovers(folder) == ["images_001.tar.gz"]  # the verified archive, nothing extracted
    assert not (tmp_path / "escape.txt").exists() and not os.path.exists(folder.parent.parent / "escape.txt")


def test_download_dataset_fetches_and_extracts(server, tmp_path):
    body = make_tar([("images/x.png", "file", b"png")])
    server.routes["/a.tar.gz"] = (body, None)
    server.routes["/labels.csv"] = (b"a,b\n1,2\n", None)
    info = registry.DatasetInfo(
        "toy", "Toy", "public", "test", "http://127.0.0.1", None,
        (
            registry.RemoteFile("a.tar.gz", server.url("/a.tar.gz"), hashlib.md5(body).hexdigest(), extract="."),
            registry.RemoteFile("labels.csv", server.url("/labels.csv")),
        ),
        "data/toy/\n", "1 kB", "-",
    )  # fmt: skip
    folder = download.download_dataset(info, data_dir=tmp_path / "toy", progress=False)
    assert (folder / "images" / "x.png").read_bytes() == b"png"
    assert (folder / "labels.csv").read_text() == "a,b\n1,2\n"
