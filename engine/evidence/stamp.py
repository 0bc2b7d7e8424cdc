"""Red seals on a page, by colour and shape (OpenCV): red pixels are joined into blobs; a blob is a
seal when its outline is round, oval or square, its rim is red nearly all the way round, and its
inside is partly red (text, a star), not filled. Needs the ``evidence`` extra."""

from __future__ import annotations

import math
from typing import Any

from engine.evidence.model import Stamp
from engine.model import Region

__all__ = ["find_stamps"]

_WORK_SIDE = 1200  # pages are looked at no larger than this (pixels, longer side)
_MIN_SIDE = 0.07  # a seal spans at least this share of the page's shorter side
_MAX_SIDE = 0.75
_SECTORS = 40  # around the rim


def _red_mask(page: Any) -> Any:
    import cv2
    import numpy as np

    hsv = cv2.cvtColor(page, cv2.COLOR_BGR2HSV)
    hue, sat, val = hsv[:, :, 0], hsv[:, :, 1], hsv[:, :, 2]
    red = ((hue <= 10) | (hue >= 160)) & (sat >= 60) & (val >= 90)
    return red.astype(np.uint8) * 255


def find_stamps(page: Any, number: int) -> list[Stamp]:
    """Seal candidates on one page (a BGR array), most confident first; confidence 0..1."""
    import cv2
    import numpy as np

    height, width = page.shape[:2]
    scale = min(1.0, _WORK_SIDE / max(height, width))
    small = (
        cv2.resize(page, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if scale < 1
        else page
    )
    mask = _red_mask(small)
    short = min(small.shape[:2])
    size = max(3, short // 80)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel, iterations=2)
    contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    stamps = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if min(w, h) < _MIN_SIDE * short or max(w, h) > _MAX_SIDE * max(small.shape[:2]):
            continue
        if max(w, h) / max(min(w, h), 1) > 2.2:
            continue
        scored = _score(mask, contour, cv2, np)
        if scored is None:
            continue
        shape, confidence = scored
        region = Region(
            page=number,
            x=int(x / scale),
            y=int(y / scale),
            width=int(w / scale),
            height=int(h / scale),
        )
        stamps.append(Stamp(shape=shape, confidence=confidence, region=region))
    return sorted(stamps, key=lambda s: -s.confidence)


def _score(mask: Any, contour: Any, cv2: Any, np: Any) -> tuple[str, float] | None:
    hull = cv2.convexHull(contour)
    area = cv2.contourArea(hull)
    perimeter = cv2.arcLength(hull, True)
    if area <= 0 or perimeter <= 0:
        return None
    circularity = 4 * math.pi * area / perimeter**2
    (_, _), (rw, rh), _ = cv2.minAreaRect(hull)
    rect_fill = area / max(rw * rh, 1.0)
    aspect = max(rw, rh) / max(min(rw, rh), 1.0)
    if circularity >= 0.82 and rect_fill < 0.86:  # an ellipse fills pi/4 of its box
        shape = "round" if aspect < 1.15 else "oval"
        fit = min(1.0, (circularity - 0.78) / 0.12)
    elif rect_fill >= 0.88 and aspect < 1.6:
        shape = "square"
        fit = min(1.0, (rect_fill - 0.84) / 0.1)
    else:
        return None
    # the hull as a filled shape, its rim band and its inside
    filled = np.zeros(mask.shape, dtype=np.uint8)
    cv2.drawContours(filled, [hull], -1, 255, thickness=-1)
    band = max(3, int(round(math.sqrt(area) * 0.08)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
    inner = cv2.erode(filled, kernel)
    rim = cv2.subtract(filled, inner)
    ys, xs = np.nonzero(cv2.bitwise_and(mask, rim))
    if len(xs) == 0:
        return None
    moments = cv2.moments(hull)
    cx, cy = moments["m10"] / moments["m00"], moments["m01"] / moments["m00"]
    angles = np.arctan2(ys - cy, xs - cx)
    sectors = np.unique(((angles + math.pi) / (2 * math.pi) * _SECTORS).astype(int) % _SECTORS)
    coverage = len(sectors) / _SECTORS
    inside = cv2.countNonZero(inner)
    density = cv2.countNonZero(cv2.bitwise_and(mask, inner)) / max(inside, 1)
    if coverage < 0.6 or density > 0.75:
        return None
    ring = min(1.0, (coverage - 0.6) / 0.32)
    content = 1.0 if 0.02 <= density <= 0.6 else 0.4
    return shape, round(ring * fit * content, 3)
