"""The extractors named in rules/ (``extract:`` on an evidence kind): each turns the OCR'd lines
and the stamps found on a file's pages into one attribute value with a confidence and the text
it came from. Which extractor fills which attribute, with which labels, words and alias tables,
is declared in rules/; the catalogue of names is ``engine.rules.extract_specs``."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.evidence.model import Stamp, TextLine
from engine.evidence.textfind import (
    after_label,
    between,
    chinese_number,
    cjk_run,
    find_words,
    near_words,
    normal,
    parse_timestamp,
)
from engine.model import ReadAttribute, Region, Type
from engine.rules.program import Extract

__all__ = ["Context", "extract_attribute"]

_GARBLED_TIME = re.compile(r"[\d:：/\-. 年月日]{4,}")
_COPY = re.compile(r"第([一二三四五六七八九十两\d]{1,3})联")
_CODE = re.compile(r"[A-Z0-9]{8,30}")
_STAMP_SEEN = 0.55  # a seal candidate above this counts as a red stamp
_ABSENT = 0.88  # certainty of a value read from words that are not on the page
_NEAR = 0.85  # certainty of a name found with one character wrong
_UNSURE = 0.6  # certainty when the text gives two different values
_CENTRED = 0.08  # share of the page width by which a centred line's margins may differ
_NAME_MAX = 4  # characters of a Chinese name; longer runs are cut and less certain


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What an extractor may use besides its options: the file's lines and stamps."""

    file: str
    lines: tuple[TextLine, ...]  # in reading order
    stamps: tuple[Stamp, ...]
    page_sizes: tuple[tuple[int, int], ...]  # (width, height) of each page
    tables: Mapping[str, tuple[tuple[str, tuple[str, ...]], ...]]  # alias tables of rules/
    offset: str  # the policy's UTC offset, for timestamps without one
    party: str | None = None  # who submitted the file, when known


def extract_attribute(spec: Extract, type_: Type, ctx: Context) -> ReadAttribute | None:
    """The attribute ``spec`` declares, read from ``ctx``; None when nothing was found."""
    found = _EXTRACTORS[spec.extractor](dict(spec.options), type_, ctx)
    if found is None:
        return None
    value, confidence, source, region = found
    note, args = "", tuple[tuple[str, str], ...]()
    if isinstance(source, tuple):  # (note key, its values): what was seen, not read
        note, args = source
        source = ""
    return ReadAttribute(
        name=spec.attribute,
        value=value,
        confidence=max(0.0, min(1.0, confidence)),
        file=ctx.file,
        extractor=spec.extractor,
        source=source,
        region=region,
        note=note,
        note_args=tuple(args),
    )


# value, confidence, the text it came from (or a note key and its values), where
_Result = tuple[Any, float, str | tuple[str, tuple[tuple[str, str], ...]], Region | None]


def _best(candidates: list[tuple[Any, float, TextLine]]) -> _Result | None:
    """The most confident candidate; less sure when the candidates disagree."""
    if not candidates:
        return None
    value, confidence, line = max(candidates, key=lambda c: c[1])
    if len({repr(c[0]) for c in candidates}) > 1:
        votes = Counter(repr(c[0]) for c in candidates)
        if votes[repr(value)] <= len(candidates) / 2:
            confidence *= _UNSURE
    return value, confidence, line.text, line.region


def _alias(options: dict[str, Any], type_: Type, ctx: Context) -> _Result | None:
    table = ctx.tables.get(str(options["table"]), ())
    words: dict[str, object] = {}
    for canonical, aliases in table:
        words[canonical] = canonical
        for alias in aliases:
            words[alias] = canonical
    labels = options.get("labels")
    candidates: list[tuple[Any, float, TextLine]] = []
    if labels:
        for rest, line, certainty in after_label(ctx.lines, labels):
            for _, _, hit in find_words(rest, words)[:1]:
                candidates.append((hit, line.confidence * certainty, line))
    if not candidates:
        for line in ctx.lines:
            for _, _, hit in find_words(normal(line.text), words):
                candidates.append((hit, line.confidence, line))
    if not candidates:  # a name with one character misread
        for line in ctx.lines:
            for near in near_words(normal(line.text), words):
                candidates.append((near, line.confidence * _NEAR, line))
    return _best(candidates)


def _labelled(options: dict[str, Any], type_: Type, ctx: Context) -> _Result | None:
    kind = str(options.get("value", "time" if type_.name == "time" else "text"))
    stops = [normal(s) for s in options.get("stop", ())]
    found = list(after_label(ctx.lines, options.get("labels", ())))
    found += list(between(ctx.lines, [(str(a), str(b)) for a, b in options.get("around", ())]))
    candidates: list[tuple[Any, float, TextLine]] = []
    for rest, line, certainty in found:
        for stop in stops:
            cut = rest.find(stop)
            if cut >= 0:
                rest = rest[:cut]
        parsed = _value_of(rest, kind, ctx.offset)
        if parsed is not None:
            value, sure = parsed
            candidates.append((value, line.confidence * certainty * sure, line))
    return _best(candidates)


