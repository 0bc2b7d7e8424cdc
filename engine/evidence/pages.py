"""A file's bytes -> its pages as images (BGR arrays): JPEG, PNG, BMP, WebP and TIFF decoded by
OpenCV (EXIF orientation applied), PDF pages rendered by PDFium. Needs the ``evidence`` extra.

``page_images`` gives the pages as a person is shown them, in the pixels regions read from them
are measured in: an image a browser shows as it is keeps its bytes; a PDF's or a TIFF's pages
are rendered to PNG."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.errors import EvidenceReadError
from engine.evidence.sniff import FileType
from engine.model import SourceLoc

__all__ = [
    "BROWSER_IMAGES",
    "MAX_PAGES",
    "MAX_PIXELS",
    "PDF_SCALE",
    "PageImage",
    "decode_pages",
    "page_images",
]

MAX_PAGES = 20  # pages read from one PDF
MAX_PIXELS = 50_000_000  # of one page: a decompression bomb beyond
PDF_SCALE = 2.0  # PDF points to pixels (144 dpi): small print stays legible to OCR
_IMAGES = ("jpg", "png", "bmp", "webp", "tiff")
BROWSER_IMAGES = ("jpg", "png", "bmp", "webp", "gif")  # shown by a browser as they are


@dataclass(frozen=True, slots=True, kw_only=True)
class PageImage:
    """One page as shown: its size in pixels, and a PNG of it (None: the file itself is the
    page, an image a browser shows)."""

    width: int
    height: int
    png: bytes | None = None


def decode_pages(data: bytes, found: FileType, name: str) -> list[Any]:
    """The pages of a file, as BGR uint8 arrays; an ``EvidenceReadError`` when it is not an image
    or a PDF, is corrupt, or is too large."""
    where = SourceLoc(path=name)
    if found.ext in _IMAGES:
        return [_image(data, where)]
    if found.ext == "pdf":
        return _pdf(data, where)
    raise EvidenceReadError(
        where,
        f"{found.en} by its content, not an image or a PDF: nothing to read",
        "evidence files are read when they are JPG, PNG or PDF",
    )


def _image(data: bytes, where: SourceLoc) -> Any:
    import cv2
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        import io

        with Image.open(io.BytesIO(data)) as probe:  # reads the header only
            width, height = probe.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise EvidenceReadError(where, f"not a readable image: {exc}") from None
    if width * height > MAX_PIXELS:
        raise EvidenceReadError(
            where,
            f"the image is {width}x{height} pixels, more than {MAX_PIXELS:,} in all",
            "scan or photograph the page at a lower resolution",
        )
    page = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if page is None:
        raise EvidenceReadError(where, "the image is corrupt: it cannot be decoded")
    return page


def _pdf(data: bytes, where: SourceLoc) -> list[Any]:
    import numpy as np
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise EvidenceReadError(where, f"not a readable PDF: {exc}") from None
    try:
        count = len(document)
        if count > MAX_PAGES:
            raise EvidenceReadError(
                where,
                f"the PDF has {count} pages; at most {MAX_PAGES} are read",
                "split it, or submit the pages that matter",
            )
        pages = []
        for index in range(count):
            page = document[index]
            width, height = page.get_size()
            if width * height * PDF_SCALE**2 > MAX_PIXELS:
                raise EvidenceReadError(where, f"page {index + 1} is too large to render")
            bitmap = page.render(scale=PDF_SCALE)
            rgb = np.asarray(bitmap.to_pil().convert("RGB"))
            pages.append(np.ascontiguousarray(rgb[:, :, ::-1]))
        return pages
    except pdfium.PdfiumError as exc:
        raise EvidenceReadError(where, f"the PDF cannot be rendered: {exc}") from None
    finally:
        document.close()


def page_images(data: bytes, found: FileType, name: str) -> list[PageImage]:
    """The pages of an image or a PDF as a person is shown them (``PageImage``); an
    ``EvidenceReadError`` like ``decode_pages`` when there are none to show."""
    import cv2

    pages = decode_pages(data, found, name)
    out = []
    for page in pages:
        height, width = int(page.shape[0]), int(page.shape[1])
        if found.ext in BROWSER_IMAGES:
            out.append(PageImage(width=width, height=height))
            continue
        ok, encoded = cv2.imencode(".png", page)
        if not ok:  # pragma: no cover - OpenCV encodes any 8-bit BGR array
            raise EvidenceReadError(SourceLoc(path=name), "the page cannot be encoded as PNG")
        out.append(PageImage(width=width, height=height, png=encoded.tobytes()))
    return out
