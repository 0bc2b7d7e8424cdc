"""The quick paths of the decision mean what the plain ones do.

A Decider works out once, from the rules, what each rule's firing says of the items it targets,
and keeps the findings (of items, of issues) it has made to give them again to the next case
that has them. Here a ruling from a Decider that has decided many cases is compared with one
from a Decider that has decided none, and each item's finding with its definition written out
plainly; findings whose texts quote parameters, or whose numbers are equal but written
differently, are never shared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path

from batchdata import archive_cases
from conftest import CASEFILES, golden_cases

from engine import Program, Scorer, load_rules
from engine.cases.load import load_case
from engine.cases.redate import redated
from engine.model import Case, Firing
from engine.rules.program import Text
from engine.ruling import EvidenceFinding, ReadFinding, Reason, ruling_json
from engine.run.decide import Decider
from engine.run.facts import FactPlan, Prepared
from engine.run.params import policy_timezone
from engine.run.readings import read_min
from engine.run.results import EvidenceStatus, IssueResult

WEBP_FROM_2027 = (
    "parameters.yaml",
    '        source: "seed 004: 淘宝系统支持多种格式的证据上传，包括JPG、PNG、PDF等"\n',
    '        source: "seed 004: 淘宝系统支持多种格式的证据上传，包括JPG、PNG、PDF等"\n'
    "      - {since: 2027-01-01, value: [jpg, jpeg, png, pdf, webp], source: change}\n",
)
COURIER_UNMET = (
    "evidence/kinds.yaml",
    "        en: the receipt was not issued by the courier that shipped the order\n",
    '        en: "the receipt is not the courier\'s (files: {param.accepted_file_types})"\n',
)


def _cases(program: Program) -> list[Case]:
    return [load_case(path) for path in golden_cases()] + archive_cases(program, 600, seed=31)


def _quoted(reason: Reason, prepared: Prepared) -> Reason:
    text = prepared.params.quote(Text(zh=reason.zh, en=reason.en))
    return Reason(rule=reason.rule, zh=text.zh, en=text.en)


def _plain_findings(
    program: Program,
    plan: FactPlan,
    prepared: Prepared,
    firings: Iterable[Firing],
    statuses: Mapping[str, EvidenceStatus],
    issues: tuple[IssueResult, ...],
) -> tuple[EvidenceFinding, ...]:
    """Each item's finding as the rules define it, effect by effect, firing by firing."""
    rules = {rule.id: rule for rule in program.rules}
    unmet_texts = {req.id: req.unmet for req in program.requirements}
    kinds = {kind.name: kind for kind in program.evidence_kinds}
    ordered = sorted(set(firings), key=lambda f: (rules[f.rule_id].index, f.bindings))
    in_play = {r.issue for r in issues}
    reasons: dict[str, list[Reason]] = {item.id: [] for item in prepared.case.evidence}
    met: dict[str, set[str]] = {}
    weights: dict[str, Decimal] = {}
    for firing in ordered:
        rule = rules[firing.rule_id]
        for effect in rule.effects:
            if effect.target is None:
                continue
            key = firing.key_of(effect.target) or ""
            reason = _quoted(Reason(rule=rule.id, zh=rule.reason.zh, en=rule.reason.en), prepared)
            if reason not in reasons[key]:
                reasons[key].append(reason)
            if effect.kind == "meets":
                met.setdefault(key, set()).update(effect.requirements)
            if effect.kind in ("supports", "opposes") and effect.issue in in_play:
                value = plan.evaluate(effect.weight, prepared.env) if effect.weight else 0
                weight = value if isinstance(value, Decimal) else Decimal(value or 0)
                weights[key] = max(weights.get(key, Decimal(0)), weight)
    lowest = min((r.lower_bound for r in issues), default=Decimal(0))
    out = []
    for item in prepared.case.evidence:
        status = statuses[item.id]
        kind = kinds.get(item.kind)
        unmet = [
            _quoted(Reason(rule=rid, zh=unmet_texts[rid].zh, en=unmet_texts[rid].en), prepared)
            for rid in (kind.requirements if kind is not None else ())
            if rid not in met.get(item.id, set())
        ]
        weight = weights.get(item.id, Decimal(0))
        if status.unconfirmed:
            weight = min(weight, lowest)
        elif not status.valid:
            weight = Decimal(0)
        minimum = read_min(prepared.params.values)
        out.append(
            EvidenceFinding(
                id=item.id,
                admitted=status.admitted,
                valid=status.valid,
                weight=weight.quantize(Decimal("0.0001")),
                reasons=(*unmet, *reasons[item.id]),
                read=tuple(
                    ReadFinding(
                        attribute=r.name,
                        value=r.value,
                        file=r.file,
                        confidence=r.confidence,
                        counted=Decimal(str(r.confidence)) >= minimum,
                    )
                    for r in item.read
                ),
                unconfirmed=status.unconfirmed,
            )
        )
    return tuple(out)


