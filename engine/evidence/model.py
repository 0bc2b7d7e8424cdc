"""Frozen data types of evidence reading: where on a page, a line of text, a stamp, an attribute
read with how sure the reader is, and the reading of one file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ReadAttribute", "Reading", "Region", "Stamp", "TextLine"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Region:
    """A box on a page, in pixels of the page as read (PDF pages rendered at the reader's DPI)."""

    page: int  # 1-based
    x: int
    y: int
    width: int
    height: int

    def as_json(self) -> dict[str, int]:
        return {"page": self.page, "x": self.x, "y": self.y, "w": self.width, "h": self.height}


@dataclass(frozen=True, slots=True, kw_only=True)
class TextLine:
    """One line of text as OCR read it, with the recogniser's confidence (0..1)."""

    text: str
    confidence: float
    region: Region
    angle: float = 0.0  # slope of the line's top edge, degrees (a skewed scan or photo)


@dataclass(frozen=True, slots=True, kw_only=True)
class Stamp:
    """A red seal found on a page: its shape and the detector's confidence (0..1)."""

    shape: str  # round | oval | square
    confidence: float
    region: Region


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadAttribute:
    """One attribute of an evidence kind proposed from a file."""

    name: str
    value: Any  # in the case file's form: str, int, bool, or a list of records for messages
    confidence: float  # 0..1
    file: str
    extractor: str
    source: str  # the text it came from ("" when it came from no text)
    region: Region | None = None
    # what was seen instead of text: a key of reading.notes in reports/messages.yaml
    # (seal, no_seal, no_words, messages) and the values its wording uses
    note: str = ""
    note_args: tuple[tuple[str, str], ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "confidence": round(self.confidence, 3),
            "file": self.file,
            "extractor": self.extractor,
            "source": self.source,
            "region": None if self.region is None else self.region.as_json(),
            "note": self.note,
            "note_args": dict(self.note_args),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """What was read from one file for one evidence kind."""

    file: str
    kind: str
    file_type: str
    pages: int
    attributes: tuple[ReadAttribute, ...]
    lines: tuple[TextLine, ...]
    stamps: tuple[Stamp, ...]
    seconds: float

    def attribute(self, name: str) -> ReadAttribute | None:
        for attr in self.attributes:
            if attr.name == name:
                return attr
        return None

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": self.kind,
            "file_type": self.file_type,
            "pages": self.pages,
            "attributes": {a.name: a.as_json() for a in self.attributes},
            "text": [
                {
                    "text": ln.text,
                    "confidence": round(ln.confidence, 3),
                    "region": ln.region.as_json(),
                }
                for ln in self.lines
            ],
            "stamps": [
                {
                    "shape": s.shape,
                    "confidence": round(s.confidence, 3),
                    "region": s.region.as_json(),
                }
                for s in self.stamps
            ],
            "seconds": round(self.seconds, 3),
        }
