"""Case file text -> plain data that remembers where each value was written.

The first half of loading a case (engine.cases.load checks the data against casefile/1): the C
safe YAML loader with duplicate keys and anchors refused and nesting bounded before parsing,
JSON with its line and column, text decoding, and the locator that turns a field path such as
``evidence[2].submitted_at`` back into a line and column for an error.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Generator, Hashable
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from engine.errors import CaseFileError, Problem
from engine.model import (
    SourceLoc,
)

__all__ = [
    "FieldPath",
    "Locate",
    "Locator",
    "Marks",
    "decode",
    "dotted_path",
    "load_json",
    "load_yaml",
    "located_error",
    "prefixed",
    "shorten",
]

FieldPath = tuple[str | int, ...]
Locate = Callable[[FieldPath], SourceLoc]
Marks = dict[int, tuple[int, int]]  # id(mapping) -> (line, column) where its node starts
_Flaw = tuple[int, int, str, str, str]  # line, column, "key" | "value", message, hint

# PyYAML's C composer recurses on the C stack and kills the process past ~20,000 nested
# collections (far fewer in a thread with a small stack). A document cannot nest deeper than it
# has openers, so a text with many of them is scanned first, event by event: libyaml's parser
# keeps its stack on the heap.
_OPENERS = ("[", "{", "- ", "? ", "-\t", "?\t")
_SCAN_ABOVE, _MAX_NESTING = 1_000, 100


class _Loader(yaml.CSafeLoader):
    """The C safe loader, except that times stay strings, integers are plain decimals (so that
    ``order_id: 0123`` stays "0123", not octal 83), and duplicate keys and aliases are recorded
    as flaws instead of being resolved silently."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.marks: Marks = {}
        self.flaws: list[_Flaw] = []

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        self.flatten_mapping(node)
        mapping: dict[Hashable, Any] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if type(key) is not str and not isinstance(key, Hashable):
                raise yaml.constructor.ConstructorError(
                    None, None, "found a key that is not a scalar", key_node.start_mark
                )
            if key in mapping:
                first = next(k for k, _ in node.value if self.constructed_objects.get(k) == key)
                line = first.start_mark.line + 1
                what = f"duplicate key {shorten(str(key))!r} (first at line {line})"
                hint = "remove one of them: a YAML reader would silently keep the last"
                self.flaws.append((*_pos(key_node), "key", what, hint))
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_marked_map(self, node: MappingNode) -> Generator[dict[Hashable, Any], None, None]:
        data: dict[Hashable, Any] = {}
        self.marks[id(data)] = _pos(node)
        yield data
        data.update(self.construct_mapping(node))


class _AliasLoader(_Loader):
    """For a text with an ``&`` or a ``*`` in it: anchors and aliases are flaws. (A text without
    either has none, and is spared this check on every node.)"""

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        if node in self.constructed_objects or node in self.recursive_objects:
            what = "anchors and aliases (&name, *name) are not supported in case files"
            self.flaws.append((*_pos(node), "value", what, "write the value out where it is used"))
            return None
        return super().construct_object(node, deep)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if not tag.endswith(("timestamp", ":int"))]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(0|[1-9][0-9]*)$"), list("-+0123456789")
)
_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_marked_map)


def _pos(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _at(source: str, mark: Any) -> SourceLoc:
    """A YAML mark (0-based) as a place in ``source`` (1-based); the file alone without one."""
    if mark is None:
        return SourceLoc(path=source)
    return SourceLoc(path=source, line=mark.line + 1, column=mark.column + 1)


def _compose(text: str) -> Node | None:
    try:
        return yaml.compose(text, Loader=_Loader)
    except (yaml.YAMLError, ValueError, RecursionError):
        return None


def load_yaml(text: str, source: str) -> tuple[object, Marks]:
    if sum(text.count(opener) for opener in _OPENERS) > _SCAN_ABOVE:
        _check_nesting(text, source)
    loader = _AliasLoader(text) if "&" in text or "*" in text else _Loader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text, source) from exc
    except (ValueError, RecursionError) as exc:  # e.g. an integer of more than 4,300 digits
        raise located_error(SourceLoc(path=source), f"invalid YAML: {_reason(exc)}") from exc
    finally:
        loader.dispose()
    if loader.flaws:
        raise CaseFileError(_flaw_problems(text, source, loader.flaws))
    return data, loader.marks


