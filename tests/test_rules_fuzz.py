"""Broken rule files, made by mutating the shipped ones: always a located RuleFileError (or a
Program, when the mutation happens to be harmless), never another exception or a hang."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import RULES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import RuleFileError, load_rules

FILES = sorted(p.relative_to(RULES).as_posix() for p in RULES.rglob("*.yaml"))
NOISE = st.sampled_from(
    [": ", "- ", "{", "}", "[", "]", "'", '"', "&a ", "*a", "!!python/object:os.system ", "\t",
     "\x00", "==", " and ", " or ", "(", ")", "evidence.", "param.", "case.", "1e309", "-", "#",
     "  ", "\n", "张伟", "\u202e", "𝔘"]
)  # fmt: skip
mutation = st.tuples(
    st.sampled_from(FILES),
    st.sampled_from(["insert", "delete", "duplicate"]),
    st.floats(0, 1),
    NOISE,
)


def _mutate(text: str, how: str, at: float, noise: str) -> str:
    lines = text.splitlines(keepends=True)
    index = min(int(at * len(lines)), len(lines) - 1)
    if how == "delete":
        del lines[index]
    elif how == "duplicate":
        lines.insert(index, lines[index])
    else:
        line = lines[index]
        col = min(int(at * 997) % (len(line) + 1), len(line))
        lines[index] = line[:col] + noise + line[col:]
    return "".join(lines)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(mutation, min_size=1, max_size=3))
def test_a_mutated_rules_folder_loads_or_gives_located_problems(
    tmp_path_factory: object, mutations: list[tuple[str, str, float, str]]
) -> None:
    target = Path(tmp_path_factory.mktemp("rules"))  # type: ignore[attr-defined]
    shutil.rmtree(target)
    shutil.copytree(RULES, target)
    for name, how, at, noise in mutations:
        path = target / name
        path.write_text(_mutate(path.read_text(encoding="utf-8"), how, at, noise), encoding="utf-8")
    try:
        load_rules(target)
    except RuleFileError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.loc is not None and problem.loc.path.startswith(str(target))
            assert problem.message


def test_anchors_and_aliases_are_refused(tmp_path: Path) -> None:
    shutil.copytree(RULES, tmp_path / "rules")
    extra = tmp_path / "rules" / "aliases.yaml"
    extra.write_text("profiles:\n  a: &x {title: {zh: a, en: a}}\n  b: *x\n", encoding="utf-8")
    message = str(_error(tmp_path / "rules")).replace(str(tmp_path), "")
    assert message == (
        "/rules/aliases.yaml:2:6: YAML anchors and aliases (&name, *name) are not allowed in "
        "rule files\n"
        "    a: &x {title: {zh: a, en: a}}\n"
        "       ^ write the value out in full"
    )


def _error(path: Path) -> RuleFileError:
    try:
        load_rules(path)
    except RuleFileError as exc:
        return exc
    raise AssertionError("no error")


def test_an_unknown_yaml_tag_is_a_located_error_not_a_crash(tmp_path: Path) -> None:
    shutil.copytree(RULES, tmp_path / "rules")
    extra = tmp_path / "rules" / "tagged.yaml"
    extra.write_text("profiles:\n  !!python/object:os.system a: {title: {zh: a, en: a}}\n",
                     encoding="utf-8")  # fmt: skip
    message = str(_error(tmp_path / "rules")).replace(str(tmp_path), "")
    assert message == (
        "/rules/tagged.yaml:2:3: YAML: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object:os.system'\n"
        "    !!python/object:os.system a: {title: {zh: a, en: a}}\n"
        "    ^ rule files use plain values only: remove the tag"
    )
