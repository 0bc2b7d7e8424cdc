"""One evidence file + its kind (from rules/) -> the attributes read from it, each with a
confidence and the text or region it came from. What is read, and how, is the kind's
``extract:`` in rules/; this module runs the OCR and the stamp detector once per page and hands
their findings to the extractors."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

from engine.errors import EvidenceReadError, ReadingUnavailable
from engine.evidence.extractors import Context, extract_attribute
from engine.evidence.model import Reading, Stamp, TextLine
from engine.evidence.sniff import sniff
from engine.evidence.textfind import reading_order
from engine.model import SourceLoc
from engine.rules.program import EvidenceKind, Program

__all__ = ["EXTRA_MODULES", "INSTALL_HINT", "missing_modules", "read_file", "read_path"]

# the evidence extra: module -> the package that brings it
EXTRA_MODULES = {
    "rapidocr_onnxruntime": "rapidocr-onnxruntime",
    "cv2": "opencv-python",
    "pypdfium2": "pypdfium2",
}
INSTALL_HINT = (
    "install the evidence extra: pip install 'adjudicate[evidence]' "
    "(in a checkout: pip install -e '.[evidence]')"
)
_TEXT_EXTRACTORS = frozenset({"alias", "labelled", "copy_number", "keywords", "chat_messages"})


def missing_modules() -> list[str]:
    """The packages of the evidence extra that are not installed."""
    return [pkg for mod, pkg in EXTRA_MODULES.items() if importlib.util.find_spec(mod) is None]


def read_path(
    path: str | Path, kind: str, program: Program, *, party: str | None = None, threads: int = -1
) -> Reading:
    """Read the file at ``path`` as an item of ``kind``."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise EvidenceReadError(
            SourceLoc(path=str(path)), f"cannot read the file: {exc.strerror or exc}"
        ) from None
    return read_file(data, str(path), kind, program, party=party, threads=threads)


def read_file(
    data: bytes,
    name: str,
    kind: str,
    program: Program,
    *,
    party: str | None = None,
    threads: int = -1,
) -> Reading:
    """Read ``data`` (the file ``name``) as an item of ``kind``: OCR and stamps on every page,
    then the kind's extractors."""
    declared = _kind(program, kind, name)
    missing = missing_modules()
    if missing:
        raise ReadingUnavailable(
            SourceLoc(path=name),
            f"reading files needs {', '.join(missing)}, which is not installed",
            INSTALL_HINT,
        )
    from engine.evidence.ocr import ocr_page
    from engine.evidence.pages import decode_pages
    from engine.evidence.stamp import find_stamps

    started = time.perf_counter()
    found = sniff(data)
    pages = decode_pages(data, found, name)
    used = {e.extractor for e in declared.extract}
    lines: list[TextLine] = []
    stamps: list[Stamp] = []
    for number, page in enumerate(pages, 1):
        if used & _TEXT_EXTRACTORS:
            lines.extend(ocr_page(page, number, threads=threads))
        if "red_stamp" in used:
            stamps.extend(find_stamps(page, number))
    ordered = tuple(reading_order(lines))
    ctx = Context(
        file=name,
        lines=ordered,
        stamps=tuple(sorted(stamps, key=lambda s: -s.confidence)),
        page_sizes=tuple((int(p.shape[1]), int(p.shape[0])) for p in pages),
        tables={t.name: t.entries for t in program.aliases},
        offset=program.timezone,
        party=party,
    )
    attributes = []
    for spec in declared.extract:
        type_ = declared.attribute_type(spec.attribute)
        if type_ is None:  # the loader checked it
            continue
        attr = extract_attribute(spec, type_, ctx)
        if attr is not None:
            attributes.append(attr)
    return Reading(
        file=name,
        kind=kind,
        file_type=found.ext,
        pages=len(pages),
        attributes=tuple(attributes),
        lines=ordered,
        stamps=ctx.stamps,
        seconds=time.perf_counter() - started,
    )


def _kind(program: Program, kind: str, name: str) -> EvidenceKind:
    declared = program.kind(kind)
    if declared is None:
        known = ", ".join(k.name for k in program.evidence_kinds if k.extract)
        raise EvidenceReadError(
            SourceLoc(path=name),
            f"unknown evidence kind '{kind}'",
            f"kinds the rules can read: {known}",
        )
    if not declared.extract:
        known = ", ".join(k.name for k in program.evidence_kinds if k.extract)
        raise EvidenceReadError(
            SourceLoc(path=name),
            f"the rules declare nothing to read for evidence kind '{kind}' (no extract:)",
            f"kinds the rules can read: {known}",
        )
    return declared
