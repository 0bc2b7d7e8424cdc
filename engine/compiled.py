"""The scoring path compiled to C with mypyc, and the switch back to plain Python.

``.ci/setup`` compiles the modules in ``MODULES`` (the per-case path: facts, derived values,
decisions) with mypyc into extension modules beside their sources and writes the digest of each
source into ``engine/compiled.json``. Python imports an extension module in preference to its
source; ``use_sources_when_needed``, run when ``engine`` is first imported, makes sure that only
happens for extensions built from the sources as they are now. When any compiled source changed
since (mypyc calls between the compiled modules directly, so it is all or none), when the
stamp is missing, or when ``ADJUDICATE_PURE=1``, every module is imported from its source.
Rulings are the same either way; the tests score the sample cases both ways and compare.
A wheel carries the sources only.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Collection, Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

__all__ = [
    "LIBRARY",
    "MODULES",
    "STAMP",
    "compiled_files",
    "digests",
    "reason",
    "reason_for_sources",
    "status",
    "use_sources_when_needed",
]

ENGINE = Path(__file__).resolve().parent
STAMP = ENGINE / "compiled.json"
# the per-case path, in the order mypyc is given them; the generated per-Program code is not
# here (it is made when rules load), neither is engine.model (the case file's types, whose
# slots the JSON Lines fast path sets directly) nor engine.ruling (no faster compiled)
MODULES = (
    "engine.cases.attributes",
    "engine.cases.names",
    "engine.rules.semantics",
    "engine.compile.reference",
    "engine.run.values",
    "engine.run.params",
    "engine.run.results",
    "engine.run.notices",
    "engine.run.readings",
    "engine.run.facts",
    "engine.run.findings",
    "engine.run.decide",
    "engine.run.scoring",
)
# the group mypyc compiles them in, and its shared library (its runtime and every module's code)
GROUP = "engine.run.native"
LIBRARY = f"{GROUP}__mypyc"


def _source(module: str) -> Path:
    return ENGINE.parent.joinpath(*module.split(".")).with_suffix(".py")


def digests() -> dict[str, str]:
    """The sha256 of each compiled module's source as it is now."""
    return {m: hashlib.sha256(_source(m).read_bytes()).hexdigest() for m in MODULES}


def compiled_files() -> dict[str, list[Path]]:
    """Every extension file in the package, by the module it would be imported as (mypyc's
    builds are the only ones there): those of ``MODULES``, and any left from another list."""
    suffixes = sorted(importlib.machinery.EXTENSION_SUFFIXES, key=len, reverse=True)
    out: dict[str, list[Path]] = {}
    for path in ENGINE.rglob("*.so"):
        suffix = next((s for s in suffixes if path.name.endswith(s)), None)
        if suffix is None:
            continue
        parts = path.parent.relative_to(ENGINE.parent).parts
        out.setdefault(".".join((*parts, path.name[: -len(suffix)])), []).append(path)
    return out


def reason_for_sources(files: Collection[str] | None = None) -> str | None:
    """Why the modules would run from their sources (None: compiled), given the modules that
    have compiled files (by default, those found now)."""
    if os.environ.get("ADJUDICATE_PURE", "") not in ("", "0"):
        return "ADJUDICATE_PURE is set"
    found = set(compiled_files() if files is None else files)
    if not {*MODULES, LIBRARY} <= found:
        return "not compiled (bash .ci/setup compiles them)"
    others = sorted(found - {*MODULES, LIBRARY})
    if others:
        return f"compiled files of modules not in the list: {', '.join(others)} (bash .ci/setup)"
    try:
        recorded = json.loads(STAMP.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"no readable {STAMP.name} beside the compiled modules"
    changed = [m for m, digest in digests().items() if recorded.get(m) != digest]
    if changed:
        return f"changed since compiled: {', '.join(changed)} (bash .ci/setup compiles again)"
    return None


class _Sources:
    """A finder that imports modules that have a compiled file from their ``.py`` sources."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname not in self.names or not _source(fullname).is_file():
            return None
        return importlib.util.spec_from_file_location(fullname, _source(fullname))


_REASON: list[str | None] = []  # decided once per process, before any compiled module loads


def use_sources_when_needed() -> None:
    """Import every compiled module from its source unless its extension is current."""
    if _REASON:
        return
    files = set(compiled_files())
    reason = reason_for_sources(files)
    _REASON.append(reason)
    if reason is not None and not any(isinstance(f, _Sources) for f in sys.meta_path):
        sys.meta_path.insert(0, _Sources(frozenset({*MODULES, *files})))


def reason() -> str | None:
    """Why this process runs the modules from their sources (None: compiled), as decided when
    ``engine`` was first imported."""
    use_sources_when_needed()
    return _REASON[0]


def status() -> dict[str, str]:
    """How each module of the scoring path runs in this process: "compiled", "source" or
    "not loaded"."""
    out = {}
    for module in MODULES:
        loaded = sys.modules.get(module)
        if loaded is None:
            out[module] = "not loaded"
            continue
        origin = getattr(getattr(loaded, "__spec__", None), "origin", "") or ""
        out[module] = "source" if origin.endswith(".py") else "compiled"
    return out