def _value_of(text: str, kind: str, offset: str) -> tuple[Any, float] | None:
    if kind == "name":
        name = cjk_run(text)
        if len(name) < 2:
            return None
        if len(name) > _NAME_MAX and not name.isascii():
            return name[:_NAME_MAX], _UNSURE
        return name, 1.0
    if kind == "code":
        match = _CODE.search(text.upper())
        return (match.group(0), 1.0) if match else None
    if kind == "time":
        stamp = parse_timestamp(text, offset)
        return (stamp[0], 1.0) if stamp else None
    return (text, 1.0) if text else None


def _copy_number(options: dict[str, Any], type_: Type, ctx: Context) -> _Result | None:
    candidates: list[tuple[Any, float, TextLine]] = []
    for line in ctx.lines:
        for match in _COPY.finditer(normal(line.text)):
            number = chinese_number(match.group(1))
            if number is not None and number > 0:
                candidates.append((number, line.confidence, line))
    return _best(candidates)


def _red_stamp(options: dict[str, Any], type_: Type, ctx: Context) -> _Result | None:
    if not ctx.page_sizes:
        return None
    best = max(ctx.stamps, key=lambda s: s.confidence, default=None)
    if best is not None and best.confidence >= _STAMP_SEEN:
        size = f"{best.region.width}x{best.region.height}"
        note = ("seal", (("shape", best.shape), ("size", size)))
        return True, best.confidence, note, best.region
    # no seal: as sure as the strongest candidate was weak
    doubt = best.confidence if best is not None else 0.0
    return False, 1.0 - doubt, ("no_seal", ()), None


def _keywords(options: dict[str, Any], type_: Type, ctx: Context) -> _Result | None:
    words: dict[str, object] = {}
    values = options["values"]
    for value, listed in values:
        for word in listed:
            words[str(word)] = value
    candidates: list[tuple[Any, float, TextLine]] = []
    labels = options.get("labels")
    if labels:
        for rest, line, certainty in after_label(ctx.lines, labels):
            for _, _, value in find_words(rest, words)[:1]:
                candidates.append((value, line.confidence * certainty, line))
    if not candidates:
        unlabelled = 0.8 if labels else 1.0  # found outside the labelled place: less sure
        for line in ctx.lines:
            for _, _, value in find_words(normal(line.text), words):
                candidates.append((value, line.confidence * unlabelled, line))
    found = _best(candidates)
    if found is not None or "default" not in options:
        return found
    if not ctx.lines:
        return None
    # nothing said: as sure as the page was legible
    legible = sum(ln.confidence for ln in ctx.lines) / len(ctx.lines)
    return options["default"], legible * _ABSENT, ("no_words", ()), None


def _chat_messages(options: dict[str, Any], type_: Type, ctx: Context) -> _Result | None:
    messages: list[dict[str, Any]] = []
    confidence = 1.0
    current: str | None = None
    last_time = ""
    skew = _skew(ctx.lines)
    for line in ctx.lines:
        width, height = ctx.page_sizes[line.region.page - 1] if ctx.page_sizes else (0, 0)
        stamp = parse_timestamp(line.text, ctx.offset)
        # where the line's centre was before the page was turned by ``skew``
        r = line.region
        dx, dy = r.x + r.width / 2 - width / 2, r.y + r.height / 2 - height / 2
        centre = width / 2 + dx * math.cos(skew) + dy * math.sin(skew)
        left = centre - r.width / 2
        right = width - (centre + r.width / 2)
        # a centred line is the screen's own (a time, a title), not a message bubble
        centred = width > 0 and abs(left - right) < width * _CENTRED
        if stamp is None and _GARBLED_TIME.fullmatch(normal(line.text)):
            # digits and separators only: a time shown above a message, misread; the messages
            # cannot be trusted to carry their times
            confidence = min(confidence, _UNSURE * line.confidence)
            continue
        if centred:
            if stamp is not None:
                current, last_time = stamp[0], line.text
                confidence = min(confidence, line.confidence)
            continue
        side = "right" if right < left else "left"
        record: dict[str, Any] = {}
        if current is not None:
            record["at"] = current
        record["sender"] = _sender(side, ctx.party)
        record["text"] = line.text
        messages.append(record)
        confidence = min(confidence, line.confidence)
    if not messages:
        return None
    note = ("messages", (("count", str(len(messages))), ("last_time", last_time)))
    return messages, confidence, note, None


def _skew(lines: Sequence[TextLine]) -> float:
    """The page's rotation in radians: the median slope of its long lines."""
    angles = sorted(ln.angle for ln in lines if ln.region.width > 3 * ln.region.height)
    return math.radians(angles[len(angles) // 2]) if angles else 0.0


def _sender(side: str, party: str | None) -> str:
    """The right side of a screenshot is the party who took it."""
    others = {"buyer": "seller", "seller": "buyer"}
    if party in others:
        return party if side == "right" else others[party]
    return side


_EXTRACTORS: dict[str, Callable[[dict[str, Any], Type, Context], _Result | None]] = {
    "alias": _alias,
    "labelled": _labelled,
    "copy_number": _copy_number,
    "red_stamp": _red_stamp,
    "keywords": _keywords,
    "chat_messages": _chat_messages,
}


def names() -> Sequence[str]:
    return tuple(_EXTRACTORS)
