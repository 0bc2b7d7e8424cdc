"""Evidence bundles: a folder or a .zip holding one casefile/1 ``case.yaml`` and the files it names.

``open_bundle`` reads the case file's bytes and every file in the bundle within fixed limits (no
path outside the bundle, no links, no ZIP bomb, no file over ``MAX_FILE_BYTES``), sniffing each
file's real type from its bytes. ``load_bundle`` parses the case and checks it against the files:
each named file must be there, and its sha256 must match when the case gives one. Every problem is
a ``BundleError`` (a ``CaseFileError``) located in the bundle, never a traceback.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Literal

from engine.cases.load import parse_case
from engine.errors import BundleError, Problem
from engine.evidence.sniff import FileType, sniff
from engine.model import Case, DeclaredFields, SourceLoc

__all__ = [
    "CASE_NAMES",
    "MAX_BUNDLE_BYTES",
    "MAX_FILE_BYTES",
    "MAX_MEMBERS",
    "MAX_RATIO",
    "Bundle",
    "BundleFile",
    "BundledCase",
    "is_bundle",
    "load_bundle",
    "open_bundle",
    "open_files",
    "open_zip_data",
]

CASE_NAMES = ("case.yaml", "case.yml", "case.json")
MAX_FILE_BYTES = 20 << 20  # one evidence file (a photographed page is 1-5 MB)
MAX_BUNDLE_BYTES = 200 << 20  # everything read from one bundle, uncompressed
MAX_MEMBERS = 1_000  # entries of a .zip (an evidence list is at most 1,000 items)
MAX_RATIO = 100  # uncompressed / compressed size of a .zip entry above 1 MiB: a ZIP bomb beyond
_RATIO_FROM = 1 << 20
_HINT_LIMIT = "split the case's files, or scan the page at a lower resolution"


@dataclass(frozen=True, slots=True, kw_only=True)
class BundleFile:
    name: str  # its path inside the bundle, with / separators
    data: bytes
    sha256: str
    type: FileType  # sniffed from the bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Bundle:
    source: str  # the folder or .zip, as given
    case_name: str  # where the case file is inside it, e.g. "case.yaml"
    case_bytes: bytes
    files: tuple[BundleFile, ...]

    @property
    def case_source(self) -> str:
        """The case file's name in messages: ``bundle.zip/case.yaml``."""
        return f"{self.source.rstrip('/')}/{self.case_name}"

    def file(self, name: str) -> BundleFile | None:
        wanted = _normal(name)
        for item in self.files:
            if item.name == wanted:
                return item
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class BundledCase:
    case: Case
    bundle: Bundle


def is_bundle(path: str | Path) -> bool:
    """A .zip file, or a folder with a case file (``case.yaml``) at its top."""
    path = Path(path)
    if path.is_dir():
        return any((path / name).is_file() for name in CASE_NAMES)
    return path.suffix.lower() == ".zip" and path.is_file()


def load_bundle(
    path: str | Path | Bundle, *, fields: DeclaredFields | None = None
) -> BundledCase:
    """The case of a bundle (its path, or a Bundle already opened), checked against the
    bundle's files (``fields``: the case fields the rules declare, as for
    ``engine.cases.load.parse_case``)."""
    bundle = path if isinstance(path, Bundle) else open_bundle(path)
    fmt: Literal["yaml", "json"] = "json" if bundle.case_name.endswith(".json") else "yaml"
    case = parse_case(bundle.case_bytes, source=bundle.case_source, fmt=fmt, fields=fields)
    problems = check_files(bundle, case)
    if problems:
        raise BundleError(problems)
    return BundledCase(case=case, bundle=bundle)


def check_files(bundle: Bundle, case: Case) -> list[Problem]:
    """Every file the case names must be in the bundle, with the sha256 the case gives."""
    problems = []
    for item in case.evidence:
        loc = item.loc or SourceLoc(path=bundle.case_source)
        for j, named in enumerate(item.files):
            where = f"evidence[{case.evidence.index(item)}].files[{j}]"
            found = bundle.file(named.name)
            if found is None:
                problems.append(
                    Problem(
                        loc,
                        f"{where}: {named.name!r} is not in the bundle {bundle.source}",
                        path=where,
                        hint="put the file beside case.yaml, or correct its name",
                    )
                )
            elif named.sha256 and named.sha256.lower() != found.sha256:
                problems.append(
                    Problem(
                        loc,
                        f"{where}: {named.name!r} has sha256 {found.sha256}, not the "
                        f"{named.sha256.lower()} the case file gives",
                        path=where,
                        hint="the file was changed or replaced after the case was written",
                    )
                )
    return problems


