"""YAML text -> plain values that remember where they were written (for rule files).

Rule files are small and read once, so they are composed into nodes and converted here, keeping
the location of every key and value. Mappings become ``LMap`` (a dict with ``loc`` and
``key_loc``/``value_loc``), sequences ``LList`` (a list with ``loc``/``item_loc``). Only the C
safe loader is used; duplicate keys are errors; timestamps stay strings.
"""

from __future__ import annotations

from typing import Any

import yaml

from engine.errors import Problem
from engine.model import SourceLoc

__all__ = ["LList", "LMap", "SafeLoader", "YamlError", "load_located"]


class SafeLoader(yaml.CSafeLoader):
    """The C safe loader, with times left as strings."""


SafeLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}


class YamlError(Exception):
    """Problems found while reading one YAML file (syntax, duplicate keys)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class LMap(dict[str, Any]):
    """A mapping that knows where each of its keys and values was written."""

    loc: SourceLoc
    key_locs: dict[str, SourceLoc]
    value_locs: dict[str, SourceLoc]

    def key_loc(self, key: str) -> SourceLoc:
        return self.key_locs.get(key, self.loc)

    def value_loc(self, key: str) -> SourceLoc:
        return self.value_locs.get(key, self.loc)


class LList(list[Any]):
    """A sequence that knows where each item was written."""

    loc: SourceLoc
    item_locs: list[SourceLoc]

    def item_loc(self, index: int) -> SourceLoc:
        return self.item_locs[index] if 0 <= index < len(self.item_locs) else self.loc


def _loc(path: str, node: yaml.Node) -> SourceLoc:
    mark = node.start_mark
    return SourceLoc(path=path, line=mark.line + 1, column=mark.column + 1)


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.splitlines()
    return lines[line][column : column + 1] if 0 <= line < len(lines) else ""


def load_located(text: str, path: str) -> Any:
    """Parse one YAML document into located values; raise ``YamlError`` on any problem."""
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = SourceLoc(path=path, line=mark.line + 1, column=mark.column + 1) if mark else None
        if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
            raise YamlError(
                [
                    Problem(
                        loc,
                        "a tab character: YAML indents with spaces, never tabs",
                        hint="replace the tab (shown as ⇥) with spaces",
                    )
                ]
            ) from None
        raise YamlError([Problem(loc, f"YAML syntax: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise YamlError([Problem(SourceLoc(path=path), f"YAML: {exc}")]) from None
    finally:
        loader.dispose()
    if node is None:
        return None
    problems: list[Problem] = []
    seen: set[int] = set()
    if _has_alias(node, seen, path, problems):
        raise YamlError(problems)
    value = _convert(node, path, loader, problems)
    if problems:
        raise YamlError(problems)
    return value


def _has_alias(node: yaml.Node, seen: set[int], path: str, problems: list[Problem]) -> bool:
    """Rule files may not use anchors and aliases (&a / *a): a node met twice is an alias, and
    expanding aliases is how a small file becomes a huge one ("billion laughs")."""
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            problems.append(
                Problem(
                    _loc(path, current),
                    "YAML anchors and aliases (&name, *name) are not allowed in rule files",
                    hint="write the value out in full",
                )
            )
            return True
        seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                stack.extend((key, value))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return False


def _convert(node: yaml.Node, path: str, loader: SafeLoader, problems: list[Problem]) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = LMap()
        out.loc = _loc(path, node)
        out.key_locs = {}
        out.value_locs = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(Problem(_loc(path, key_node), "merge keys (<<) are not allowed"))
                continue
            key = _convert(key_node, path, loader, problems)
            if not isinstance(key, str):
                key = str(key)
            if key in out:
                first = out.key_locs[key]
                problems.append(
                    Problem(
                        _loc(path, key_node),
                        f"duplicate key '{key}' (first written at line {first.line})",
                        hint="remove one of the two, or rename it",
                    )
                )
                continue
            out.key_locs[key] = _loc(path, key_node)
            out.value_locs[key] = _loc(path, value_node)
            out[key] = _convert(value_node, path, loader, problems)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = LList()
        items.loc = _loc(path, node)
        items.item_locs = []
        for item in node.value:
            items.item_locs.append(_loc(path, item))
            items.append(_convert(item, path, loader, problems))
        return items
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError as exc:  # an unknown tag (!!python/object...), a bad value
        problem = getattr(exc, "problem", None) or str(exc)
        problems.append(
            Problem(
                _loc(path, node),
                f"YAML: {problem}",
                hint="rule files use plain values only: remove the tag",
            )
        )
        return None
