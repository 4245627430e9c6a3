"""Reading an upload into files: zip archives checked before anything is read from them.

An archive that is damaged (bad CRC, a name that differs between directory and header,
truncated), encrypted, compressed with a method other than stored/deflate/bzip2/lzma, larger
than the limits once unpacked, or that names a file outside itself (`../x.md`, `/etc/x.md`,
control characters) is refused whole, with the reason: ValidationError on `file`.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
import zlib
from dataclasses import dataclass

from django.core.exceptions import ValidationError

MAX_IMPORT_FILES = 500  # entries of one upload, archives unpacked
MAX_IMPORT_BYTES = 20 * 2**20  # the upload unpacked
MAX_FILE_BYTES = 2**20  # one markdown file
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


@dataclass(frozen=True)
class SourceFile:
    """One file of an upload: its path in the upload and its bytes."""

    name: str
    content: bytes


def refused(message: str) -> ValidationError:
    return ValidationError({"file": [message]})


def upload_files(uploads: list[tuple[str, bytes]]) -> list[SourceFile]:
    """The files of an upload: loose files as they are, zip archives (by name or by content)
    unpacked. Raises ValidationError naming what is wrong with the upload as a whole."""
    files: list[SourceFile] = []
    for name, content in uploads:
        if name.lower().endswith(".zip") or content[:4] == b"PK\x03\x04":
            files += zip_files(content, label=name)
        else:
            files.append(SourceFile(name, content))
        if len(files) > MAX_IMPORT_FILES:
            raise refused(f"At most {MAX_IMPORT_FILES} files per upload.")
    if sum(len(file.content) for file in files) > MAX_IMPORT_BYTES:
        raise refused(f"The upload unpacks to more than {MAX_IMPORT_BYTES // 2**20} MiB.")
    return files


def zip_files(data: bytes, label: str = "the archive") -> list[SourceFile]:
    """The files of a zip archive, every entry checked before any is read."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
        raise refused(f"{label} is not a readable zip archive ({exc}).") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_IMPORT_FILES:
            raise refused(f"{label} holds {len(entries):,} entries: at most {MAX_IMPORT_FILES}.")
        members = [info for info in entries if _check_entry(info, label, data)]
        declared = sum(info.file_size for info in members)
        if declared > MAX_IMPORT_BYTES:
            raise refused(f"{label} unpacks to more than {MAX_IMPORT_BYTES // 2**20} MiB.")
        return [SourceFile(info.filename, _read(archive, info, label)) for info in members]


def _raw_name(data: bytes, info: zipfile.ZipInfo) -> bytes:
    # zipfile cuts a name at its first NUL; the local header has the name as stored.
    offset = info.header_offset
    if offset < 0 or offset + 30 > len(data) or data[offset : offset + 4] != b"PK\x03\x04":
        return b""
    length = int.from_bytes(data[offset + 26 : offset + 28], "little")
    return data[offset + 30 : offset + 30 + length]


def _check_entry(info: zipfile.ZipInfo, label: str, data: bytes) -> bool:
    """Refuse what no archive of ADRs holds; False for entries that are not files to read."""
    name = info.filename
    if b"\x00" in _raw_name(data, info) or any(ord(c) < 32 or c == "\x7f" for c in name):
        raise refused(f"{label}: an entry's name holds control characters.")
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
        raise refused(f"{label}: the entry {name!r} points outside the archive.")
    if info.is_dir() or "__MACOSX" in parts or posixpath.basename(name).startswith("."):
        return False
    if info.flag_bits & 0x1:
        raise refused(f"{label}: {name} is encrypted; export the folder without a password.")
    if info.compress_type not in _METHODS:
        raise refused(f"{label}: {name} uses an unknown compression method "
                      f"({info.compress_type}).")  # fmt: skip
    return True


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> bytes:
    # A larger file is read one byte past the limit, to be reported as too large.
    limit = MAX_FILE_BYTES + 1
    try:
        with archive.open(info) as member:
            return member.read(limit) if info.file_size > MAX_FILE_BYTES else member.read()
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError,
            RuntimeError, ValueError) as exc:  # fmt: skip
        raise refused(f"{label}: {info.filename} cannot be read ({exc}).") from None
