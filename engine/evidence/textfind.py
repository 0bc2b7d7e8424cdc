"""Finding things in OCR'd lines: normalised text, reading order, what follows a label, numbers
written in Chinese, timestamps. Generic: the labels and words come from rules/."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone

from engine.evidence.model import TextLine

__all__ = [
    "Found",
    "after_label",
    "between",
    "chinese_number",
    "find_words",
    "near_words",
    "normal",
    "parse_timestamp",
    "reading_order",
]

_SEPARATORS = ":：;；,，.。-—_=|/ \t（）()[]【】"
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# 2024-08-02 19:50[:12], 2024/08/02 19:50, 2024.08.02 19:50, 2024年8月2日 19:50[:12]; OCR drops
# the space, so a two-digit day runs into the hour ("2024-08-0219:50")
_STAMP = re.compile(
    r"(?P<y>(?:19|20)\d\d)\s*(?:(?P<sep>[-/.])\s*(?P<m>\d\d)\s*(?P=sep)\s*(?P<d>\d\d)"
    r"|年\s*(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*日)"
    r"\s*(?P<H>\d{1,2})\s*[:：]\s*(?P<M>\d\d)(?:\s*[:：]\s*(?P<S>\d\d))?"
)
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
           "七": 7, "八": 8, "九": 9}  # fmt: skip


class Found:
    """A value found in a line: the value, the line, and how sure the finding is besides OCR."""

    __slots__ = ("value", "line", "certainty")

    def __init__(self, value: object, line: TextLine, certainty: float = 1.0) -> None:
        self.value, self.line, self.certainty = value, line, certainty

    @property
    def confidence(self) -> float:
        return self.line.confidence * self.certainty


def normal(text: str) -> str:
    """Full width folded to half width (NFKC), white space dropped."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def is_cjk(char: str) -> bool:
    return bool(_CJK.match(char))


def reading_order(lines: Sequence[TextLine]) -> list[TextLine]:
    """Lines by page, then top to bottom (lines whose centres are within half a line height
    count as one row), then left to right."""

    def centre(ln: TextLine) -> float:
        return ln.region.y + ln.region.height / 2

    out: list[TextLine] = []
    for page in sorted({ln.region.page for ln in lines}):
        rows: list[list[TextLine]] = []
        for ln in sorted((ln for ln in lines if ln.region.page == page), key=centre):
            if rows and abs(centre(rows[-1][0]) - centre(ln)) < rows[-1][0].region.height / 2:
                rows[-1].append(ln)
            else:
                rows.append([ln])
        for row in rows:
            out.extend(sorted(row, key=lambda ln: ln.region.x))
    return out


def _right_of(line: TextLine, lines: Sequence[TextLine]) -> TextLine | None:
    """The nearest box on the same row to the right of ``line``."""
    mid = line.region.y + line.region.height / 2
    best: TextLine | None = None
    for other in lines:
        r = other.region
        if (
            other is line
            or r.page != line.region.page
            or r.x < line.region.x + line.region.width / 2
        ):
            continue
        if abs(r.y + r.height / 2 - mid) > line.region.height / 2:
            continue
        if best is None or r.x < best.region.x:
            best = other
    return best


def _below(line: TextLine, lines: Sequence[TextLine]) -> TextLine | None:
    """The nearest box under ``line`` that overlaps it horizontally, within two line heights."""
    reg = line.region
    best: TextLine | None = None
    for other in lines:
        r = other.region
        if other is line or r.page != reg.page or r.y <= reg.y + reg.height / 2:
            continue
        if r.y - (reg.y + reg.height) > 2 * reg.height:
            continue
        if r.x > reg.x + reg.width or r.x + r.width < reg.x:
            continue
        if best is None or r.y < best.region.y:
            best = other
    return best


def after_label(
    lines: Sequence[TextLine], labels: Sequence[str]
) -> Iterator[tuple[str, TextLine, float]]:
    """(text after the label, the line it is on, certainty) for every label found: the rest of
    the label's line, else the box to its right, else the line below (less certain). Longer
    labels are tried first, so that 收件人签名 is not read as 收件人."""
    ordered = sorted((normal(lb) for lb in labels), key=len, reverse=True)
    for line in lines:
        text = normal(line.text)
        for label in ordered:
            at = text.find(label)
            if at < 0:
                continue
            rest = text[at + len(label) :].lstrip(_SEPARATORS)
            if rest:
                yield rest, line, 1.0
            else:
                right = _right_of(line, lines)
                if right is not None:
                    yield normal(right.text).lstrip(_SEPARATORS), right, 0.95
                else:
                    below = _below(line, lines)
                    if below is not None:
                        yield normal(below.text).lstrip(_SEPARATORS), below, 0.85
            break  # one label per line: the longest that matched


