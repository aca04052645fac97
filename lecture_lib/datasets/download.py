"""Download dataset files safely and unpack archives without letting them write outside their folder.

`fetch` streams a file with pooch's downloader (progress bar, timeout) into a temporary file of its own in a private
`.downloads/` folder, checks the size and hashes (MD5, SHA-256), then moves it into place with one atomic rename:
the destination holds either nothing or the complete, verified file, never a partial or corrupt one. An existing
destination that fails the checks is deleted before downloading again, so an interrupted or failed attempt leaves
nothing behind. Each call removes only its own temporary file, so several downloads (threads or processes) can
share a folder; a temporary file left by a crash is deleted by a later call once it is `STALE_AFTER_SECONDS` old.

`extract` unpacks `.tar`, `.tar.gz` and `.zip` archives after checking every member first: absolute paths, `..`
components, symbolic or hard links and device files are refused, and the archive is unpacked into a temporary
folder that is moved into place only when everything succeeded.

Example:
    >>> from lecture_lib.datasets import download
    >>> path = download.fetch(url, "data/medmnist/chestmnist.npz", md5="02c8a6516a18b556561a56cbdd36c4a8")
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

import pooch

from lecture_lib.config import data_dir as default_data_dir
from lecture_lib.datasets.registry import DatasetInfo, RemoteFile, get

DEFAULT_TIMEOUT = 60.0
"""Seconds without any data from the server after which a download is abandoned."""

PARTIAL_DIR = ".downloads"
"""Folder (inside the destination folder) where files are streamed before they are verified and moved."""

STALE_AFTER_SECONDS = 3600.0
"""A temporary file in `PARTIAL_DIR` not written to for this long is a crash's leftover (a live download writes at
least every `timeout` seconds or fails) and is deleted by the next `fetch` into the same folder."""


class DownloadError(RuntimeError):
    """A download failed; nothing was left at the destination and the message says what to do."""


class UnsafeArchiveError(DownloadError):
    """An archive holds a member that would land outside the target folder (or a link); nothing was extracted."""


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are missing; the message says where to get them and how to lay them out."""


