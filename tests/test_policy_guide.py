"""docs/policy-guide.md runs: its examples edit a copy of rules/, its rule tests pass on the edited
copy, and the command output it shows is what the commands print.

An example is a fenced block after a comment ``<!-- example: NAME; ... -->``; the comment says
what to do with it:

- ``new file: rules/PATH``: the block is a new rule file;
- ``in: rules/PATH; after: TEXT``: the block is inserted after the first line containing TEXT;
- ``in: rules/PATH; replace: TEXT``: the block replaces the first line containing TEXT;
- ``rule tests``: the block is a rule test file, run on the edited copy (both engines);
- ``output of: adjudicate ...``: the block is what the command prints (``contains``: some lines;
  ``exit``: its exit code); ``rules``, ``approved-rules``, ``casefiles/`` and ``impact/`` in it
  name the copy being edited, the rules before any example, the sample cases and a new folder;
- ``copy: NAME``: work on a separate copy of rules/ (default: one copy for the whole guide).
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CASEFILES, ROOT, RULES

from engine import Scorer, load_rules
from engine.cli import main
from engine.policytools.ruletests import load_rule_tests, run_rule_test
from engine.rules.lint import lint_program

GUIDE = ROOT / "docs" / "policy-guide.md"
EXAMPLE = re.compile(
    r"<!-- example: (?P<spec>[^>]*?) -->\n```(?P<lang>\w*)\n(?P<body>.*?)```", re.S
)


def _examples() -> list[tuple[str, dict[str, str], str]]:
    out = []
    for match in EXAMPLE.finditer(GUIDE.read_text(encoding="utf-8")):
        name, *parts = [p.strip() for p in match["spec"].split(";")]
        options = {}
        for part in parts:
            key, _, value = part.partition(":")
            options[key.strip()] = value.strip()
        out.append((name, options, match["body"]))
    return out


def test_the_guide_has_an_example_of_every_kind() -> None:
    kinds = {key for _, options, _ in _examples() for key in options}
    assert {"new file", "in", "after", "replace", "rule tests", "output of"} <= kinds


def _apply(root: Path, options: dict[str, str], body: str) -> None:
    if "new file" in options:
        target = root / options["new file"].removeprefix("rules/")
        assert not target.exists(), f"{options['new file']} already exists"
        target.write_text(body, encoding="utf-8")
        return
    target = root / options["in"].removeprefix("rules/")
    lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
    anchor = options.get("after") or options["replace"]
    (at,) = [i for i, line in enumerate(lines) if anchor in line][:1] or [None]
    assert at is not None, f"{anchor!r} not in {options['in']}"
    if "after" in options:
        lines[at + 1 : at + 1] = [body]
    else:
        lines[at : at + 1] = [body]
    target.write_text("".join(lines), encoding="utf-8")


def test_every_example_of_the_guide_runs(tmp_path: Path) -> None:
    copies: dict[str, Path] = {}
    approved = tmp_path / "approved" / "rules"  # the rules as they were before any example
    shutil.copytree(RULES, approved)
    # case paths in the guide are relative to the project, as in policy-tests/
    shutil.copytree(CASEFILES, tmp_path / "casefiles", dirs_exist_ok=True)
    ran = 0
    for name, options, body in _examples():
        copy = options.get("copy", "guide")
        if copy not in copies:
            copies[copy] = tmp_path / copy / "rules"
            shutil.copytree(RULES, copies[copy])
        root = copies[copy]
        if "rule tests" in options:
            program = load_rules(root)
            path = tmp_path / f"{name}.yaml"
            path.write_text(body, encoding="utf-8")
            tests = load_rule_tests([path], program)
            scorers = [Scorer(program, "reference"), Scorer(program, "durable")]
            for test in tests:
                result = run_rule_test(test, scorers)
                assert result.passed, f"docs/policy-guide.md example {name}:\n{result.report()}"
        elif "output of" in options:
            # the folders a command names, in this test's copies: rules/ (being edited),
            # approved-rules/ (as before the change), casefiles/, and an output folder
            places = {
                "rules": root, "approved-rules": approved, "casefiles/": tmp_path / "casefiles",
                "impact/": tmp_path / f"{name}-impact",
            }  # fmt: skip
            words = shlex.split(options["output of"])[1:]
            command = 2 if words[0] == "rules" else 1  # "rules diff", "impact": not folders
            args = words[:command] + [str(places.get(a, a)) for a in words[command:]]
            result = CliRunner().invoke(main, args, catch_exceptions=False)
            printed = result.stdout.replace(str(root), "rules").replace(
                str(approved), "approved-rules"
            )
            printed = printed.replace(str(tmp_path / f"{name}-impact"), "impact")
            printed = printed.replace(str(ROOT) + "/", "")
            if "exit" in options:
                assert result.exit_code == int(options["exit"]), f"example {name}: {result.output}"
            if "contains" in options:
                missing = [line for line in body.splitlines() if line not in printed.splitlines()]
                assert not missing, f"example {name}: not printed: {missing}\n{printed}"
            else:
                assert printed == body, f"example {name} prints:\n{printed}"
        else:
            _apply(root, options, body)
            load_rules(root)  # every edit leaves rules that load
        ran += 1
    assert ran == len(_examples())
    # the guide's own changes are clean
    assert lint_program(load_rules(copies["guide"])) == ()


@pytest.mark.parametrize("code", [f"L{n:03}" for n in range(1, 15)])
def test_every_lint_code_is_in_the_table(code: str) -> None:
    assert f"| `{code}` |" in GUIDE.read_text(encoding="utf-8")
