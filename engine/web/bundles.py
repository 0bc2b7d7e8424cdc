"""Bundles put on the desk: an uploaded ``.zip``, or the files of a folder upload that sit under
a ``case.yaml``. Each is opened within engine.evidence.bundle's limits (unsafe paths, ZIP bombs,
oversize files are located BundleErrors), its files typed by their bytes and read
(engine.evidence.case), and made ready to store: the files its items name, with the pages a
person is shown of each (engine.evidence.pages), and what was read from them.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from engine.errors import BundleError, EvidenceReadError, Problem
from engine.evidence.bundle import CASE_NAMES, Bundle
from engine.evidence.case import load_bundle_case
from engine.evidence.sniff import file_type
from engine.model import Case, ReadAttribute
from engine.rules.program import Program
from engine.web.evidence_store import NewFile, StoredPage

__all__ = ["PreparedBundle", "folder_bundles", "prepare_bundle"]

_SHOWN = ("jpg", "png", "bmp", "webp", "tiff", "pdf")  # pages a person is shown
# PDFium is not thread-safe, and one reading already keeps the cores busy: the desk's threads
# read one bundle at a time (per process)
_READING = threading.Lock()


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedBundle:
    case: Case  # with its files' types and what was read (Evidence.read)
    files: tuple[NewFile, ...]
    reads: tuple[tuple[str, ReadAttribute], ...]  # (item id, attribute read)
    reading: bool  # False: the evidence extra is not installed, nothing was read or rendered


def prepare_bundle(bundle: Bundle, program: Program) -> PreparedBundle:
    """The case of a bundle with what was read from its files, and the files its evidence
    names; a BundleError (located) when a file is missing, differs from its sha256, or names a
    file that cannot be read."""
    with _READING:
        loaded = load_bundle_case(bundle, program)
        if loaded.unreadable:
            raise BundleError(
                Problem(exc.loc, str(exc).split(": ", 1)[-1]) for exc in loaded.unreadable
            )
        files = _files(loaded.case, bundle, loaded.reading)
    reads = tuple((item.id, attr) for item in loaded.case.evidence for attr in item.read)
    return PreparedBundle(case=loaded.case, files=files, reads=reads, reading=loaded.reading)


def _files(case: Case, bundle: Bundle, render: bool) -> tuple[NewFile, ...]:
    out: list[NewFile] = []
    seen: set[tuple[str, str]] = set()
    for item in case.evidence:
        for named in item.files:
            found = bundle.file(named.name)
            if found is None or (item.id, named.name) in seen:
                continue  # load_bundle checked that each is there
            seen.add((item.id, named.name))
            pages = _pages(found.data, found.type.ext, named.name) if render else ()
            out.append(NewFile(item=item.id, name=named.name, data=found.data,
                               sha256=found.sha256, type=found.type.ext, pages=pages))  # fmt: skip
    return tuple(out)


def _pages(data: bytes, ext: str, name: str) -> tuple[tuple[StoredPage, bytes | None], ...]:
    """The pages shown of a file; none when it is not an image or a PDF, or cannot be drawn
    (it is offered for download instead)."""
    if ext not in _SHOWN:
        return ()
    from engine.evidence.pages import page_images

    try:
        images = page_images(data, file_type(ext), name)
    except EvidenceReadError:
        return ()
    out = []
    for image in images:
        sha = None if image.png is None else hashlib.sha256(image.png).hexdigest()
        out.append((StoredPage(width=image.width, height=image.height, sha256=sha), image.png))
    return tuple(out)


def folder_bundles(
    names: Iterable[str],
) -> tuple[dict[str, list[tuple[str, str]]], list[str]]:
    """The uploaded files of a folder (names with / separators) grouped into bundles: each
    folder with a case file (case.yaml, case.yml, case.json) directly in it, the outermost
    such folder holding everything below it. Returns {bundle folder: [(uploaded name, path
    inside the bundle)]} and the names that belong to no bundle, in upload order."""
    listed = list(names)
    roots = sorted(
        {str(PurePosixPath(n).parent) for n in listed if PurePosixPath(n).name in CASE_NAMES},
        key=lambda r: (r.count("/"), r),
    )
    outer: list[str] = []
    for root in roots:
        if root != "." and not any(_under(root, o) for o in outer):
            outer.append(root)
    groups: dict[str, list[tuple[str, str]]] = {}
    rest: list[str] = []
    for name in listed:
        found = next((o for o in outer if _under(name, o)), None)
        if found is None:
            rest.append(name)
        else:
            groups.setdefault(found, []).append((name, name[len(found) + 1 :]))
    return groups, rest


def _under(name: str, folder: str) -> bool:
    return name.startswith(folder + "/")