def open_bundle(path: str | Path, *, source: str | None = None) -> Bundle:
    """Read a bundle within the limits; every problem found is raised together. ``source``:
    the bundle's name in messages (default: ``path``)."""
    path = Path(path)
    if path.is_dir():
        return _open_folder(path, source or str(path))
    if path.suffix.lower() == ".zip":
        return _open_zip(path, source or str(path))
    raise BundleError(
        [
            Problem(
                SourceLoc(path=source or str(path)),
                "not a bundle: a bundle is a folder or a .zip with a case.yaml",
            )
        ]
    )


def open_zip_data(data: bytes, source: str) -> Bundle:
    """A .zip bundle given as bytes (an upload), named ``source`` in messages; the same
    limits as ``open_bundle``."""
    return _open_zip(io.BytesIO(data), source)


def open_files(files: Iterable[tuple[str, bytes]], source: str) -> Bundle:
    """A bundle given as its files: (path inside the bundle with / separators, bytes), e.g. a
    folder uploaded through a form, named ``source`` in messages; the limits of
    ``open_bundle`` (every problem found is raised together)."""
    entries = list(files)
    top = SourceLoc(path=source)
    if len(entries) > MAX_MEMBERS:
        raise BundleError(
            [Problem(top, f"{len(entries):,} files, more than a bundle may hold ({MAX_MEMBERS:,})")]
        )
    names = {rel for rel, _ in entries}
    case_name = next((n for n in CASE_NAMES if n in names), None)
    if case_name is None:
        raise BundleError([Problem(top, "no case.yaml in the bundle folder")])
    problems: list[Problem] = []
    out: list[BundleFile] = []
    case_bytes = b""
    total = 0
    for rel, data in entries:
        where = SourceLoc(path=f"{source.rstrip('/')}/{rel}")
        why = _unsafe(rel)
        if why:
            problems.append(Problem(where, f"unsafe path in the bundle: {rel!r} {why}"))
            continue
        if len(data) > MAX_FILE_BYTES:
            problems.append(_too_large(where, rel, len(data)))
            continue
        total += len(data)
        if total > MAX_BUNDLE_BYTES:
            raise BundleError([*problems, _bundle_too_large(top)])
        if rel == case_name:
            case_bytes = data
        else:
            out.append(_file(rel, data))
    if problems:
        raise BundleError(problems)
    return Bundle(source=source, case_name=case_name, case_bytes=case_bytes, files=tuple(out))


def _normal(name: str) -> str:
    return str(PurePosixPath(name.replace("\\", "/")))


def _unsafe(name: str) -> str:
    """Why a path inside a bundle is refused, or ""."""
    if "\x00" in name:
        return "contains a NUL character"
    if "\\" in name:
        return "uses \\ as a separator"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "is absolute"
    if ".." in PurePosixPath(name).parts:
        return "leads out of the bundle (..)"
    return ""


def _file(name: str, data: bytes) -> BundleFile:
    return BundleFile(
        name=_normal(name), data=data, sha256=hashlib.sha256(data).hexdigest(), type=sniff(data)
    )


def _too_large(where: SourceLoc, name: str, size: int) -> Problem:
    return Problem(
        where,
        f"{name} is {size:,} bytes, more than a bundle's file may be ({MAX_FILE_BYTES:,})",
        hint=_HINT_LIMIT,
    )


def _open_folder(root: Path, source: str) -> Bundle:
    case_name = next((n for n in CASE_NAMES if (root / n).is_file()), None)
    if case_name is None:
        raise BundleError([Problem(SourceLoc(path=source), "no case.yaml in the bundle folder")])
    problems: list[Problem] = []
    files: list[BundleFile] = []
    real_root = root.resolve()
    total = 0
    case_bytes = b""
    for current, dirs, names in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(names):
            full = Path(current) / name
            rel = full.relative_to(root).as_posix()
            where = SourceLoc(path=f"{source.rstrip('/')}/{rel}")
            try:
                info = full.lstat()
                if stat.S_ISLNK(info.st_mode):
                    target = full.resolve()
                    if real_root not in target.parents:
                        problems.append(Problem(where, "a link to a file outside the bundle"))
                        continue
                    info = target.stat()
                if not stat.S_ISREG(info.st_mode):
                    continue
                if info.st_size > MAX_FILE_BYTES:
                    problems.append(_too_large(where, rel, info.st_size))
                    continue
                total += info.st_size
                if total > MAX_BUNDLE_BYTES:
                    problems.append(_bundle_too_large(SourceLoc(path=source)))
                    raise BundleError(problems)
                data = full.read_bytes()
            except OSError as exc:
                problems.append(Problem(where, f"cannot read the file: {exc.strerror or exc}"))
                continue
            if rel == case_name:
                case_bytes = data
            else:
                files.append(_file(rel, data))
    if problems:
        raise BundleError(problems)
    return Bundle(source=source, case_name=case_name, case_bytes=case_bytes, files=tuple(files))


