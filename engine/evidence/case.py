"""A bundle -> the Case to score: its files' types as their bytes show them, and the attributes
its case file leaves out read from its files (when the ``evidence`` extra is installed).

Typed attributes always win. For each attribute a kind declares under ``extract:`` and the item
does not type, the most confident reading among the item's files is kept on the item
(``Evidence.read``); whether it counts (``read_confidence_min``) is decided when facts are built.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from engine.cases.load import load_cases
from engine.errors import BundleError, CaseFileError, EvidenceReadError, Problem
from engine.evidence.bundle import Bundle, is_bundle, load_bundle
from engine.evidence.sniff import agrees
from engine.model import Case, Evidence, EvidenceFile, ReadAttribute
from engine.rules.program import Program

__all__ = ["BundleCase", "load_bundle_case", "load_cases_with_bundles", "read_missing"]

_READABLE = ("jpg", "png", "bmp", "webp", "tiff", "pdf")


@dataclass(frozen=True, slots=True, kw_only=True)
class BundleCase:
    case: Case
    bundle: Bundle
    reading: bool  # whether files were read (False: the evidence extra is not installed)
    unreadable: tuple[EvidenceReadError, ...] = ()  # files that could not be read, and why


def load_bundle_case(
    path: str | Path | Bundle, program: Program, *, read: bool = True, threads: int = -1
) -> BundleCase:
    """The case of the bundle at ``path`` (or a Bundle already opened), with its files' types
    and, when ``read`` and the evidence extra is installed, the attributes read from them."""
    from engine.evidence.read import missing_modules

    loaded = load_bundle(path, fields=program.declared_fields())
    reading = read and not missing_modules()
    items = []
    unreadable: list[EvidenceReadError] = []
    for item in loaded.case.evidence:
        item = replace(item, files=tuple(_typed_file(f, loaded.bundle) for f in item.files))
        if reading:
            item = read_missing(item, loaded.bundle, program, unreadable, threads=threads)
        items.append(item)
    case = replace(loaded.case, evidence=tuple(items))
    return BundleCase(
        case=case, bundle=loaded.bundle, reading=reading, unreadable=tuple(unreadable)
    )


def _typed_file(named: EvidenceFile, bundle: Bundle) -> EvidenceFile:
    found = bundle.file(named.name)
    if found is None or agrees(named.name, found.type):
        return named
    return replace(named, type=found.type.ext)


def read_missing(
    item: Evidence,
    bundle: Bundle,
    program: Program,
    unreadable: list[EvidenceReadError],
    *,
    threads: int = -1,
) -> Evidence:
    """``item`` with the attributes it does not type read from its files (the most confident
    reading of each); a file that cannot be read is added to ``unreadable``."""
    from engine.evidence.read import read_file

    kind = program.kind(item.kind)
    if kind is None or not kind.extract:
        return item
    typed = {name for name, _ in item.attributes}
    wanted = {e.attribute for e in kind.extract} - typed
    if not wanted:
        return item
    best: dict[str, ReadAttribute] = {}
    for named in item.files:
        found = bundle.file(named.name)
        if found is None or found.type.ext not in _READABLE:
            continue
        try:
            reading = read_file(
                found.data, named.name, item.kind, program, party=item.party, threads=threads
            )
        except EvidenceReadError as exc:
            unreadable.append(exc)
            continue
        for attr in reading.attributes:
            if attr.name in wanted and (
                attr.name not in best or attr.confidence > best[attr.name].confidence
            ):
                best[attr.name] = attr
    ordered = tuple(best[e.attribute] for e in kind.extract if e.attribute in best)
    return replace(item, read=ordered)


def load_cases_with_bundles(
    paths: Iterable[str | Path], program: Program, *, read: bool = True
) -> Iterator[Case | CaseFileError]:
    """Like ``engine.cases.load.load_cases``, and bundles too: a path that is a bundle (a
    folder with case.yaml, a .zip), or a folder's sub-folders and .zip files that are. A bundle
    whose files cannot be used or read yields its located error; loading goes on."""
    for path in paths:
        if is_bundle(path):
            yield _bundle_or_error(path, program, read)
            continue
        yield from load_cases(path, fields=program.declared_fields())
        if Path(path).is_dir():
            for child in sorted(Path(path).iterdir(), key=lambda c: c.name):
                if is_bundle(child):
                    yield _bundle_or_error(child, program, read)


def _bundle_or_error(path: str | Path, program: Program, read: bool) -> Case | CaseFileError:
    try:
        loaded = load_bundle_case(path, program, read=read)
    except CaseFileError as exc:
        return exc
    if loaded.unreadable:
        return BundleError(
            Problem(exc.loc, str(exc).split(": ", 1)[-1]) for exc in loaded.unreadable
        )
    return loaded.case
