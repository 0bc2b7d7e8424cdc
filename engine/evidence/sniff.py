"""A file's real type from its first bytes, whatever its name says.

Types are named by their usual extension (``jpg``, ``png``, ``pdf``, ``docx`` …), so that they can
be compared with the file name and with the accepted types the rules declare. Only the standard
library is used; a ZIP container is opened (central directory only) to tell Office documents from
plain archives.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

__all__ = ["FileType", "agrees", "file_type", "sniff", "suffix_of"]

_HEAD = 4096  # bytes looked at, besides the ZIP directory


@dataclass(frozen=True, slots=True, kw_only=True)
class FileType:
    ext: str  # the usual extension: jpg, png, pdf, gif, webp, bmp, tiff, heic, docx, ...
    zh: str
    en: str
    extensions: tuple[str, ...]  # every extension a file of this type may carry


def _type(ext: str, zh: str, en: str, *others: str) -> FileType:
    return FileType(ext=ext, zh=zh, en=en, extensions=(ext, *others))


JPEG = _type("jpg", "JPEG 图片", "a JPEG image", "jpeg", "jpe", "jfif")
PNG = _type("png", "PNG 图片", "a PNG image")
PDF = _type("pdf", "PDF 文档", "a PDF document")
GIF = _type("gif", "GIF 图片", "a GIF image")
WEBP = _type("webp", "WebP 图片", "a WebP image")
BMP = _type("bmp", "BMP 图片", "a BMP image", "dib")
TIFF = _type("tiff", "TIFF 图片", "a TIFF image", "tif")
HEIC = _type("heic", "HEIC 图片", "a HEIC image", "heif")
DOCX = _type("docx", "Word 文档", "a Word document (docx)")
XLSX = _type("xlsx", "Excel 表格", "an Excel workbook (xlsx)")
PPTX = _type("pptx", "PowerPoint 演示文稿", "a PowerPoint deck (pptx)")
ODF = _type("odt", "OpenDocument 文档", "an OpenDocument file", "ods", "odp")
ZIP = _type("zip", "ZIP 压缩包", "a ZIP archive")
OLE = _type("doc", "旧版 Office 文档", "an old Office document (doc/xls/ppt)", "xls", "ppt")
RAR = _type("rar", "RAR 压缩包", "a RAR archive")
SEVEN_ZIP = _type("7z", "7z 压缩包", "a 7z archive")
GZIP = _type("gz", "gzip 压缩文件", "a gzip file", "tgz")
MP4 = _type("mp4", "MP4 视频", "an MP4 video", "m4v", "mov")
TEXT = _type("txt", "纯文本", "plain text", "text", "csv", "md", "log")
EMPTY = _type("empty", "空文件", "an empty file")
UNKNOWN = _type("unknown", "无法识别的文件", "a file of unknown type")


def suffix_of(name: str) -> str:
    """The extension of a file name, lower case, without the dot ("" when it has none)."""
    last = name.replace("\\", "/").rsplit("/", 1)[-1]
    dot = last.rfind(".")
    return last[dot + 1 :].lower() if 0 < dot < len(last) - 1 else ""


_ALL = (JPEG, PNG, PDF, GIF, WEBP, BMP, TIFF, HEIC, DOCX, XLSX, PPTX, ODF, ZIP, OLE, RAR,
        SEVEN_ZIP, GZIP, MP4, TEXT, EMPTY, UNKNOWN)  # fmt: skip
_BY_EXT = {t.ext: t for t in _ALL}


def file_type(ext: str) -> FileType:
    """The type a sniffed file was recorded as (its ``ext``); UNKNOWN for a name not known."""
    return _BY_EXT.get(ext, UNKNOWN)


def agrees(name: str, found: FileType) -> bool:
    """Whether a file's name carries an extension of the type its bytes show."""
    return suffix_of(name) in found.extensions


def sniff(data: bytes) -> FileType:
    """The type of a file from its bytes."""
    if not data:
        return EMPTY
    head = data[:_HEAD]
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if b"%PDF-" in head[:1024]:
        return PDF
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"BM") and len(head) > 14:
        return BMP
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis", b"hevc"):
            return HEIC
        return MP4
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return OLE
    if head.startswith(b"Rar!\x1a\x07"):
        return RAR
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return SEVEN_ZIP
    if head.startswith(b"\x1f\x8b"):
        return GZIP
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_type(data)
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # not just a character cut at the end of the head
                return UNKNOWN
        return TEXT
    return UNKNOWN


def _zip_type(data: bytes) -> FileType:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return ZIP
    if "mimetype" in names and any(n.startswith("META-INF/") for n in names):
        return ODF
    for prefix, found in (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX)):
        if any(n.startswith(prefix) for n in names):
            return found
    return ZIP
