"""Explanation reports: what each audience sees, every outcome, escaping, the CLI, snapshots.

Snapshots live in tests/snapshots/ and are reviewed like code. After a deliberate change of
wording or rules, regenerate them with ``UPDATE_SNAPSHOTS=1 pytest tests/test_report.py`` and
read the diff. The rules' digest is replaced by a placeholder, so that editing any rule file does
not touch every snapshot; the digest itself is checked by test_every_report_names_its_rules.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import CASEFILES, FIXTURE, ROOT

from engine import Program, Scorer
from engine.cases.load import load_case
from engine.cli import main
from engine.explain.context import report_context
from engine.explain.render import render_report
from engine.explain.whatif import what_would_change

REPORT_CASES = ROOT / "tests" / "data" / "reports"
SNAPSHOTS = ROOT / "tests" / "snapshots"
DIGEST_PLACEHOLDER = "sha256:<rules-digest>"

# one case per main outcome
OUTCOMES = {
    "pay_seller": CASEFILES / "not-received-valid-receipt.yaml",
    "refund": CASEFILES / "receipt-wrong-courier.yaml",
    "request_evidence": CASEFILES / "tracking-delivered-buyer-not-asked.yaml",
    "not_admissible": CASEFILES / "gate-no-refusal-71h59m.yaml",
    "compensate": CASEFILES / "late-shipment-half-up-rounding.yaml",
    "withdrawn": CASEFILES / "gate-cancelled-before-review-start.yaml",
    "refer_to_arbitrator": REPORT_CASES / "quality-contested.yaml",
    "appeal_rejected": REPORT_CASES / "appeal-late.yaml",
}
SNAPSHOT_RUNS = [
    (outcome, audience, lang, fmt)
    for outcome in OUTCOMES
    for audience in ("arbitrator",)
    for lang in ("zh", "en")
    for fmt in ("md", "html")
] + [
    ("refund", "buyer", "zh", "md"),
    ("refund", "seller", "en", "html"),
    ("quality", "buyer", "en", "md"),
]
OUTCOMES_AND_MORE = {**OUTCOMES, "quality": REPORT_CASES / "quality-one-view-photos.yaml"}


def _context(program: Program, scorer: Scorer, path: Path, audience: str) -> dict[str, Any]:
    scored = scorer.score(load_case(path))
    return report_context(program, scored, what_would_change(scorer, scored), audience)


def _report(
    program: Program, scorer: Scorer, path: Path, audience: str, lang: str, fmt: str
) -> str:
    return render_report(_context(program, scorer, path, audience), fmt, lang)


@pytest.mark.parametrize("outcome", sorted(OUTCOMES))
def test_each_sample_has_its_outcome(outcome: str, scorers: dict[str, Scorer]) -> None:
    assert scorers["reference"].score(load_case(OUTCOMES[outcome])).ruling.ruling == outcome


@pytest.mark.parametrize(
    ("outcome", "audience", "lang", "fmt"), SNAPSHOT_RUNS, ids=lambda v: str(v)
)
def test_snapshot(
    outcome: str,
    audience: str,
    lang: str,
    fmt: str,
    program: Program,
    scorers: dict[str, Scorer],
) -> None:
    path = OUTCOMES_AND_MORE[outcome]
    text = _report(program, scorers["reference"], path, audience, lang, fmt)
    text = text.replace(program.digest, DIGEST_PLACEHOLDER)
    text = text.replace(f"{FIXTURE}/", "").replace(f"{ROOT}/", "")
    snapshot = SNAPSHOTS / f"{path.stem}.{audience}.{lang}.{fmt}"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not snapshot.exists():
        if os.environ.get("UPDATE_SNAPSHOTS") != "1":
            pytest.fail(f"no snapshot {snapshot.name}: run with UPDATE_SNAPSHOTS=1 and review it")
        snapshot.parent.mkdir(exist_ok=True)
        snapshot.write_text(text, encoding="utf-8")
    expected = snapshot.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"tests/snapshots/{snapshot.name}",
                tofile="rendered now",
            )
        )
        pytest.fail(f"report differs from its snapshot (UPDATE_SNAPSHOTS=1 to accept):\n{diff}")


def test_the_engines_give_the_same_report(program: Program, scorers: dict[str, Scorer]) -> None:
    for path in OUTCOMES_AND_MORE.values():
        reports = {
            name: _report(program, scorer, path, "arbitrator", "en", "md")
            for name, scorer in scorers.items()
        }
        assert reports["durable"] == reports["reference"], path.name


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("audience", ["arbitrator", "buyer", "seller"])
def test_every_report_names_its_rules(
    fmt: str, audience: str, program: Program, scorers: dict[str, Scorer]
) -> None:
    for path in OUTCOMES_AND_MORE.values():
        for lang in ("zh", "en"):
            text = _report(program, scorers["reference"], path, audience, lang, fmt)
            assert program.digest in text, (path.name, lang)
            assert program.version in text and "default" in text  # version and profile


def test_every_golden_case_gets_a_report(program: Program, scorers: dict[str, Scorer]) -> None:
    rulings = set()
    for path in [*sorted(CASEFILES.glob("*.yaml")), *sorted(REPORT_CASES.glob("*.yaml"))]:
        if path.name.endswith(".expected.yaml"):
            continue
        context = _context(program, scorers["reference"], path, "arbitrator")
        rulings.add(context["ruling"]["ruling"])
        for lang in ("zh", "en"):
            html = render_report(context, "html", lang)
            assert html.startswith("<!DOCTYPE html>") and html.endswith("</html>\n")
            assert render_report(context, "md", lang).startswith("# ")
    assert rulings >= set(OUTCOMES)


def test_the_ruling_comes_first_in_one_sentence(
    program: Program, scorers: dict[str, Scorer]
) -> None:
    text = _report(program, scorers["reference"], OUTCOMES["refund"], "arbitrator", "en", "md")
    ruling = text.index("## Recommended ruling")
    headline = "We recommend refunding 129.00 CNY to the buyer, who keeps the goods."
    assert text.index(headline) > ruling
    assert "Score 0; confidence: medium (one attribute of one item would change it)" in text
    assert text.index("## Procedural facts") > text.index("Score 0")
    assert "An appeal may be filed until 2024-03-16 09:00; it must bring new evidence." in text
    text = _report(program, scorers["reference"], OUTCOMES["compensate"], "arbitrator", "zh", "md")
    assert "**建议订单照常履行，卖家赔付买家 6.17 元。**" in text
    assert "卖家发货（首次揽收） (2024-06-06 10:00) 晚于 发货截止 (2024-06-05 08:00)" in text


def test_what_would_change_is_described_from_the_rules(
    program: Program, scorers: dict[str, Scorer]
) -> None:
    text = _report(program, scorers["reference"], OUTCOMES["refund"], "arbitrator", "en", "md")
    assert (
        "- a signed delivery receipt submitted by the seller by 2024-03-13 09:00, with "
        "issuer = 韵达快递, signer = 李娜, copy = 1\n" in text
    )
    assert (
        "  - The receipt is the first copy. `receipt-first-copy` or: The receipt carries the "
        "courier's red stamp. `receipt-red-stamped-copy`\n" in text
    )
    assert (
        "  - Had issuer been 韵达快递 instead of 圆通速递, the item would be valid and the ruling "
        "would be: claim rejected, money released to the seller.\n" in text
    )


def test_a_party_sees_no_internal_scores_or_rule_ids(
    program: Program, scorers: dict[str, Scorer]
) -> None:
    context = _context(program, scorers["reference"], OUTCOMES["refund"], "buyer")
    assert "score" not in context and "trace" not in context and "confidence" not in context
    assert all("weight" not in e for e in context["evidence"])
    assert all("rule" not in reason for e in context["evidence"] for reason in e["reasons"])
    assert all("standard" not in i and "score" not in i for i in context["issues"])
    # a party sees what it could have done itself, not the other side's options
    assert context["whatif"] == {"missing": [], "invalid": []}
    for fmt in ("md", "html"):
        text = _report(program, scorers["reference"], OUTCOMES["refund"], "seller", "en", fmt)
        for internal in ("receipt-first-copy", "not-received-delivery-not-proven", "0.9", "rules/"):
            assert internal not in text, (fmt, internal)
        assert "a signed delivery receipt submitted by the seller" in text


def test_a_request_for_evidence_says_what_is_missing(
    program: Program, scorers: dict[str, Scorer]
) -> None:
    path = OUTCOMES["request_evidence"]
    text = _report(program, scorers["reference"], path, "buyer", "en", "md")
    assert "**No ruling yet: more evidence is needed.**" in text
    assert "Next: the buyer, by 2024-07-19 10:00: The buyer is asked for more evidence" in text
    text = _report(program, scorers["reference"], OUTCOMES["refer_to_arbitrator"], "arbitrator",
                   "en", "md")  # fmt: skip
    assert (
        "Issue “the goods are defective”: the supporting evidence E1 and the opposing evidence "
        "E2 are too close to call." in text
    )


def test_case_file_text_stays_text(program: Program, scorers: dict[str, Scorer]) -> None:
    path = REPORT_CASES / "hostile-text.yaml"
    for lang in ("zh", "en"):
        for audience in ("arbitrator", "buyer"):
            html = _report(program, scorers["reference"], path, audience, lang, "html")
            assert "<script" not in html and "<img" not in html and "<b>" not in html
            assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
            assert "&lt;U+202E&gt;gnp.exe&lt;U+202C&gt;" in html
            assert "\u202e" not in html and "\u2066" not in html
            assert "&#34;quoted&#34; &amp; &#39;single&#39;" in html
            md = _report(program, scorers["reference"], path, audience, lang, "md")
            assert not re.search(r"(?<!\\)<", md) and "\u202e" not in md  # every < escaped
            assert "\\<script\\>alert('x')\\</script\\>" in md
            assert '耳机 \\<b\\>限量\\</b\\> \\| "特价" & 包邮' in md


def test_unknown_audience_and_format_are_refused(
    program: Program, scorers: dict[str, Scorer]
) -> None:
    scored = scorers["reference"].score(load_case(OUTCOMES["refund"]))
    with pytest.raises(ValueError, match=r"^audience must be one of \('arbitrator', 'buyer', "):
        report_context(program, scored, None, "judge")
    refused = r"^report format must be one of \['html', 'md'\], not 'pdf'$"
    with pytest.raises(ValueError, match=refused):
        render_report(report_context(program, scored, None), "pdf")


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_writes_a_report_in_the_language_and_for_the_audience(tmp_path: Path) -> None:
    out = tmp_path / "out" / "case.md"
    code, stdout, stderr = _cli(
        "score", str(OUTCOMES["refund"]), "--report", str(out), "--lang", "en",
        "--audience", "buyer", "--engine", "reference",
    )  # fmt: skip
    assert code == 0, stderr
    assert stdout.startswith("Case TB-2024-000102: Recommended ruling = refund")
    assert stderr == f"report: {out}\n"
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Ruling report · Case TB-2024-000102\n")
    assert "For the buyer:" in text and "receipt-courier" not in text
    html = tmp_path / "case.html"
    assert _cli("score", str(OUTCOMES["refund"]), "--report", str(html))[0] == 0
    assert '<html lang="zh-CN">' in html.read_text(encoding="utf-8")


def test_cli_writes_one_report_per_case_into_a_folder_or_pattern(tmp_path: Path) -> None:
    two = [str(OUTCOMES["refund"]), str(OUTCOMES["pay_seller"])]
    code, _, _ = _cli("score", *two, "--report", f"{tmp_path}/folder/")
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "folder").iterdir()) == [
        "TB-2024-000101.html", "TB-2024-000102.html",
    ]  # fmt: skip
    code, _, _ = _cli("score", *two, "--report", f"{tmp_path}/p/{{case_id}}.md", "--lang", "en")
    assert code == 0
    assert (tmp_path / "p" / "TB-2024-000101.md").read_text(encoding="utf-8").startswith("# ")


def test_cli_refuses_a_report_path_it_cannot_use(tmp_path: Path) -> None:
    code, _, stderr = _cli("score", str(OUTCOMES["refund"]), "--report", f"{tmp_path}/x.txt")
    assert code == 2
    assert (
        f"Error: --report {tmp_path}/x.txt: name a .html or .md file, a folder (out/) or a "
        "pattern with {case_id} (out/{case_id}.html)\n" in stderr
    )
    two = [str(OUTCOMES["refund"]), str(OUTCOMES["pay_seller"])]
    code, _, stderr = _cli("score", *two, "--report", f"{tmp_path}/one.html")
    assert code == 2
    assert (
        f"Error: --report {tmp_path}/one.html names one file but there are several cases; give "
        "a folder (out/) or a pattern with {case_id} (out/{case_id}.html)\n" in stderr
    )