def _check_nesting(text: str, source: str) -> None:
    depth = 0
    message = f"the document is nested more than {_MAX_NESTING} levels deep"
    try:
        for event in yaml.parse(text, Loader=_Loader):
            depth += isinstance(event, yaml.CollectionStartEvent)
            depth -= isinstance(event, yaml.CollectionEndEvent)
            if depth > _MAX_NESTING:
                raise located_error(_at(source, event.start_mark), message)
    except yaml.MarkedYAMLError as exc:
        # libyaml 0.2.6 (PyYAML 6.0.4) refuses flow collections nested over 1,000 deep while
        # scanning ahead, before the parser yields the events above; the text up to that point
        # holds the level where our own limit is passed
        mark = exc.problem_mark
        if "maximum nesting depth" not in (exc.problem or "") or mark is None:
            return  # loading reports it, located
        if mark.index < len(text):
            _check_nesting(text[: mark.index], source)
        raise located_error(_at(source, mark), message) from exc
    except yaml.YAMLError:
        pass  # loading reports it, located


def _yaml_error(exc: yaml.YAMLError, text: str, source: str) -> CaseFileError:
    loc, message, hint = SourceLoc(path=source), f"invalid YAML: {exc}", ""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark, context = exc.problem_mark or exc.context_mark, exc.context_mark
        loc = _at(source, mark)
        problem = (exc.problem or exc.context or "").removeprefix("but ")
        message, hint = f"invalid YAML: {problem}", exc.context or ""
        if hint and context is not None and context is not mark:
            hint += f" at line {context.line + 1}, column {context.column + 1}"
    elif isinstance(exc, yaml.reader.ReaderError):  # libyaml counts its position in bytes
        before = text.encode("utf-8", "surrogatepass")[: exc.position]
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        loc = SourceLoc(path=source, line=before.count(b"\n") + 1, column=column)
        message, hint = f"invalid YAML: {exc.reason}", "remove the character"
    return located_error(loc, message, hint=hint)


def _flaw_problems(text: str, source: str, flaws: list[_Flaw]) -> list[Problem]:
    """Problems for the loader's flaws, with the field paths found by composing the text."""
    paths: dict[tuple[str, int, int], FieldPath] = {}
    root = _compose(text)
    stack: list[tuple[FieldPath, Node]] = [((), root)] if root is not None else []
    seen: set[int] = set()
    while stack:  # not recursive, and in document order so that an anchor's path comes first
        path, node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        paths.setdefault(("value", *_pos(node)), path)
        children: list[tuple[FieldPath, Node]] = []
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                children.append((path + (getattr(key_node, "value", "?"),), value_node))
                paths[("key", *_pos(key_node))] = children[-1][0]
        elif isinstance(node, SequenceNode):
            children = [(path + (i,), item) for i, item in enumerate(node.value)]
        stack.extend(reversed(children))
    problems = []
    for line, column, kind, message, hint in sorted(flaws):
        dotted = dotted_path(paths.get((kind, line, column), ()))
        loc = SourceLoc(path=source, line=line, column=column)
        problems.append(Problem(loc, prefixed(dotted, message), path=dotted, hint=hint))
    return problems


class Locator:
    """Field path -> place in a YAML or JSON text. Mappings are found from the marks recorded
    while loading; anything finer composes the text, once, which only a problem needs."""

    def __init__(self, text: str, source: str, data: object, marks: Marks) -> None:
        self._text, self._source, self._data, self._marks = text, source, data, marks
        self._root: Node | None = None
        self._composed = False

    def __call__(self, path: FieldPath) -> SourceLoc:
        target = _follow(self._data, path)
        if isinstance(target, dict) and id(target) in self._marks:
            line, column = self._marks[id(target)]
            return SourceLoc(path=self._source, line=line, column=column)
        return self.find(path, key=False)

    def find(self, path: FieldPath, *, key: bool) -> SourceLoc:
        if not self._composed:
            # Tabs may separate JSON tokens, not YAML ones, and never occur raw inside JSON
            # strings: a space in their place keeps every column.
            self._root, self._composed = _compose(self._text.replace("\t", " ")), True
        node, key_node = self._root, None
        if node is None:
            return SourceLoc(path=self._source)
        for segment in path:
            found = _child(node, segment)
            if found is None:
                key_node = None
                break
            key_node, node = found
        line, column = _pos(key_node if key and key_node is not None else node)
        return SourceLoc(path=self._source, line=line, column=column)


def _child(node: Node, segment: str | int) -> tuple[Node | None, Node] | None:
    if isinstance(node, MappingNode):
        matches = [(k, v) for k, v in node.value if getattr(k, "value", None) == str(segment)]
        return matches[-1] if matches else None  # the last one wins, as when loading
    if isinstance(node, SequenceNode) and isinstance(segment, int):
        return (None, node.value[segment]) if 0 <= segment < len(node.value) else None
    return None


