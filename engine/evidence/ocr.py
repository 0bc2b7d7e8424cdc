"""Printed text on a page -> lines with their confidence and box, by RapidOCR (PP-OCRv4 models
shipped inside the rapidocr-onnxruntime package: nothing is downloaded). Needs the ``evidence``
extra; one engine per process, made on first use."""

from __future__ import annotations

import math
from typing import Any

from engine.evidence.model import TextLine
from engine.model import Region

__all__ = ["ocr_page"]

_ENGINES: dict[int, Any] = {}


def _engine(threads: int) -> Any:
    engine = _ENGINES.get(threads)
    if engine is None:
        from rapidocr_onnxruntime import RapidOCR

        engine = _ENGINES[threads] = RapidOCR(
            intra_op_num_threads=threads, inter_op_num_threads=1 if threads > 0 else -1
        )
    return engine


def ocr_page(page: Any, number: int, *, threads: int = -1) -> list[TextLine]:
    """The text lines of one page (a BGR array); ``threads`` -1 lets ONNX Runtime choose."""
    result, _ = _engine(threads)(page)
    lines = []
    for box, text, score in result or ():
        xs = [int(round(p[0])) for p in box]
        ys = [int(round(p[1])) for p in box]
        region = Region(
            page=number, x=min(xs), y=min(ys), width=max(xs) - min(xs), height=max(ys) - min(ys)
        )
        (x0, y0), (x1, y1) = box[0], box[1]  # top left, top right
        angle = math.degrees(math.atan2(y1 - y0, x1 - x0)) if x1 != x0 else 0.0
        lines.append(TextLine(text=str(text), confidence=float(score), region=region, angle=angle))
    return lines
