"""Texts that quote parameters: a reason says the value in force for the case, so it never goes
stale when the value changes from a date; a quote of no parameter is a located error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import CASEFILES

from engine import RuleFileError, Scorer, load_rules
from engine.cases.load import load_case
from engine.cases.redate import redated
from engine.explain.render import render_summary
from engine.run.params import policy_timezone

FORMAT_REASON = (
    "      zh: 证据附件的格式不在 JPG、JPEG、PNG、PDF 之列，不予采纳。\n"
    "      en: A file of this item is not JPG, JPEG, PNG or PDF; the item is not admitted."
)
QUOTING = (
    "      zh: 证据附件的格式不在 {param.accepted_file_types} 之列，不予采纳。\n"
    '      en: "A file of this item is not one of {param.accepted_file_types}; not admitted."'
)
WEBP_FROM_2027 = (
    "parameters.yaml",
    '        source: "seed 004: 淘宝系统支持多种格式的证据上传，包括JPG、PNG、PDF等"\n',
    '        source: "seed 004: 淘宝系统支持多种格式的证据上传，包括JPG、PNG、PDF等"\n'
    "      - {since: 2027-01-01, value: [jpg, jpeg, png, pdf, webp], source: change}\n",
)


def test_a_reason_says_the_value_in_force_for_each_case(rules_copy: Callable[..., Path]) -> None:
    program = load_rules(
        rules_copy(("evidence/admission.yaml", FORMAT_REASON, QUOTING), WEBP_FROM_2027)
    )
    case = load_case(CASEFILES / "evidence-file-gif-not-admitted.yaml")
    later = redated(case, "2027-02-01", policy_timezone(program))
    for engine in ("reference", "durable"):
        scorer = Scorer(program, engine)  # type: ignore[arg-type]
        said = {
            when: next(
                r.en
                for e in scorer.score(c).ruling.evidence
                for r in e.reasons
                if r.rule == "evidence-file-format"
            )
            for when, c in (("2024", case), ("2027", later))
        }
        assert said == {
            "2024": "A file of this item is not one of jpg, jpeg, png, pdf; not admitted.",
            "2027": "A file of this item is not one of jpg, jpeg, png, pdf, webp; not admitted.",
        }


def test_the_summary_quotes_the_deciding_rule_s_parameters(
    rules_copy: Callable[..., Path],
) -> None:
    program = load_rules(
        rules_copy(
            (
                "disputes/late_shipment.yaml",
                "      en: The seller shipped after the deadline; compensation is a share of the "
                "amount paid, between the minimum and the maximum in force.",
                "      en: The seller shipped late; compensation is {param.late_shipment_rate} "
                "of the amount, at most {param.late_shipment_max}.",
            )
        )
    )
    scored = Scorer(program, "reference").score(
        load_case(CASEFILES / "late-shipment-half-up-rounding.yaml")
    )
    text = render_summary(scored.ruling, program, "en", params=scored.prepared.params)
    assert "compensation is 0.05 of the amount, at most 50.00." in text


def test_a_quote_of_no_parameter_is_a_located_error(rules_copy: Callable[..., Path]) -> None:
    root = rules_copy(
        ("evidence/admission.yaml", FORMAT_REASON, QUOTING.replace("file_types}", "file_type}"))
    )
    with pytest.raises(RuleFileError) as caught:
        load_rules(root)
    assert str(caught.value).replace(str(root), "rules") == (
        "rules/evidence/admission.yaml:35:21: the text quotes '{param.accepted_file_type}', but "
        "there is no parameter 'accepted_file_type'\n"
        "    zh: 证据附件的格式不在 {param.accepted_file_type} 之列，不予采纳。\n"
        "                  ^ did you mean 'accepted_file_types'?"
    )
