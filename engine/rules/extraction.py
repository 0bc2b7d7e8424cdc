"""The reading declarations of rules/: alias tables (``aliases:``) and, on each evidence kind,
which extractor reads which attribute from the item's files (``extract:``).

```yaml
aliases:
  carriers:
    title: {zh: ..., en: carriers}
    source: "..."
    names:
      Acme Parcel: [Acme, ACP]
evidence_kinds:
  delivery_slip:
    extract:
      issuer: {alias: {table: carriers}}
      signer: {labelled: {labels: [Signed by], value: name}}
      copy: copy_number
```

An extractor is written as its name alone, or as ``{name: options}``; the names and their
options are those of ``engine.rules.extract_specs``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from engine.errors import did_you_mean
from engine.model import SourceLoc, Type
from engine.rules.building import BuilderBase
from engine.rules.extract_specs import EXTRACTORS, LABELLED_VALUES
from engine.rules.program import AliasTable, Extract
from engine.rules.reading import bilingual, merged, unknown_keys
from engine.rules.yamlsource import LList, LMap

__all__ = ["Extraction"]

_TRUE, _FALSE = ("true", "yes"), ("false", "no")


class Extraction(BuilderBase):
    def alias_tables(self) -> tuple[AliasTable, ...]:
        out: list[AliasTable] = []
        for name, body, owner in merged(self.ctx, self.docs, "aliases"):
            loc = owner.key_loc(name)
            if not isinstance(body, LMap):
                self.ctx.error(loc, f"alias table '{name}' must be a mapping (title, names)")
                continue
            unknown_keys(self.ctx, body, ("title", "names", "source"))
            title = bilingual(self.ctx, body.get("title"), body, "title")
            names = body.get("names")
            if not isinstance(names, LMap) or not names:
                self.ctx.error(
                    body.value_loc("names") if "names" in body else loc,
                    f"alias table '{name}' needs names: a mapping canonical name: [other names]",
                    "names: {Acme Parcel: [Acme, ACP]}",
                )
                continue
            entries: list[tuple[str, tuple[str, ...]]] = []
            seen: dict[str, str] = {}
            for canonical, others in names.items():
                if others is None:
                    others = LList()
                if not isinstance(others, list) or not all(isinstance(o, str) for o in others):
                    self.ctx.error(
                        names.value_loc(canonical),
                        f"the other names of '{canonical}' must be a list of texts",
                    )
                    continue
                for word in (canonical, *others):
                    if word in seen and seen[word] != canonical:
                        self.ctx.error(
                            names.key_loc(canonical),
                            f"'{word}' is a name of both '{seen[word]}' and '{canonical}'",
                        )
                    seen[word] = canonical
                entries.append((canonical, tuple(others)))
            if title is not None:
                out.append(
                    AliasTable(
                        name=name,
                        title=title,
                        entries=tuple(entries),
                        source=str(body.get("source") or ""),
                        loc=loc,
                    )
                )
        return tuple(out)

    def kind_extracts(self, tables: tuple[AliasTable, ...]) -> None:
        """Read each kind's ``extract:`` into ``self.kinds`` (after ``evidence_kinds``)."""
        table_names = [t.name for t in tables]
        for name, body, _owner in merged(self.ctx, self.docs, "evidence_kinds"):
            kind = self.kinds.get(name)
            if kind is None or not isinstance(body, LMap) or "extract" not in body:
                continue
            spec = body["extract"]
            if not isinstance(spec, LMap):
                self.ctx.error(body.value_loc("extract"), "extract: a mapping attribute: extractor")
                continue
            extracts: list[Extract] = []
            for attr, how in spec.items():
                loc = spec.key_loc(attr)
                type_ = kind.attribute_type(attr)
                if type_ is None:
                    self.ctx.error(
                        loc,
                        f"'{attr}' is not an attribute of evidence kind '{name}'",
                        did_you_mean(attr, [a for a, _ in kind.attributes]),
                    )
                    continue
                found = self._extract(attr, type_, how, spec.value_loc(attr), table_names)
                if found is not None:
                    extracts.append(found)
            self.kinds[name] = replace(kind, extract=tuple(extracts))

    def _extract(
        self, attr: str, type_: Type, how: Any, loc: SourceLoc, tables: list[str]
    ) -> Extract | None:
        if isinstance(how, str):
            extractor, options = how, LMap()
            options.loc, options.key_locs, options.value_locs = loc, {}, {}
        elif isinstance(how, LMap) and len(how) == 1:
            extractor = next(iter(how))
            options = how[extractor]
            if isinstance(options, str) and extractor == "alias":
                table, options = options, LMap()
                options.loc, options.key_locs, options.value_locs = loc, {}, {}
                options["table"] = table
            if not isinstance(options, LMap):
                self.ctx.error(loc, f"the options of extractor '{extractor}' must be a mapping")
                return None
        else:
            self.ctx.error(loc, "an extractor is a name, or {name: {options}}", "e.g. copy_number")
            return None
        spec = EXTRACTORS.get(extractor)
        if spec is None:
            self.ctx.error(
                loc,
                f"unknown extractor '{extractor}'",
                did_you_mean(extractor, list(EXTRACTORS)) or f"one of: {', '.join(EXTRACTORS)}",
            )
            return None
        fills = type_.name if type_.name != "enum" else "enum"
        if fills not in spec.fills:
            self.ctx.error(
                loc,
                f"extractor '{extractor}' cannot fill '{attr}' ({type_})",
                f"it fills {', '.join(spec.fills)}",
            )
            return None
        unknown_keys(self.ctx, options, spec.required + spec.optional)
        ok = True
        for key in spec.required:
            if key not in options:
                self.ctx.error(loc, f"extractor '{extractor}' needs option '{key}'")
                ok = False
        frozen: list[tuple[str, Any]] = []
        for key, value in options.items():
            checked = self._option(extractor, key, value, options.value_loc(key), type_, tables)
            if checked is None:
                ok = False
            else:
                frozen.append((key, checked))
        if extractor == "labelled" and "labels" not in options and "around" not in options:
            self.ctx.error(loc, "extractor 'labelled' needs labels or around")
            ok = False
        if not ok:
            return None
        return Extract(attribute=attr, extractor=extractor, options=tuple(frozen), loc=loc)

    def _option(
        self, extractor: str, key: str, value: Any, loc: SourceLoc, type_: Type, tables: list[str]
    ) -> Any:
        if key == "table":
            if value not in tables:
                self.ctx.error(
                    loc,
                    f"unknown alias table '{value}'",
                    did_you_mean(str(value), tables) or "declare it under aliases:",
                )
                return None
            return str(value)
        if key in ("labels", "stop"):
            if not _texts(value):
                self.ctx.error(loc, f"'{key}' is a list of texts")
                return None
            return tuple(value)
        if key == "around":
            if not isinstance(value, list) or not all(
                isinstance(p, list) and len(p) == 2 and _texts(p) for p in value
            ):
                self.ctx.error(loc, "'around' is a list of [before, after] pairs of texts")
                return None
            return tuple((p[0], p[1]) for p in value)
        if key == "value":
            if value not in LABELLED_VALUES:
                self.ctx.error(loc, f"'value' is one of {', '.join(LABELLED_VALUES)}")
                return None
            return value
        if key == "values":
            return self._keyword_values(value, loc, type_)
        if key == "default":
            typed = _typed_key(str(value), type_)
            if typed is None:
                self.ctx.error(loc, f"default {value!r} is not a value of {type_}")
            return typed
        return value

    def _keyword_values(self, value: Any, loc: SourceLoc, type_: Type) -> Any:
        if not isinstance(value, LMap) or not value:
            self.ctx.error(loc, "'values' maps each value to the words that show it")
            return None
        out = []
        for key, words in value.items():
            typed = _typed_key(key, type_)
            if typed is None:
                self.ctx.error(
                    value.key_loc(key),
                    f"{key!r} is not a value of {type_}",
                    did_you_mean(key, list(type_.values)) if type_.values else "",
                )
                return None
            if not _texts(words):
                self.ctx.error(value.value_loc(key), f"the words of {key!r} are a list of texts")
                return None
            out.append((typed, tuple(words)))
        return tuple(out)


def _texts(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) and v for v in value)


def _typed_key(key: str, type_: Type) -> Any:
    if type_.name == "boolean":
        lowered = key.lower()
        return True if lowered in _TRUE else False if lowered in _FALSE else None
    if type_.name == "enum":
        return key if key in type_.values else None
    return key