def _bundle_too_large(where: SourceLoc) -> Problem:
    return Problem(
        where,
        f"the bundle holds more than {MAX_BUNDLE_BYTES:,} bytes of files",
        hint=_HINT_LIMIT,
    )


def _open_zip(path: Path | IO[bytes], source: str) -> Bundle:
    top = SourceLoc(path=source)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise BundleError([Problem(top, f"not a readable .zip: {reason}")]) from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if len(infos) > MAX_MEMBERS:
            raise BundleError(
                [
                    Problem(
                        top,
                        f"{len(infos):,} entries, more than a bundle may hold ({MAX_MEMBERS:,})",
                    )
                ]
            )
        problems: list[Problem] = []
        for info in infos:
            where = SourceLoc(path=f"{source}/{info.filename}")
            why = _unsafe(info.filename)
            if why:
                problems.append(Problem(where, f"unsafe path in the .zip: {info.filename!r} {why}"))
            elif stat.S_ISLNK(info.external_attr >> 16):
                problems.append(Problem(where, "a link inside the .zip; links are not followed"))
        if problems:
            raise BundleError(problems)
        prefix = _case_prefix([i.filename for i in infos])
        if prefix is None:
            raise BundleError(
                [
                    Problem(
                        top,
                        "no case.yaml in the .zip",
                        hint="put case.yaml at the top of the .zip (or of its one folder)",
                    )
                ]
            )
        declared = sum(i.file_size for i in infos)
        if declared > MAX_BUNDLE_BYTES:
            raise BundleError([_bundle_too_large(top)])
        case_name = ""
        case_bytes = b""
        files: list[BundleFile] = []
        for info in infos:
            if not info.filename.startswith(prefix):
                continue
            rel = info.filename[len(prefix) :]
            where = SourceLoc(path=f"{source}/{info.filename}")
            data = _member(archive, info, where, problems)
            if data is None:
                continue
            if rel in CASE_NAMES and not case_name:
                case_name, case_bytes = rel, data
            else:
                files.append(_file(rel, data))
        if problems:
            raise BundleError(problems)
    return Bundle(source=source, case_name=case_name, case_bytes=case_bytes, files=tuple(files))


def _case_prefix(names: list[str]) -> str | None:
    """ "" when the case file is at the top of the .zip, "folder/" when the .zip holds one folder
    with the case file at its top, None when there is no case file."""
    if any(n in CASE_NAMES for n in names):
        return ""
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) == 1 and all("/" in n for n in names):
        prefix = tops.pop() + "/"
        if any(n[len(prefix) :] in CASE_NAMES for n in names):
            return prefix
    return None


def _member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: SourceLoc, problems: list[Problem]
) -> bytes | None:
    if info.file_size > MAX_FILE_BYTES:
        problems.append(_too_large(where, info.filename, info.file_size))
        return None
    if info.file_size > _RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        problems.append(
            Problem(
                where,
                f"{info.filename} expands {info.file_size // max(info.compress_size, 1):,} times "
                f"(more than {MAX_RATIO}): refused as a possible ZIP bomb",
            )
        )
        return None
    try:
        with archive.open(info) as stream:
            data = stream.read(MAX_FILE_BYTES + 1)  # the header's size is not trusted
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        problems.append(Problem(where, f"cannot read {info.filename} from the .zip: {exc}"))
        return None
    except RuntimeError as exc:  # encrypted entry
        problems.append(Problem(where, f"cannot read {info.filename} from the .zip: {exc}"))
        return None
    except NotImplementedError as exc:  # a compression method zipfile lacks
        problems.append(Problem(where, f"cannot read {info.filename} from the .zip: {exc}"))
        return None
    if len(data) > MAX_FILE_BYTES:
        problems.append(_too_large(where, info.filename, len(data)))
        return None
    return data