def test_a_decider_that_has_decided_many_cases_decides_as_a_new_one(
    program: Program, scorers: dict[str, Scorer]
) -> None:
    scorer = scorers["reference"]
    compared = 0
    for case in _cases(program):
        try:
            scored = scorer.score(case)
        except Exception:  # noqa: BLE001 - cases the rules give no ruling for are not compared
            continue
        prepared = scored.prepared
        fresh = Decider(scorer.plan)
        statuses = fresh.statuses(prepared, scored.firings)
        again = fresh.ruling(prepared, scored.firings, statuses, scored.issues)
        assert repr(again) == repr(scored.ruling), case.case_id
        assert ruling_json(again) == ruling_json(scored.ruling)
        plain = _plain_findings(
            program, scorer.plan, prepared, scored.firings, statuses, scored.issues
        )
        assert repr(plain) == repr(scored.ruling.evidence), case.case_id
        compared += 1
    assert compared > 300


def test_equal_numbers_written_differently_do_not_share_a_finding(
    scorers: dict[str, Scorer],
) -> None:
    scorer = scorers["reference"]
    scored = scorer.score(load_case(CASEFILES / "receipt-wrong-courier.yaml"))
    decider, prepared = scorer.decider, scored.prepared
    item = prepared.case.evidence[0]
    status = EvidenceStatus(admitted=True, valid=True)
    weights = [decider._finding(prepared, item, status, Decimal(w), ()).weight for w in "00"]
    signed = decider._finding(prepared, item, status, Decimal("-0"), ()).weight
    assert [repr(w) for w in (*weights, signed)] == [
        "Decimal('0.0000')", "Decimal('0.0000')", "Decimal('-0.0000')"
    ]  # fmt: skip
    findings = [
        decider._issue_finding(_issue(Decimal(standard), Decimal(score)))
        for standard, score in (("0.7", "0"), ("0.70", "0"), ("0.7", "-0"), ("0.7", "0"))
    ]
    assert [(str(f.standard), str(f.score)) for f in findings] == [
        ("0.7", "0.0000"), ("0.70", "0.0000"), ("0.7", "-0.0000"), ("0.7", "0.0000")
    ]  # fmt: skip
    assert findings[3] is findings[0]  # the same numbers, written alike: made once


def _issue(standard: Decimal, score: Decimal) -> IssueResult:
    return IssueResult(
        issue="delivered", burden="seller", standard=standard, lower_bound=Decimal("0.3"),
        margin=Decimal("0.1"), score=score, against=Decimal(0), status="not_proven",
        supporting=(), opposing=(),
    )  # fmt: skip


def test_an_unmet_requirement_says_the_value_in_force_for_each_case(
    rules_copy: Callable[..., Path],
) -> None:
    program = load_rules(rules_copy(COURIER_UNMET, WEBP_FROM_2027))
    case = load_case(CASEFILES / "receipt-wrong-courier.yaml")
    later = redated(case, "2027-02-01", policy_timezone(program))
    scorer = Scorer(program, "reference")
    said = {
        when: [
            r.en
            for e in scorer.score(c).ruling.evidence
            for r in e.reasons
            if r.rule == "receipt-courier"
        ]
        for when, c in (("2024", case), ("2027", later), ("2024 again", case))
    }
    assert said == {
        "2024": ["the receipt is not the courier's (files: jpg, jpeg, png, pdf)"],
        "2027": ["the receipt is not the courier's (files: jpg, jpeg, png, pdf, webp)"],
        "2024 again": ["the receipt is not the courier's (files: jpg, jpeg, png, pdf)"],
    }
