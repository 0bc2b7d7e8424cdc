"""Frozen data types of evidence reading: a line of text, a stamp, and the reading of one file.
Where on a page (``Region``) and an attribute read (``ReadAttribute``) are the model's, since a
case carries them (``engine.model``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.model import ReadAttribute, Region

__all__ = ["ReadAttribute", "Reading", "Region", "Stamp", "TextLine"]


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
