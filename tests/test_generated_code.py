"""The generated per-Program code means what the rules say.

Derived values and facts are computed by Python generated from the Program
(``engine.run.derivedcode``, ``engine.run.factcode``). Here every derived value of every case is
also worked out the slow way, from the rules' meaning as ``engine.run.values`` (value
expressions) and ``engine.rules.semantics`` (conditions) spell it out, and the two must agree:
on the sample cases and on a generated archive that exercises every dispute type and evidence
kind, with appeals, missing fields and odd values.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from batchdata import case_lines
from conftest import golden_cases

from engine import Program, Scorer
from engine.cases.load import load_case, parse_jsonl_line
from engine.errors import CaseFileError
from engine.model import Case
from engine.rules.program import KEY, TYPE, Atom, Const, Derived, Expr, FieldRef, Type
from engine.rules.schema import SINGLETONS
from engine.rules.semantics import holds, to_fact_value
from engine.run.derivedcode import compile_rounds, python_source
from engine.run.facts import prepare
from engine.run.values import compile_value


def _expected_derived(scorer: Scorer, case: Case) -> dict[str, Any]:
    """Every derived value of round 0 and 1, by the interpretive meaning (statuses as scored)."""
    scored = scorer.score(case)
    prepared = prepare(scorer.plan, case)  # fresh: derived values of round 0 only
    env = {name: dict(values) for name, values in prepared.env.items()}
    case_env = {"case_id": case.case_id, "platform": case.platform}
    env["case"] = case_env
    singletons = {name: {TYPE: name, KEY: name} for name in SINGLETONS}
    singletons.update({k: dict(v) for k, v in prepared.singletons.items()})
    case_fact = {TYPE: "case", KEY: "case"}
    singletons["case"] = case_fact
    statuses = scorer.decider.statuses(prepared, scored.firings)
    for stratum in range(scorer.program.strata):
        for item in (d for d in scorer.program.derived if d.stratum == stratum):
            bound = dict(singletons)
            if item.expr is not None:
                value = compile_value(item.expr)(env) if holds(item.where, bound) else None
            else:
                count, values = 0, []
                for fact, domain in zip(prepared.evidence, prepared.evidence_env, strict=True):
                    status = statuses.get(fact[KEY]) if stratum > 0 else None
                    if status is not None:
                        fact = {**fact, "admitted": status.admitted, "valid": status.valid}
                    if not holds(item.where, {**bound, "evidence": fact}):
                        continue
                    count += 1
                    if item.of is not None:
                        one = compile_value(item.of)({**env, "evidence": domain})
                        if one is not None:
                            values.append(one)
                if item.aggregate == "count":
                    value = count
                elif not values:
                    value = None
                else:
                    value = max(values) if item.aggregate == "latest" else min(values)
            if value is not None:
                case_env[item.name] = value
                case_fact[item.name] = to_fact_value(value, item.type)
    return case_env


def _cases(program: Program) -> list[Case]:
    cases = [load_case(path) for path in golden_cases()]
    fields = program.declared_fields()
    for n, line in enumerate(case_lines(1500, seed=19, invalid_rate=0.0)):
        try:
            parsed = parse_jsonl_line(line.encode(), source="archive", line=n + 1, fields=fields)
        except CaseFileError:
            continue
        cases.append(parsed)
    return cases


@pytest.fixture(scope="module")
def cases(program: Program) -> list[Case]:
    return _cases(program)


def test_generated_derived_values_equal_their_meaning(
    scorers: dict[str, Scorer], cases: list[Case]
) -> None:
    scorer = scorers["reference"]
    assert len(cases) > 1000
    for case in cases:
        scored = scorer.score(case)
        assert scored.prepared.env["case"] == _expected_derived(scorer, case), case.case_id


def test_the_generated_source_names_constants_and_reads_like_the_rules(program: Program) -> None:
    source, constants = python_source(program, 0, frozenset())
    for item in (d for d in program.derived if d.stratum == 0):
        assert f"# {item.name}  (" in source
    assert all(name.startswith("_k") for name in constants)
    assert "import" not in source


@pytest.mark.parametrize(
    ("op", "a", "b", "expected"),
    [
        ("mul", Decimal("0.05"), Decimal("199.00"), Decimal("9.9500")),
        ("mul", timedelta(hours=2), Decimal("1.5"), timedelta(hours=3)),
        ("div", Decimal("1"), Decimal("0"), None),
        ("sub", Decimal("3"), 1, Decimal("2")),
        ("add", None, Decimal("1"), None),
    ],
)
def test_value_expressions_of_every_operation(op: str, a: Any, b: Any, expected: Any) -> None:
    number = Type("number")
    expr = Expr(
        op=op,
        type=number,
        args=(
            Expr(op="const", type=_type_of(a), value=a),
            Expr(op="const", type=_type_of(b), value=b),
        ),
    )
    assert compile_value(expr)({}) == expected


def _type_of(value: Any) -> Type:
    return Type("duration") if isinstance(value, timedelta) else Type("number")


@pytest.mark.parametrize("function", ["min", "max"])
def test_the_least_and_greatest_time_are_those_the_builtins_pick(
    program: Program, function: str
) -> None:
    """Of equal times (the same instant at two offsets) the first present one, as min and max
    of the present values give it; None when none is present."""
    time = Type("time")
    names = ("paid_at", "shipped_at", "delivered_at")
    refs = tuple(Expr(op="ref", type=time, value=FieldRef("order", name)) for name in names)
    expr = Expr(op="call", type=time, value=function, args=refs)
    item = Derived(name="picked", type=time, expr=expr, loc=program.derived[0].loc)
    run = compile_rounds(replace(program, derived=(item,)), frozenset())[0]
    at8 = datetime(2024, 5, 1, 10, tzinfo=timezone(timedelta(hours=8)))
    same = at8.astimezone(UTC)
    options = [None, at8, same, at8 + timedelta(hours=1), at8 - timedelta(seconds=1)]
    for values in itertools.product(options, repeat=3):
        env: dict[str, Any] = {"case": {}, "order": dict(zip(names, values, strict=True))}
        run(env, {}, {}, [], [], {})
        present = [v for v in values if v is not None]
        expected = (min if function == "min" else max)(present) if present else None
        assert env["case"].get("picked") is expected, values


def _ref(alias: str, field: str) -> FieldRef:
    return FieldRef(alias, field)


# conditions of an aggregate over the evidence items, with values besides the item's
WHERES: list[tuple[tuple[Atom, ...], ...]] = [
    ((Atom(op="ge", left=_ref("evidence", "t"), right=_ref("dispute", "t")),),),
    ((Atom(op="le", left=_ref("dispute", "t"), right=_ref("evidence", "t")),),),
    ((Atom(op="present", left=_ref("appeal", "t")), Atom(op="eq", left=_ref("evidence", "p"),
      right=Const("buyer"))),),
    ((Atom(op="missing", left=_ref("appeal", "t")),),),
    ((Atom(op="in", left=_ref("dispute", "t"), options=(3, 1)),),),
    ((Atom(op="lt", left=_ref("dispute", "t"), right=Const(5)),),
     (Atom(op="gt", left=_ref("evidence", "t"), right=_ref("case", "t")),)),
    ((Atom(op="lt", left=_ref("dispute", "t"), right=Const(5)),), ()),
    ((Atom(op="eq", left=_ref("dispute", "t"), right=_ref("appeal", "t")),
      Atom(op="ne", left=_ref("evidence", "t"), right=_ref("dispute", "t"))),),
]  # fmt: skip


@pytest.mark.parametrize("where", WHERES, ids=str)
def test_an_aggregate_counts_the_items_its_condition_holds_for(
    program: Program, where: tuple[tuple[Atom, ...], ...]
) -> None:
    """Whether the values besides the items' are there or not (the loop is then skipped)."""
    item = Derived(
        name="counted", type=Type("integer"), expr=None, aggregate="count", where=where,
        loc=program.derived[0].loc,
    )  # fmt: skip
    run = compile_rounds(replace(program, derived=(item,)), frozenset({"counted"}))[0]
    values = [None, 3, 4, 7]
    for d, a, c in itertools.product(values, repeat=3):
        singletons = {
            name: {TYPE: name, KEY: name, **({"t": v} if v is not None else {})}
            for name, v in (("dispute", d), ("appeal", a), ("case", c))
        }
        evidence = [
            {TYPE: "evidence", KEY: f"E{n}", "p": p, **({"t": t} if t is not None else {})}
            for n, (p, t) in enumerate(itertools.product(("buyer", "seller"), values))
        ]
        f_case = dict(singletons["case"])
        env: dict[str, Any] = {"case": {}}
        run(env, f_case, singletons, evidence, [{} for _ in evidence], {})
        expected = sum(holds(where, {**singletons, "evidence": fact}) for fact in evidence)
        assert f_case["counted"] == expected, (d, a, c)
        assert run(env, dict(singletons["case"]), singletons, [], [], {}) is None
