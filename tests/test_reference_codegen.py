"""The reference evaluator's generated rounds fire what the rules' alternatives mean.

The rounds share loops, tests and field reads between rules (``engine.compile.reference``). Here
every round is also evaluated the straightforward way: each alternative of each rule on its own,
over every binding of its aliases to the facts of their groups (no fact bound twice), its atoms
tested as ``atom_source`` writes them. Both must give the same firings on the facts of the
sample cases and of a generated archive, and on the same facts made odd: two facts of a type
the case has one of, fields missing or None, facts of two cases in one round.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from batchdata import case_lines
from conftest import golden_cases

from engine import Program, Scorer
from engine.cases.load import load_case, parse_jsonl_line
from engine.compile.reference import ReferenceEvaluator, condition_source, python_source
from engine.errors import CaseFileError
from engine.model import Firing
from engine.rules.program import KEY, TYPE
from engine.rules.schema import SINGLETONS

Fact = Mapping[str, Any]
Round = tuple[int, tuple[Fact, ...]]


def _straightforward(program: Program, stratum: int, facts: tuple[Fact, ...]) -> set[Firing]:
    """Every rule alternative on its own, over every binding: what a round means."""
    groups: dict[tuple[str, str | None], list[Fact]] = {}
    for fact in facts:
        groups.setdefault((fact[TYPE], None), []).append(fact)
        sub = fact.get("name") if fact[TYPE] == "issue" else fact.get("kind")
        if sub is not None:
            groups.setdefault((fact[TYPE], sub), []).append(fact)
    fired: set[Firing] = set()
    for rule in (r for r in program.rules if r.stratum == stratum):
        names = [alias.name for alias in rule.aliases]
        var = {name: f"x{i}" for i, name in enumerate(names)}
        for atoms in rule.alternatives:
            test = compile(condition_source((atoms,), var), "<alternative>", "eval")
            candidates = [groups.get((a.fact_type, a.kind), []) for a in rule.aliases]
            for binding in itertools.product(*candidates):
                if len({id(fact) for fact in binding}) < len(binding):
                    continue  # durable_rules never binds one fact to two aliases
                if eval(test, {}, dict(zip(var.values(), binding, strict=True))):  # noqa: S307
                    keys = tuple((n, f[KEY]) for n, f in zip(names, binding, strict=True))
                    fired.add(Firing(rule.id, keys))
    return fired


def _rounds(program: Program) -> list[Round]:
    scorer = Scorer(program, "reference")
    cases = [load_case(path, fields=program.declared_fields()) for path in golden_cases()]
    for n, line in enumerate(case_lines(150, seed=11)):
        try:
            cases.append(parse_jsonl_line(line.encode(), source="gen", line=n + 1))
        except CaseFileError:
            continue
    rounds = []
    for case in cases:
        try:
            scored = scorer.score(case)
        except Exception:  # noqa: BLE001 - a case the policy does not take: no rounds to check
            continue
        rounds += [(r.stratum, r.facts) for r in scored.rounds]
    return rounds


@pytest.fixture(scope="module")
def rounds(program: Program) -> list[Round]:
    found = _rounds(program)
    assert len(found) > 300
    return found


def _odd(rounds: list[Round], rnd: random.Random) -> Iterator[Round]:
    """The rounds made odd: a second fact of a single type, fields gone or None, two cases."""
    values: dict[tuple[str, str], list[Any]] = {}
    for _, facts in rounds:
        for fact in facts:
            for name, value in fact.items():
                values.setdefault((fact[TYPE], name), []).append(value)
    by_stratum: dict[int, list[tuple[Fact, ...]]] = {}
    for stratum, facts in rounds:
        by_stratum.setdefault(stratum, []).append(facts)
    for n, (stratum, facts) in enumerate(rounds):
        odd = [dict(fact) for fact in facts]
        for fact in [f for f in odd if f[TYPE] in SINGLETONS]:  # a twin, with values of others
            twin = {**fact, KEY: f"{fact[KEY]}-twin"}
            for name in [k for k in twin if k not in (TYPE, KEY, "kind", "name")]:
                if rnd.random() < 0.5:
                    twin[name] = rnd.choice(values[(twin[TYPE], name)])
            odd.append(twin)
        for fact in odd:  # fields missing or None
            for name in [k for k in fact if k not in (TYPE, KEY)]:
                chance = rnd.random()
                if chance < 0.15:
                    del fact[name]
                elif chance < 0.3:
                    fact[name] = None
        yield stratum, tuple(odd)
        if n % 5 == 0:  # two cases' facts in one round, keys kept apart
            other = rnd.choice(by_stratum[stratum])
            yield stratum, (*facts, *({**f, KEY: f"{f[KEY]}-other"} for f in other))


def test_the_rounds_fire_what_the_alternatives_mean(program: Program, rounds: list[Round]) -> None:
    evaluator = ReferenceEvaluator(program)
    fired = 0
    for stratum, facts in rounds:
        got = evaluator.run(stratum, facts)
        assert got == _straightforward(program, stratum, facts), (stratum, facts)
        fired += len(got)
    assert fired > 500


def test_odd_rounds_fire_what_the_alternatives_mean(program: Program, rounds: list[Round]) -> None:
    evaluator = ReferenceEvaluator(program)
    twins = 0
    for stratum, facts in _odd(rounds, random.Random(20)):
        got = evaluator.run(stratum, facts)
        assert got == _straightforward(program, stratum, facts), (stratum, facts)
        twins += sum(any(key.endswith(("-twin", "-other")) for _, key in f.bindings) for f in got)
    assert twins > 100  # the odd facts do fire rules


def _untested(program: Program) -> Program:
    """The program's rules without tests; again with any kind for one alias or all, and with
    the kind of the first alias of each type for all of that type."""
    rules = []
    for rule in program.rules:
        bare = dataclasses.replace(rule, alternatives=((),))
        rules.append(bare)
        for n in range(len(rule.aliases)):
            aliases = [
                dataclasses.replace(a, kind=None) if m == n else a
                for m, a in enumerate(rule.aliases)
            ]
            rules.append(dataclasses.replace(bare, id=f"{rule.id}-any-{n}", aliases=tuple(aliases)))
        aliases = [dataclasses.replace(a, kind=None) for a in rule.aliases]
        rules.append(dataclasses.replace(bare, id=f"{rule.id}-any", aliases=tuple(aliases)))
        first = {a.fact_type: a.kind for a in reversed(rule.aliases)}
        aliases = [dataclasses.replace(a, kind=first[a.fact_type]) for a in rule.aliases]
        rules.append(dataclasses.replace(bare, id=f"{rule.id}-same", aliases=tuple(aliases)))
    return dataclasses.replace(program, rules=tuple(rules))


def test_no_fact_is_bound_to_two_aliases_even_when_nothing_else_is_tested(
    program: Program, rounds: list[Round]
) -> None:
    untested = _untested(program)
    evaluator = ReferenceEvaluator(untested)
    for stratum, facts in list(_odd(rounds, random.Random(3)))[::7]:
        got = evaluator.run(stratum, facts)
        assert got == _straightforward(untested, stratum, facts), (stratum, facts)


def test_a_round_is_python_that_names_every_rule_and_loops_over_each_group_once_at_the_top(
    program: Program,
) -> None:
    for stratum in range(program.strata):
        source = python_source(program, stratum)
        compile(source, "<round>", "exec")
        for rule in (r for r in program.rules if r.stratum == stratum):
            for n in range(len(rule.alternatives)):
                assert f"# {rule.id} #{n}  (" in source
        top = [line for line in source.splitlines() if line.startswith("    for x0 in ")]
        assert top and len(top) == len(set(top))
        assert "import" not in source