def _digest(path: Path | str, algorithm: str, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def md5_of(path: Path | str, chunk_size: int = 1 << 20) -> str:
    """Return the MD5 hex digest of a file, read in chunks."""
    return _digest(path, "md5", chunk_size)


def sha256_of(path: Path | str, chunk_size: int = 1 << 20) -> str:
    """Return the SHA-256 hex digest of a file, read in chunks."""
    return _digest(path, "sha256", chunk_size)


def _problem(path: Path, md5: str | None, sha256: str | None, size_bytes: int | None) -> str | None:
    """What is wrong with a downloaded file (`"MD5"`, `"SHA-256"` or `"size"`), or `None` if it passes."""
    if size_bytes is not None and path.stat().st_size != size_bytes:
        return "size"
    if md5 is not None and md5_of(path) != md5.lower():
        return "MD5"
    if sha256 is not None and sha256_of(path) != sha256.lower():
        return "SHA-256"
    return None


def _remove_stale_partials(folder: Path) -> None:
    """Delete crash leftovers in `folder`; files other downloads are writing right now are younger."""
    now = time.time()
    try:
        leftovers = list(folder.iterdir())
    except FileNotFoundError:  # the last download using it removed the folder
        return
    for leftover in leftovers:
        try:
            if leftover.is_file() and now - leftover.stat().st_mtime > STALE_AFTER_SECONDS:
                leftover.unlink()
        except FileNotFoundError:  # removed by its own download meanwhile
            pass


def _staging_file(folder: Path, name: str) -> Path:
    """Create an empty temporary file for one download in `folder` (made if needed) and return its path."""
    attempts = 3
    while True:
        folder.mkdir(parents=True, exist_ok=True)
        try:
            handle, staged = tempfile.mkstemp(dir=folder, prefix=f"{name}.", suffix=".part")
            break
        except FileNotFoundError:  # another download removed the empty folder between the two calls
            attempts -= 1
            if not attempts:
                raise
    os.close(handle)
    return Path(staged)


def fetch(
    url: str,
    path: Path | str,
    md5: str | None = None,
    size_bytes: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool = True,
    sha256: str | None = None,
) -> Path:
    """Download `url` to `path`, verified and atomically, unless a verified copy is already there.

    Args:
        url: an `http(s)://` URL.
        path: the destination file.
        md5: the expected MD5 (hex). When given, an existing file with another hash is deleted and downloaded
            again, and a download with another hash is rejected. `None` skips the check.
        size_bytes: the expected size in bytes, checked like `md5` when given.
        timeout: seconds to wait for the connection and for each piece of data; a stalled server fails after it.
        progress: show a progress bar.
        sha256: the expected SHA-256 (hex), checked like `md5` when given.

    Returns:
        The destination `Path`.

    Raises:
        DownloadError: on HTTP errors (404 ...), dropped connections, timeouts, or a wrong hash or size. The
            destination is left absent (or untouched if it held a verified copy) and the message says what to do.
    """
    import requests  # pooch's HTTP client; imported here to keep `import lecture_lib` light

    path = Path(path).expanduser().resolve()
    saved = f"Nothing was saved at {path}."
    if path.is_file():
        wrong = _problem(path, md5, sha256, size_bytes)
        if wrong is None:
            return path
        path.unlink(missing_ok=True)  # known to be corrupt: an interrupted re-download must not leave it there
        saved = (
            f"The file that was at {path} did not match the expected {wrong} and was deleted; nothing was saved in "
            "its place."
        )
    retry = (
        f"{saved} Run the same call again to restart the download, or download {url} yourself (e.g. in a browser) "
        f"and place it at {path}."
    )
    partial_dir = path.parent / PARTIAL_DIR
    if partial_dir.is_dir():
        _remove_stale_partials(partial_dir)
    staged = _staging_file(partial_dir, path.name)
    try:
        pooch.HTTPDownloader(progressbar=progress, timeout=timeout)(url, str(staged), None)
        wrong = _problem(staged, md5, sha256, size_bytes)
        if wrong == "size":
            raise DownloadError(
                f"{url} gave {staged.stat().st_size} bytes, expected {size_bytes}: the transfer was incomplete or "
                f"the file changed. {retry}"
            )
        if wrong is not None:
            published = f"published MD5 {md5}" if wrong == "MD5" else f"recorded SHA-256 {sha256}"
            raise DownloadError(
                f"the file from {url} does not have the {published}, so it is corrupt or was changed on the server "
                f"and was deleted. {retry} If it fails again, the provider may have replaced the file: compare "
                "with data/README.md."
            )
        os.replace(staged, path)
    except requests.exceptions.HTTPError as error:
        raise DownloadError(
            f"the server refused {url}: {error}. Check that the URL still works (see data/README.md for the "
            f"provider's page); if the file moved, download it by hand and place it at {path}. {saved}"
        ) from error
    except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as error:
        kind = (
            "timed out"
            if "timed out" in str(error).lower() or "timeout" in type(error).__name__.lower()
            else "lost its connection"
        )
        raise DownloadError(
            f"the download of {url} {kind} (timeout {timeout:g} s): {error}. Check your network. {retry}"
        ) from error
    except requests.exceptions.RequestException as error:
        raise DownloadError(f"the download of {url} failed: {error}. {retry}") from error
    finally:
        staged.unlink(missing_ok=True)  # only this call's own file; gone already after the rename
        try:
            partial_dir.rmdir()  # only when no other download is using it
        except OSError:
            pass
    return path


def _member_problem(name: str, is_link: bool, is_special: bool) -> str | None:
    pure = PurePosixPath(name.replace("\\", "/"))
    if is_link:
        return "is a link"
    if is_special:
        return "is a device, pipe or other special file"
    if pure.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "has an absolute path"
    if ".." in pure.parts:
        return "climbs out with '..'"
    return None


def check_archive(archive: Path | str) -> list[str]:
    """List an archive's members after checking that none could write outside the extraction folder.

    Args:
        archive: a `.tar`, `.tar.gz` / `.tgz` or `.zip` file.

    Returns:
        The member names.

    Raises:
        UnsafeArchiveError: naming the first member that is absolute, contains `..`, is a symbolic or hard
            link, or is a special file.
        DownloadError: if the file is not a readable archive.
    """
    archive = Path(archive)
    members: list[tuple[str, bool, bool]] = []
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as handle:
                for info in handle.infolist():
                    mode = info.external_attr >> 16
                    members.append((info.filename, stat.S_ISLNK(mode), False))
        else:
            with tarfile.open(archive) as handle:
                for info in handle.getmembers():
                    special = not (info.isfile() or info.isdir() or info.issym() or info.islnk())
                    members.append((info.name, info.issym() or info.islnk(), special))
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as error:
        raise DownloadError(
            f"{archive} is not a readable tar or zip archive ({error}); delete it and download it again"
        ) from error
    for name, is_link, is_special in members:
        problem = _member_problem(name, is_link, is_special)
        if problem:
            raise UnsafeArchiveError(
                f"refusing to extract {archive.name}: member {name!r} {problem}, which could write outside the "
                f"target folder. Nothing was extracted. Delete {archive} and download it again from the provider; "
                "if it persists, report the file to the provider."
            )
    return [name for name, _, _ in members]


def extract(archive: Path | str, target: Path | str) -> Path:
    """Unpack an archive into `target` safely and atomically, once.

    The members are checked first (see `check_archive`); the archive is unpacked into a temporary folder next to
    `target`, and its top-level entries are moved into `target` only after everything was written. A marker file
    `.extracted-<archive name>` records success so that a second call returns at once.

    Args:
        archive: a `.tar`, `.tar.gz` / `.tgz` or `.zip` file.
        target: the folder to unpack into (created if needed).

    Returns:
        `target` as a `Path`.

    Raises:
        UnsafeArchiveError: for a member that escapes `target` or is a link; nothing is written.
        DownloadError: for an unreadable archive.
    """
    archive, target = Path(archive), Path(target)
    target.mkdir(parents=True, exist_ok=True)
    marker = target / f".extracted-{archive.name}"
    if marker.exists():
        return target
    check_archive(archive)
    staging = target / f".extracting-{archive.name}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as handle:
                handle.extractall(staging)
        else:
            with tarfile.open(archive) as handle:
                handle.extractall(staging, filter="data")
        for entry in staging.iterdir():
            destination = target / entry.name
            if entry.is_dir() and destination.is_dir():
                shutil.copytree(entry, destination, dirs_exist_ok=True, copy_function=os.replace)
            else:
                os.replace(entry, destination)
        marker.touch()
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as error:
        raise DownloadError(
            f"extracting {archive} failed ({error}); delete it and download it again, then call the loader again"
        ) from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def dataset_folder(name: str, data_dir: Path | str | None = None) -> Path:
    """Return `data/<name>/` (or `data_dir` itself when given): where a dataset's files live."""
    return Path(data_dir).expanduser().resolve() if data_dir is not None else default_data_dir() / name


def download_dataset(
    name: str | DatasetInfo,
    data_dir: Path | str | None = None,
    files: Sequence[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool = True,
) -> Path:
    """Fetch (and unpack) a public dataset's files into its folder.

    Args:
        name: a registry name such as `"medmnist"`, or a `DatasetInfo`.
        data_dir: the dataset's folder; default `data/<name>/`.
        files: names of the registry files to fetch; default all of them.
        timeout: seconds without data before a download is abandoned.
        progress: show progress bars.

    Returns:
        The dataset folder.

    Raises:
        DatasetNotFoundError: for a dataset that needs registration, with the instructions.
        KeyError: for an unknown file name.
        DownloadError, UnsafeArchiveError: see `fetch` and `extract`.
    """
    info = name if isinstance(name, DatasetInfo) else get(name)
    folder = dataset_folder(info.name, data_dir)
    wanted: list[RemoteFile] = list(info.files) if files is None else [info.file(item) for item in files]
    missing_url = [item.name for item in wanted if item.url is None]
    if info.access != "public" or missing_url:
        raise DatasetNotFoundError(f"{info.title} cannot be downloaded automatically. {info.instructions(folder)}")
    folder.mkdir(parents=True, exist_ok=True)
    for item in wanted:
        path = fetch(
            item.url,
            folder / item.name,
            md5=item.md5,
            size_bytes=item.size_bytes,
            timeout=timeout,
            progress=progress,
            sha256=item.sha256,
        )
        if item.extract is not None:
            extract(path, folder / item.extract)
    return folder


def require(info: DatasetInfo, folder: Path, needed: Sequence[str | Sequence[str]]) -> dict[str, Path]:
    """Check that a dataset's files are in place, or raise the registration / download instructions.

    Args:
        info: the registry entry.
        folder: the dataset folder.
        needed: file or folder names relative to `folder`; an inner sequence lists alternatives (first found wins),
            e.g. `("labels.csv", "labels.csv.gz")`.

    Returns:
        A dict from the first name of each entry to the `Path` found.

    Raises:
        DatasetNotFoundError: listing the missing files, then where to get them and the expected layout.
    """
    found, missing = {}, []
    for entry in needed:
        options = [entry] if isinstance(entry, str) else list(entry)
        hit = next((folder / option for option in options if (folder / option).exists()), None)
        if hit is None:
            missing.append(" or ".join(options))
        else:
            found[options[0]] = hit
    if missing:
        raise DatasetNotFoundError(f"missing in {folder}: {', '.join(missing)}.\n{info.instructions(folder)}")
    return found