def _follow(data: object, path: FieldPath) -> object:
    for segment in path:
        if isinstance(data, dict) and segment in data:
            data = data[segment]
        elif isinstance(data, list) and isinstance(segment, int) and 0 <= segment < len(data):
            data = data[segment]
        else:
            return None
    return data


def load_json(text: str, source: str, loc: SourceLoc) -> object:
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        mapping = dict(items)
        if len(mapping) != len(items):  # rare: only then count the keys
            duplicates.extend(key for key, n in Counter(key for key, _ in items).items() if n > 1)
        return mapping

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        line = loc.line + exc.lineno - 1 if loc.line else exc.lineno
        at = SourceLoc(path=source, line=line, column=exc.colno)
        raise located_error(at, f"invalid JSON: {exc.msg}") from exc
    except (ValueError, RecursionError) as exc:  # an integer of over 4,300 digits; deep nesting
        reason = "nested too deeply" if isinstance(exc, RecursionError) else _reason(exc)
        raise located_error(loc, f"invalid JSON: {reason}") from exc
    if duplicates:
        hint = "remove one of them: a JSON reader would silently keep the last"
        raise CaseFileError(
            Problem(loc, f"duplicate key {shorten(k)!r}", hint=hint) for k in duplicates
        )
    return data


# A JSON \\uD800-\\uDFFF escape that is not half of a pair decodes to a lone surrogate: a str
# that no UTF-8 writer (a report, a result line, a database) can encode. Only JSON can carry one
# (the UTF-8 decoder and libyaml refuse them), so the text is searched for such an escape first.
_LONE_ESCAPE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
SURROGATE_HINT = (
    "in JSON a \\ud800-\\udfff escape is half of a pair (\\ud83d\\ude00 is one emoji); "
    "remove it or write the character itself"
)


def visible(text: str) -> str:
    """``text`` with any lone surrogate written as its escape (\\ud800): safe to print."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def lone_surrogates(text: str, data: object) -> list[tuple[FieldPath, str, int]]:
    """Where ``data`` (parsed from the JSON ``text``) holds a lone surrogate: (field path,
    "key" or "value", offset of its escape in ``text`` or -1); none for almost every text,
    which has no such escape and is not walked."""
    if "\\u" not in text:  # no escape at all (most texts): the search below costs 10x this
        return []
    escapes = [m.start() for m in _LONE_ESCAPE.finditer(text)]
    if not escapes:
        return []
    found: list[tuple[FieldPath, str, int]] = []
    stack: list[tuple[FieldPath, object]] = [((), data)]
    while stack:  # in document order: the n-th one found is the n-th escape in the text
        path, value = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                found.append((path, "value", -1))
        elif isinstance(value, dict):
            children: list[tuple[FieldPath, object]] = []
            for key, item in value.items():
                if isinstance(key, str) and _SURROGATE.search(key):
                    found.append((path + (visible(key),), "key", -1))
                children.append((path + (visible(key) if isinstance(key, str) else key,), item))
            stack.extend(reversed(children))
        elif isinstance(value, list):
            stack.extend(reversed([(path + (i,), item) for i, item in enumerate(value)]))
    if len(found) == len(escapes):  # one escape each: each is located where it was written
        found = [(path, where, at) for (path, where, _), at in zip(found, escapes, strict=True)]
    return found


def _reason(exc: Exception) -> str:
    return str(exc).split(";")[0] or type(exc).__name__  # no advice to call sys functions


def decode(raw: bytes, source: str, line: int = 1) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):  # a byte-order mark: dropped, columns count after it
        raw = raw[3:]
    try:
        return raw.decode("utf-8")  # the C codec: "utf-8-sig" is Python code
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        loc = SourceLoc(
            path=source, line=line + before.count(b"\n"), column=exc.start - before.rfind(b"\n")
        )
        message = f"not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot be decoded"
        raise located_error(loc, message, hint="save the file as UTF-8") from exc


# --- the contract -------------------------------------------------------------------------------


def located_error(loc: SourceLoc, message: str, *, hint: str = "") -> CaseFileError:
    return CaseFileError([Problem(loc, message, hint=hint)])


def dotted_path(path: FieldPath) -> str:
    out = ""
    for segment in path:
        out += f"[{segment}]" if isinstance(segment, int) else f".{segment}" if out else segment
    return out


def prefixed(dotted: str, message: str) -> str:
    return f"{dotted}: {message}" if dotted else message


def shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
