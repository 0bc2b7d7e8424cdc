"""The reference evaluator: the compiled rules as plain Python, generated from the Program.

It matches exactly what the durable_rules ruleset matches (tests demand identical firings on
every case): a rule fires once per distinct binding of its aliases to facts of the round, with no
fact bound twice, when one of its alternatives holds; a comparison with a missing value is false.
Each round's rules become one generated Python function of nested loops, readable with
``adjudicate rules compile --dump --python``; constants enter it only through ``repr``.

Within a round the rules share their work: every alternative of a rule is a path of loops, one
per alias (aliases of the case's single facts first), with each test at the first loop that binds
all its aliases. Paths that enter the same group of facts share the loop, a test that several
paths make there is made once, and a field read more than once is read once, in the innermost
block that holds all its reads. Which facts a round gives does not matter: a group of a single
fact type that holds two facts is looped over like any other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.model import Firing
from engine.rules.program import KEY, TYPE, Alias, Atom, Const, FieldRef, Program, Rule
from engine.rules.schema import SINGLETONS
from engine.rules.semantics import SYMBOLS

__all__ = ["ReferenceEvaluator", "atom_source", "condition_source", "python_source"]

Fact = Mapping[str, Any]
GroupKey = tuple[str, str | None]  # (fact type, evidence kind or issue name; None = any)
# ---------------------------------------------------------------- code generation


def atom_source(atom: Atom, var: Mapping[str, str]) -> str:
    """The atom as a Python expression over the variables bound to its aliases."""
    left = f"{var[atom.left.alias]}.get({atom.left.fact_field!r})"
    if atom.op == "present":
        return f"{left} is not None"
    if atom.op == "missing":
        return f"{left} is None"
    if atom.op == "in":
        return f"{left} in {tuple(atom.options)!r}"
    symbol = SYMBOLS[atom.op]
    right = atom.right
    if isinstance(right, Const):
        return f"((_v := {left}) is not None and _v {symbol} {right.value!r})"
    assert isinstance(right, FieldRef)
    other = f"{var[right.alias]}.get({right.fact_field!r})"
    return f"((_v := {left}) is not None and (_w := {other}) is not None and _v {symbol} _w)"


def condition_source(condition: tuple[tuple[Atom, ...], ...], var: Mapping[str, str]) -> str:
    """A condition (alternatives of atoms) as one Python expression over fact variables."""
    alternatives = [
        "(" + " and ".join(atom_source(atom, var) for atom in atoms) + ")" if atoms else "True"
        for atoms in condition
    ]
    return " or ".join(alternatives) or "False"


# ---------------------------------------------------------------- the round as a tree


@dataclass(slots=True)
class _Path:
    """One alternative of a rule on its way down the tree."""

    order: int  # its place in the round: the source lists the rules in their order
    rule: Rule
    n: int
    depth: dict[str, int]  # alias -> the depth of the loop binding it (variable x<depth>)
    tests: list[Atom]  # still to make at the current depth
    loops: list[tuple[Alias, list[Atom]]]  # the loops still to enter, each with its tests


@dataclass(slots=True)
class _Block:
    nodes: list[_Loop | _If | _Fire] = field(default_factory=list)
    reads: list[tuple[int, str]] = field(default_factory=list)  # (depth, field) read here once


@dataclass(slots=True)
class _Loop:
    order: int
    key: GroupKey
    depth: int
    distinct: list[int]  # earlier depths whose group may hold the same fact: never bound twice
    body: _Block


@dataclass(slots=True)
class _If:
    order: int
    atoms: list[Atom]
    depth: dict[str, int]
    body: _Block


@dataclass(slots=True)
class _Fire:
    order: int
    rule: Rule
    n: int
    depth: dict[str, int]


def _singletons_first(alias: Alias) -> int:
    kind = alias.fact_type
    return SINGLETONS.index(kind) if kind in SINGLETONS else len(SINGLETONS)


def _path(order: int, rule: Rule, n: int, atoms: tuple[Atom, ...]) -> _Path:
    aliases = sorted(rule.aliases, key=_singletons_first)  # stable: else in the rule's order
    depth = {alias.name: d for d, alias in enumerate(aliases)}
    per_loop: list[list[Atom]] = [[] for _ in aliases]
    for atom in atoms:
        per_loop[max(depth[name] for name in atom.aliases())].append(atom)
    return _Path(order, rule, n, depth, [], list(zip(aliases, per_loop, strict=True)))


def _var(depth: Mapping[str, int]) -> dict[str, str]:
    return {alias: f"x{d}" for alias, d in depth.items()}


def _tree(paths: list[_Path], bound: tuple[GroupKey, ...]) -> _Block:
    """The block of ``paths`` once their tests so far hold, with facts of ``bound`` bound."""
    nodes: list[_Loop | _If | _Fire] = []
    entering: dict[GroupKey, list[_Path]] = {}
    testing: list[_Path] = []
    for path in paths:
        if path.tests:
            testing.append(path)
        elif path.loops:
            alias = path.loops[0][0]
            entering.setdefault((alias.fact_type, alias.kind), []).append(path)
        else:
            nodes.append(_Fire(path.order, path.rule, path.n, path.depth))
    for key, group in entering.items():
        inner = [
            _Path(p.order, p.rule, p.n, p.depth, list(p.loops[0][1]), p.loops[1:]) for p in group
        ]
        distinct = [d for d, earlier in enumerate(bound) if _may_share(earlier, key)]
        body = _tree(inner, (*bound, key))
        nodes.append(_Loop(group[0].order, key, len(bound), distinct, body))
    nodes.extend(_tests(testing, bound))
    nodes.sort(key=lambda node: node.order)
    return _Block(nodes)


def _may_share(one: GroupKey, other: GroupKey) -> bool:
    """Whether two groups may hold the same fact: not if of two types (two different dicts) or
    two kinds (a fact is in the group of its one kind)."""
    return one[0] == other[0] and (one[1] is None or other[1] is None or one[1] == other[1])


def _tests(paths: list[_Path], bound: tuple[GroupKey, ...]) -> list[_If]:
    """The tests of ``paths`` at this depth; a test several of them make is made once."""
    nodes: list[_If] = []
    while paths:
        # the same test of two rules: the same source over the same loop variables
        tests = [{atom_source(a, _var(p.depth)): a for a in p.tests} for p in paths]
        shared, count = Counter(source for each in tests for source in each).most_common(1)[0]
        if count == 1:  # what is left is each path's own
            for p in paths:
                rest = _Path(p.order, p.rule, p.n, p.depth, [], p.loops)
                nodes.append(_If(p.order, p.tests, p.depth, _tree([rest], bound)))
            break
        making = [(p, each) for p, each in zip(paths, tests, strict=True) if shared in each]
        inner = [
            _Path(
                p.order, p.rule, p.n, p.depth, [a for s, a in each.items() if s != shared], p.loops
            )
            for p, each in making
        ]
        first, first_tests = making[0]
        nodes.append(_If(first.order, [first_tests[shared]], first.depth, _tree(inner, bound)))
        paths = [p for p, each in zip(paths, tests, strict=True) if shared not in each]
    return nodes


# ---------------------------------------------------------------- fields read once


def _refs(atom: Atom) -> list[FieldRef]:
    return [atom.left, atom.right] if isinstance(atom.right, FieldRef) else [atom.left]


Trail = tuple[_Block, ...]  # the blocks from the function's down to one


def _find_reads(
    block: _Block, trail: Trail, loops: tuple[int, ...], found: dict[tuple[int, str], list[Trail]]
) -> None:
    """Each read of a field of a loop's fact (``loops``: the index in ``trail`` of each loop's
    body, by depth), with the blocks down to it."""
    trail = (*trail, block)
    for node in block.nodes:
        if isinstance(node, _Loop):
            _find_reads(node.body, trail, (*loops, len(trail)), found)
        elif isinstance(node, _If):
            for atom in node.atoms:
                for ref in _refs(atom):
                    loop = id(trail[loops[node.depth[ref.alias]]])
                    found.setdefault((loop, ref.fact_field), []).append(trail)
            _find_reads(node.body, trail, loops, found)


def _place_reads(root: _Block) -> None:
    """A field read more than once under one loop: read once, in the innermost block above all
    its reads (the depth of a block's loop variable: how many loops the trail enters)."""
    found: dict[tuple[int, str], list[Trail]] = {}
    _find_reads(root, (), (), found)
    depth_of: dict[int, int] = {}
    _depths(root, depth_of)
    for (loop, fact_field), trails in found.items():
        if len(trails) < 2:
            continue
        common = trails[0]
        for trail in trails[1:]:
            n = 0
            while n < min(len(common), len(trail)) and common[n] is trail[n]:
                n += 1
            common = common[:n]
        # not inside a loop entered after the fact's: read once, not once per fact of that loop
        start = next(n for n, block in enumerate(common) if id(block) == loop)
        inner = [n for n in range(start + 1, len(common)) if id(common[n]) in depth_of]
        common = common[: inner[0]] if inner else common
        common[-1].reads.append((depth_of[loop], fact_field))


def _depths(block: _Block, found: dict[int, int]) -> None:
    """The depth of the variable each loop body binds, by the body's id."""
    for node in block.nodes:
        if isinstance(node, _Loop):
            found[id(node.body)] = node.depth
            _depths(node.body, found)
        elif isinstance(node, _If):
            _depths(node.body, found)


# ---------------------------------------------------------------- the source


class _Writer:
    """The lines of one round's function, its groups and the names of the fields read once."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.groups: dict[GroupKey, str] = {}  # looked up once, at the top of the function
        self._names: dict[tuple[int, str], str] = {}
        self._taken: set[str] = set()

    def group(self, key: GroupKey) -> str:
        return self.groups.setdefault(key, f"g{len(self.groups)}")

    def name(self, depth: int, fact_field: str) -> str:
        """The variable holding field ``fact_field`` of the fact bound at ``depth``."""
        if (depth, fact_field) not in self._names:
            base = f"x{depth}_{fact_field}" if fact_field.isidentifier() else f"x{depth}_"
            name, n = base, 0
            while name in self._taken or not name.isidentifier():
                n += 1
                name = f"{base}_{n}"
            self._taken.add(name)
            self._names[(depth, fact_field)] = name
        return self._names[(depth, fact_field)]

    def block(self, block: _Block, indent: str, read: frozenset[tuple[int, str]]) -> None:
        for depth, fact_field in block.reads:
            self.lines.append(
                f"{indent}{self.name(depth, fact_field)} = x{depth}.get({fact_field!r})"
            )
        read = read | frozenset(block.reads)
        for node in block.nodes:
            if isinstance(node, _Loop):
                self.lines.append(f"{indent}for x{node.depth} in {self.group(node.key)}:")
                # durable_rules never binds one fact twice in a match
                if node.distinct:
                    same = " or ".join(f"x{node.depth} is x{d}" for d in node.distinct)
                    self.lines += [f"{indent}    if {same}:", f"{indent}        continue"]
                self.block(node.body, indent + "    ", read)
            elif isinstance(node, _If):
                tests = " and ".join(self.test(atom, node.depth, read) for atom in node.atoms)
                self.lines.append(f"{indent}if {tests}:")
                self.block(node.body, indent + "    ", read)
            else:
                self.fire(node, indent)

    def fire(self, node: _Fire, indent: str) -> None:
        rule = node.rule
        bindings = ", ".join(f"({a.name!r}, x{node.depth[a.name]}[KEY])" for a in rule.aliases)
        self.lines += [
            f"{indent}# {rule.id} #{node.n}  ({str(rule.loc)!r})",
            f"{indent}add(new(Firing, ({rule.id!r}, ({bindings},))))",
        ]

    def test(self, atom: Atom, depth: Mapping[str, int], read: frozenset[tuple[int, str]]) -> str:
        """The atom as ``atom_source`` means it, over the fields read once where there are."""
        left, got = self.value(atom.left, depth, read)
        if atom.op == "present":
            return f"{got} is not None"
        if atom.op == "missing":
            return f"{got} is None"
        if atom.op == "in":
            return f"{got} in {tuple(atom.options)!r}"
        symbol = SYMBOLS[atom.op]
        right = atom.right
        first = got if left else f"(_v := {got})"
        left = left or "_v"
        if isinstance(right, Const):
            if atom.op == "eq" and right.value is not None:  # a missing value equals no constant
                return f"{got} == {right.value!r}"
            return f"({first} is not None and {left} {symbol} {right.value!r})"
        assert isinstance(right, FieldRef)
        other, got_other = self.value(right, depth, read)
        second = got_other if other else f"(_w := {got_other})"
        other = other or "_w"
        return f"({first} is not None and {second} is not None and {left} {symbol} {other})"

    def value(
        self, ref: FieldRef, depth: Mapping[str, int], read: frozenset[tuple[int, str]]
    ) -> tuple[str, str]:
        """The variable holding the field's value if it was read once ("" if not), and the
        expression that gives the value."""
        d = depth[ref.alias]
        if (d, ref.fact_field) in read:
            name = self.name(d, ref.fact_field)
            return name, name
        return "", f"x{d}.get({ref.fact_field!r})"


def _sub_field(fact_type: str) -> str:
    """The field naming a fact's group within its type (as the durable ruleset tests it)."""
    return "name" if fact_type == "issue" else "kind"


def _grouping_source(groups: Mapping[GroupKey, str]) -> list[str]:
    """The loop putting each fact of the round in the groups the round's loops go over."""
    by_type: dict[str, dict[str | None, str]] = {}
    for (fact_type, sub), name in groups.items():
        by_type.setdefault(fact_type, {})[sub] = name
    lines = [f"    {name} = []" for name in groups.values()]
    lines += ["    for fact in facts:", "        fact_type = fact[TYPE]"]
    # the types a case has many facts of first: the fewest tests for most facts
    ordered = sorted(by_type.items(), key=lambda item: item[0] in SINGLETONS)
    for n, (fact_type, subs) in enumerate(ordered):
        lines.append(f"        {'elif' if n else 'if'} fact_type == {fact_type!r}:")
        if None in subs:
            lines.append(f"            {subs[None]}.append(fact)")
        named = [(sub, name) for sub, name in subs.items() if sub is not None]
        if named:
            lines.append(f"            sub = fact.get({_sub_field(fact_type)!r})")
        for m, (sub, name) in enumerate(named):
            lines.append(f"            {'elif' if m else 'if'} sub == {sub!r}:")
            lines.append(f"                {name}.append(fact)")
    return lines


def python_source(program: Program, stratum: int) -> str:
    """The generated Python of one round: a function ``round_<stratum>(facts, fired)``."""
    alternatives = [
        (rule, n, atoms)
        for rule in program.rules
        if rule.stratum == stratum
        for n, atoms in enumerate(rule.alternatives)
    ]
    paths = [_path(order, *alternative) for order, alternative in enumerate(alternatives)]
    root = _tree(paths, ())
    _place_reads(root)
    writer = _Writer()
    writer.block(root, "    ", frozenset())
    # a firing is made as tuple.__new__ makes it, without the Python call of Firing(...)
    lines = [
        f"def round_{stratum}(facts, fired):",
        "    add = fired.add",
        "    new = tuple.__new__",
    ]
    lines += _grouping_source(writer.groups) if writer.groups else []
    lines += [*writer.lines, "    return fired"]
    return "\n".join(lines) + "\n"


Round = Callable[[Iterable[Fact], set[Firing]], set[Firing]]


def _compile(program: Program, stratum: int) -> Round:
    source = python_source(program, stratum)
    names = {"Firing": Firing, "KEY": KEY, "TYPE": TYPE, "tuple": tuple}
    namespace: dict[str, Any] = {**names, "__builtins__": {}}
    code = compile(source, f"<rules {program.name} round {stratum}>", "exec")
    exec(code, namespace)  # noqa: S102 - our own generated source; constants only via repr
    function: Round = namespace[f"round_{stratum}"]
    return function


class ReferenceEvaluator:
    """Evaluates one round of a case's facts; stateless, so one instance serves every case."""

    name = "reference"

    def __init__(self, program: Program) -> None:
        self.program = program
        self._rounds = {stratum: _compile(program, stratum) for stratum in range(program.strata)}

    def run(self, stratum: int, facts: Iterable[Fact]) -> set[Firing]:
        return self._rounds[stratum](facts, set())
