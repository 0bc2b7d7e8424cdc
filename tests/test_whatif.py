"""What would change a ruling: hypothetical evidence built from the rules, kept only when a
re-score really changes the ruling; failed requirements of admitted items and their fixes."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from conftest import CASEFILES, ROOT, RULES, golden_cases

from engine import Program, Scorer, load_rules
from engine.cases.load import load_case
from engine.explain.whatif import WhatIf, what_would_change
from engine.model import Evidence

REPORT_CASES = ROOT / "tests" / "data" / "reports"


def _whatif(scorer: Scorer, path: Path) -> tuple[str, WhatIf]:
    scored = scorer.score(load_case(path))
    return scored.ruling.ruling, what_would_change(scorer, scored)


def test_a_seller_who_lost_is_shown_the_receipt_that_would_have_won(
    scorers: dict[str, Scorer],
) -> None:
    ruling, whatif = _whatif(scorers["reference"], CASEFILES / "receipt-wrong-courier.yaml")
    assert ruling == "refund"
    by_kind = {m.kind: m for m in whatif.missing}
    receipt = by_kind["signed_receipt"]
    assert receipt.party == "seller" and receipt.issue == "delivered" and receipt.side == "supports"
    # every value read from the rules' atoms: issuer == order.courier, same_name(signer,
    # recipient), copy_no == 1; the tracking number may be missing, so it is left out
    assert dict(receipt.attributes) == {"issuer": "韵达快递", "signer_name": "李娜", "copy_no": 1}
    assert receipt.submitted_at.isoformat() == "2024-03-13T09:00:00+08:00"  # the seller's deadline
    copy = next(step for step in receipt.steps if step.requirement == "receipt-copy")
    assert (copy.rule, copy.alternatives) == ("receipt-first-copy", ("receipt-red-stamped-copy",))
    assert receipt.outcome.ruling == "pay_seller"
    assert by_kind["carrier_certificate"].outcome.ruling == "pay_seller"
    # tracking alone is inconclusive: it would only make the engine ask the buyer
    assert by_kind["logistics_tracking"].outcome.ruling == "request_evidence"


def test_an_admitted_invalid_item_reports_the_requirement_it_failed_and_its_fix(
    scorers: dict[str, Scorer],
) -> None:
    _, whatif = _whatif(scorers["reference"], CASEFILES / "receipt-wrong-courier.yaml")
    (item,) = whatif.invalid
    assert (item.evidence, item.failed) == ("E2", ("receipt-courier",))
    (fix,) = item.fixes
    assert fix.possible and fix.valid
    changes = [(c.attribute, c.old, c.new) for c in fix.changes]
    assert changes == [("issuer", "圆通速递", "韵达快递")]
    assert fix.outcome is not None and fix.outcome.ruling == "pay_seller"


def test_photos_need_both_views_and_a_report_needs_accreditation(
    scorers: dict[str, Scorer],
) -> None:
    ruling, whatif = _whatif(scorers["reference"], REPORT_CASES / "quality-one-view-photos.yaml")
    assert ruling == "pay_seller"
    photos = next(m for m in whatif.missing if m.kind == "product_photos")
    assert dict(photos.attributes) == {"shows": "defect", "views": ("panorama", "closeup")}
    assert photos.party == "buyer" and photos.outcome.ruling == "return_and_refund"
    (item,) = whatif.invalid
    assert item.failed == ("report-accredited",)
    assert item.fixes[0].changes[0].attribute == "accredited"
    assert item.fixes[0].outcome is not None
    assert item.fixes[0].outcome.ruling == "return_and_refund"


def test_nothing_is_shown_when_nothing_flips(scorers: dict[str, Scorer]) -> None:
    for name in ("gate-no-refusal-71h59m.yaml", "not-received-valid-receipt.yaml"):
        _, whatif = _whatif(scorers["reference"], CASEFILES / name)
        assert whatif == WhatIf(), name
    _, whatif = _whatif(scorers["reference"], REPORT_CASES / "appeal-late.yaml")
    assert whatif == WhatIf()


def test_an_appeal_without_new_evidence_could_have_brought_some(
    scorers: dict[str, Scorer],
) -> None:
    case = load_case(REPORT_CASES / "appeal-late.yaml")
    appeal = case.dispute.appeal
    assert appeal is not None
    in_time = dataclasses.replace(appeal, filed_at=appeal.ruled_at.replace(hour=12))
    early = dataclasses.replace(case.evidence[0], submitted_at=appeal.ruled_at.replace(hour=9))
    case = dataclasses.replace(
        case, dispute=dataclasses.replace(case.dispute, appeal=in_time), evidence=(early,)
    )
    scorer = scorers["reference"]
    scored = scorer.score(case)
    assert scored.ruling.reason_code == "appeal-no-new-evidence"
    missing = what_would_change(scorer, scored).missing
    assert missing and all(m.submitted_at == in_time.filed_at for m in missing)
    assert {m.outcome.ruling for m in missing} >= {"pay_seller"}


@pytest.mark.parametrize("path", golden_cases(), ids=lambda p: p.stem)
def test_every_finding_really_changes_the_ruling(path: Path, scorers: dict[str, Scorer]) -> None:
    """Re-check each hypothetical independently: admitted, valid, and the ruling differs."""
    scorer = scorers["reference"]
    case = load_case(path)
    before = scorer.score(case).ruling
    whatif = what_would_change(scorer, scorer.score(case))
    for found in whatif.missing:
        item = Evidence(
            id="check",
            party=found.party,
            kind=found.kind,
            submitted_at=found.submitted_at,
            attributes=found.attributes,
        )
        after = scorer.score(dataclasses.replace(case, evidence=(*case.evidence, item))).ruling
        finding = next(e for e in after.evidence if e.id == "check")
        assert finding.admitted and finding.valid, found
        assert after.ruling == found.outcome.ruling != before.ruling
    for item in whatif.invalid:
        for fix in item.fixes:
            assert fix.outcome is None or fix.outcome.ruling != before.ruling


def test_the_engines_find_the_same_changes(scorers: dict[str, Scorer]) -> None:
    for path in [CASEFILES / "receipt-wrong-courier.yaml", REPORT_CASES / "hostile-text.yaml"]:
        results = {name: _whatif(scorer, path) for name, scorer in scorers.items()}
        assert results["durable"] == results["reference"]


def test_nothing_about_kinds_is_written_in_python(tmp_path: Path) -> None:
    """Rename an evidence kind everywhere in a copy of rules/: the search follows the rules."""
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    for path in rules.rglob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("signed_receipt", "delivery_slip"), encoding="utf-8")
    program: Program = load_rules(rules)
    scorer = Scorer(program, "reference")
    case = load_case(CASEFILES / "seller-no-evidence.yaml")
    whatif = what_would_change(scorer, scorer.score(case))
    slip = next(m for m in whatif.missing if m.kind == "delivery_slip")
    assert slip.outcome.ruling == "pay_seller"
