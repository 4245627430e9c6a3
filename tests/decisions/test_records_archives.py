"""Uploads that cannot be read as a whole are refused with the reason, before anything is read
from them: damaged, encrypted or oddly compressed archives, zip bombs, names that point outside
the archive. Pure file handling: no database."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest
from django.core.exceptions import ValidationError

from decisions.services.archives import MAX_IMPORT_FILES, SourceFile, upload_files, zip_files

GOOD = "# 1. Record architecture decisions\n\n## Status\n\nAccepted\n"


def archive(files: dict[str, str | bytes], method=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as out:
        for name, text in files.items():
            out.writestr(name, text)
    return buffer.getvalue()


def central(data: bytes) -> int:
    """Offset of the first central directory header."""
    return data.index(b"PK\x01\x02")


def patched(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, value)
    return bytes(out)


def refusal(data: bytes) -> str:
    with pytest.raises(ValidationError) as caught:
        zip_files(data, label="adr.zip")
    return caught.value.message_dict["file"][0]


def test_a_good_archive_gives_its_files_and_leaves_out_folders_and_hidden_files():
    data = archive({"doc/adr/0001-a.md": GOOD, "doc/adr/.DS_Store": b"x", "__MACOSX/._a": b"x"})

    assert zip_files(data) == [SourceFile("doc/adr/0001-a.md", GOOD.encode())]


def test_a_bad_crc_is_refused_naming_the_file():
    data = archive({"0001-a.md": GOOD})
    start = data.index(GOOD.encode())
    damaged = data[:start] + b"X" + data[start + 1 :]

    assert (
        refusal(damaged) == "adr.zip: 0001-a.md cannot be read (Bad CRC-32 for file '0001-a.md')."
    )


def test_a_name_that_differs_between_directory_and_header_is_refused():
    data = archive({"0001-a.md": GOOD})
    damaged = data.replace(b"0001-a.md", b"0001-b.md", 1)  # the local header comes first

    assert "cannot be read (File name in directory '0001-a.md' and header" in refusal(damaged)


def test_an_encrypted_entry_is_refused():
    data = archive({"0001-a.md": GOOD})

    assert refusal(patched(data, central(data) + 8, "<H", 0x1)) == (
        "adr.zip: 0001-a.md is encrypted; export the folder without a password."
    )


def test_an_unknown_compression_method_is_refused():
    data = archive({"0001-a.md": GOOD})

    assert refusal(patched(data, central(data) + 10, "<H", 99)) == (
        "adr.zip: 0001-a.md uses an unknown compression method (99)."
    )


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    data = archive({"0001-a.md": b"\0" * (21 * 2**20)}, method=zipfile.ZIP_DEFLATED)
    assert len(data) < 100_000

    assert refusal(data) == "adr.zip unpacks to more than 20 MiB."


@pytest.mark.parametrize("name", ["../0001-a.md", "doc/../../0001-a.md", "/etc/0001-a.md",
                                  "C:/adr/0001-a.md", "..\\0001-a.md"])  # fmt: skip
def test_a_name_pointing_outside_the_archive_is_refused(name):
    assert (
        refusal(archive({name: GOOD})) == f"adr.zip: the entry {name!r} points outside the archive."
    )


def test_a_name_with_a_control_character_is_refused():
    data = archive({"0001-aXb.md": GOOD}).replace(b"aXb", b"a\x07b")

    assert refusal(data) == "adr.zip: an entry's name holds control characters."


def test_a_nul_in_a_name_is_refused():
    data = archive({"0001-aXb.md": GOOD}).replace(b"aXb", b"a\x00b")

    assert refusal(data) == "adr.zip: an entry's name holds control characters."


def test_too_many_entries_are_refused():
    data = archive({f"{i:04d}-a.md": "# A\n" for i in range(MAX_IMPORT_FILES + 1)})

    assert refusal(data) == f"adr.zip holds {MAX_IMPORT_FILES + 1:,} entries: at most 500."


def test_something_that_is_not_a_zip_is_refused():
    assert refusal(b"PK\x03\x04 not really").startswith("adr.zip is not a readable zip archive")


def test_an_upload_takes_loose_files_and_unpacks_archives_by_name_or_content():
    files = upload_files(
        [("0002-b.md", b"# B\n"), ("adr.zip", archive({"0001-a.md": GOOD})),
         ("folder", archive({"0003-c.md": "# C\n"}))]
    )  # fmt: skip

    assert [file.name for file in files] == ["0002-b.md", "0001-a.md", "0003-c.md"]


def test_loose_files_over_the_size_limit_are_refused_together():
    with pytest.raises(ValidationError, match="unpacks to more than 20 MiB"):
        upload_files([(f"{i}.md", b"x" * (2**20)) for i in range(21)])
