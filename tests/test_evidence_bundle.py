"""Bundles: a folder or a .zip with case.yaml and the files it names. A file's type is what its
bytes say; a missing file, a changed file, a path out of the bundle, a link, a ZIP bomb or an
oversize file is a located error, never a traceback."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest
from conftest import CASEFILES

from engine.errors import BundleError
from engine.evidence import bundle as bundles
from engine.evidence.bundle import is_bundle, load_bundle, open_bundle
from engine.evidence.sniff import agrees, sniff

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"\x00" * 64


def docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def case_text(files: str) -> str:
    source = (CASEFILES / "not-received-valid-receipt.yaml").read_text(encoding="utf-8")
    head, _, _ = source.partition("evidence:")
    return head + (
        "evidence:\n"
        "  - id: E1\n"
        "    party: seller\n"
        "    kind: signed_receipt\n"
        "    submitted_at: 2024-03-07T11:20:00+08:00\n"
        f"    files: {files}\n"
    )


def test_types_come_from_the_bytes_not_the_name() -> None:
    assert [sniff(b).ext for b in (JPEG, PNG, PDF, docx(), b"", b"plain text")] == [
        "jpg", "png", "pdf", "docx", "empty", "txt",
    ]  # fmt: skip
    assert agrees("slip.JPEG", sniff(JPEG))
    assert not agrees("slip.jpg", sniff(docx()))
    assert sniff(docx()).en == "a Word document (docx)"


def test_a_folder_bundle_gives_its_case_and_files(tmp_path: Path) -> None:
    digest = hashlib.sha256(JPEG).hexdigest()
    (tmp_path / "case.yaml").write_text(case_text(f"[{{name: slip.jpg, sha256: {digest}}}]"))
    (tmp_path / "slip.jpg").write_bytes(JPEG)
    assert is_bundle(tmp_path)
    loaded = load_bundle(tmp_path)
    assert loaded.case.case_id == "TB-2024-000101"
    found = loaded.bundle.file("slip.jpg")
    assert found is not None and (found.type.ext, found.sha256) == ("jpg", digest)


def test_a_zip_bundle_may_hold_one_folder(tmp_path: Path) -> None:
    path = tmp_path / "case.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("TB-101/case.yaml", case_text("[{name: scans/slip.jpg}]"))
        archive.writestr("TB-101/scans/slip.jpg", JPEG)
    loaded = load_bundle(path)
    assert [f.name for f in loaded.bundle.files] == ["scans/slip.jpg"]
    assert loaded.bundle.case_source == f"{path}/case.yaml"


def test_a_renamed_word_document_is_a_docx_in_the_bundle(tmp_path: Path) -> None:
    (tmp_path / "case.yaml").write_text(case_text("[{name: slip.jpg}]"))
    (tmp_path / "slip.jpg").write_bytes(docx())
    found = load_bundle(tmp_path).bundle.file("slip.jpg")
    assert found is not None and found.type.ext == "docx"


def test_a_named_file_missing_from_the_bundle(tmp_path: Path) -> None:
    (tmp_path / "case.yaml").write_text(case_text("[{name: slip.jpg}]"))
    with pytest.raises(BundleError) as caught:
        load_bundle(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path}/case.yaml:38:5: evidence[0].files[0]: 'slip.jpg' is not in the bundle "
        f"{tmp_path}\n    put the file beside case.yaml, or correct its name"
    )


def test_a_file_whose_sha256_is_not_the_case_files(tmp_path: Path) -> None:
    (tmp_path / "case.yaml").write_text(case_text(f"[{{name: slip.jpg, sha256: {'0' * 64}}}]"))
    (tmp_path / "slip.jpg").write_bytes(JPEG)
    with pytest.raises(BundleError) as caught:
        load_bundle(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path}/case.yaml:38:5: evidence[0].files[0]: 'slip.jpg' has sha256 "
        f"{hashlib.sha256(JPEG).hexdigest()}, not the {'0' * 64} the case file gives\n"
        "    the file was changed or replaced after the case was written"
    )


def test_a_path_out_of_the_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("case.yaml", case_text("[]"))
        archive.writestr("../../etc/cron.d/x", b"boom")
    with pytest.raises(BundleError) as caught:
        open_bundle(path)
    assert str(caught.value) == (
        f"{path}/../../etc/cron.d/x: unsafe path in the .zip: '../../etc/cron.d/x' leads out of "
        "the bundle (..)"
    )


def test_a_zip_bomb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("case.yaml", case_text("[{name: slip.jpg}]"))
        archive.writestr("slip.jpg", b"\x00" * (8 << 20))
    with pytest.raises(BundleError) as caught:
        open_bundle(path)
    message = str(caught.value)
    assert message.startswith(f"{path}/slip.jpg: slip.jpg expands ")
    assert message.endswith(" times (more than 100): refused as a possible ZIP bomb")


def test_an_oversize_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundles, "MAX_FILE_BYTES", 2000)
    (tmp_path / "case.yaml").write_text(case_text("[{name: slip.jpg}]"))
    (tmp_path / "slip.jpg").write_bytes(JPEG * 30)
    with pytest.raises(BundleError) as caught:
        open_bundle(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path}/slip.jpg: slip.jpg is 2,250 bytes, more than a bundle's file may be (2,000)\n"
        "    split the case's files, or scan the page at a lower resolution"
    )


def test_a_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "case.yaml").write_text(case_text("[{name: slip.jpg}]"))
    os.symlink(outside, folder / "slip.jpg")
    with pytest.raises(BundleError) as caught:
        open_bundle(folder)
    assert str(caught.value) == f"{folder}/slip.jpg: a link to a file outside the bundle"


def test_a_corrupt_zip_and_a_zip_without_a_case(tmp_path: Path) -> None:
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(BundleError) as caught:
        open_bundle(broken)
    assert str(caught.value) == f"{broken}: not a readable .zip: File is not a zip file"
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("slip.jpg", JPEG)
    with pytest.raises(BundleError) as caught:
        open_bundle(empty)
    assert str(caught.value) == (
        f"{empty}: no case.yaml in the .zip\n"
        "    put case.yaml at the top of the .zip (or of its one folder)"
    )