def between(
    lines: Sequence[TextLine], pairs: Sequence[tuple[str, str]]
) -> Iterator[tuple[str, TextLine, float]]:
    """The text between ``before`` and ``after`` on one line, for each pair found."""
    for line in lines:
        text = normal(line.text)
        for before, after in pairs:
            b, a = normal(before), normal(after)
            start = text.find(b)
            if start < 0:
                continue
            end = text.find(a, start + len(b))
            if end > start + len(b):
                yield text[start + len(b) : end], line, 1.0


def find_words(text: str, words: dict[str, object]) -> list[tuple[int, int, object]]:
    """Non-overlapping occurrences (start, end, value) of ``words`` in ``text``; where two
    overlap the longer wins (无破损 over 破损). Latin words must stand alone: "SF" is not found
    inside "SF1234567890"."""
    hits: list[tuple[int, int, object]] = []
    folded = text.casefold()
    for word, value in words.items():
        w = normal(word).casefold()
        if not w:
            continue
        start = folded.find(w)
        while start >= 0:
            end = start + len(w)
            if _stands_alone(folded, start, end):
                hits.append((start, end, value))
            start = folded.find(w, start + 1)
    hits.sort(key=lambda h: (-(h[1] - h[0]), h[0]))
    taken: list[tuple[int, int, object]] = []
    for hit in hits:
        if all(hit[1] <= t[0] or hit[0] >= t[1] for t in taken):
            taken.append(hit)
    return sorted(taken, key=lambda h: h[0])


def near_words(text: str, words: dict[str, object], *, min_length: int = 4) -> list[object]:
    """Values of the words (of ``min_length`` or more characters) found in ``text`` with one
    character wrong, missing or extra: OCR reads "ZTO Express" as "ZTOEapress"."""
    folded = text.casefold()
    found = []
    for word, value in words.items():
        w = normal(word).casefold()
        if len(w) < min_length:
            continue
        for size in (len(w) - 1, len(w), len(w) + 1):
            if any(_within_one(folded[i : i + size], w) for i in range(0, len(folded) - size + 1)):
                found.append(value)
                break
    return found


def _within_one(a: str, b: str) -> bool:
    """Edit distance of at most one."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    for i in range(len(long)):
        if long[:i] + long[i + 1 :] == short:
            return True
    return False


def _stands_alone(text: str, start: int, end: int) -> bool:
    def word_char(i: int) -> bool:
        return 0 <= i < len(text) and text[i].isascii() and text[i].isalnum()

    if not (text[start].isascii() and text[start].isalnum()):
        return True
    return not word_char(start - 1) and not word_char(end)


def chinese_number(text: str) -> int | None:
    """一 = 1, 十二 = 12, 二十 = 20, 3 = 3; None for anything else."""
    if text.isdigit():
        return int(text)
    if not text or any(c not in _DIGITS and c != "十" for c in text):
        return None
    if "十" in text:
        tens, _, units = text.partition("十")
        if len(tens) > 1 or len(units) > 1:
            return None
        return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[units] if units else 0)
    if len(text) == 1:
        return _DIGITS[text]
    return None


def parse_timestamp(text: str, offset: str) -> tuple[str, int, int] | None:
    """The first timestamp in ``text`` as ISO-8601 with the policy's UTC offset ("+08:00"), and
    where it is in the text; None when there is none or it is not a real date."""
    match = _STAMP.search(normal(text))
    if match is None:
        return None
    g = match.groupdict()
    try:
        when = datetime(
            int(g["y"]),
            int(g["m"] or g["m2"]),
            int(g["d"] or g["d2"]),
            int(g["H"]),
            int(g["M"]),
            int(g["S"] or 0),
            tzinfo=_zone(offset),
        )
    except ValueError:
        return None
    return when.isoformat(), match.start(), match.end()


def _zone(offset: str) -> timezone:
    sign = -1 if offset.startswith("-") else 1
    hours, _, minutes = offset.lstrip("+-").partition(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))


def cjk_run(text: str) -> str:
    """The leading run of CJK characters (a Chinese name), or of Latin letters and spaces."""
    out = []
    for char in text:
        if is_cjk(char) or char == "·":
            out.append(char)
        else:
            break
    if out:
        return "".join(out)
    match = re.match(r"[A-Za-z][A-Za-z .'-]*[A-Za-z]", text)
    return match.group(0) if match else ""
