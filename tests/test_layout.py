"""The architecture, checked: engine/ is one folder per stage, imports only go forward along the
pipeline, no module imports another's private names, and modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

ENGINE = ROOT / "engine"
# the pipeline, in order: a module may import its own stage and the stages before it
STAGES = (
    ("engine.errors", "engine.model", "engine.ruling", "engine.shipped", "engine.compiled"),
    ("engine.cases",),
    ("engine.rules",),
    ("engine.evidence",),  # bundles and reading files: needs the rules' kinds, nothing after
    ("engine.compile",),
    ("engine.run",),
    ("engine.explain",),
    ("engine.policytools",),
    ("engine.batch", "engine.web"),  # side by side: neither imports the other
    ("engine.cli",),
)
MAX_LINES = 600


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(ENGINE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out.append((name, path))
    return out


def _stage(module: str) -> tuple[int, str] | None:
    for n, group in enumerate(STAGES):
        for prefix in group:
            if module == prefix or module.startswith(prefix + "."):
                return n, prefix
    return None


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("engine"):
            found.append((node.module, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names if a.name.startswith("engine")]
    return found


def test_ls_engine_shows_the_stages() -> None:
    folders = sorted(p.name for p in ENGINE.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert folders == ["batch", "cases", "cli", "compile", "evidence", "explain", "policytools",
                       "rules", "run", "web"]  # fmt: skip
    modules = sorted(p.name for p in ENGINE.glob("*.py"))
    assert modules == [
        "__init__.py", "compiled.py", "errors.py", "model.py", "ruling.py", "shipped.py"
    ]  # fmt: skip


def test_imports_only_go_forward_along_the_pipeline() -> None:
    backward = []
    for name, path in _modules():
        if name == "engine":  # the public API re-exports from every stage
            continue
        mine = _stage(name)
        assert mine is not None, f"{name} belongs to no stage"
        for module, _, line in _imports(path):
            theirs = _stage(module)
            if theirs is None:
                continue
            if theirs[0] > mine[0] or (theirs[0] == mine[0] and theirs[1] != mine[1] and mine[0]):
                backward.append(f"{path.relative_to(ROOT)}:{line}: {name} imports {module}")
    assert backward == []


def test_no_module_imports_a_private_name_of_another() -> None:
    private = []
    for _, path in _modules():
        for module, names, line in _imports(path):
            for imported in names:
                if imported.startswith("_"):
                    private.append(f"{path.relative_to(ROOT)}:{line}: {module}.{imported}")
    assert private == []


def test_no_module_is_over_six_hundred_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for _, path in _modules()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


# the staff-owned checks of the shipped policy; every other test runs on tests/fixtures/policy
SHIPPED_POLICY_CHECKS = ("test_golden.py", "test_layout.py")
SHIPPED_PATHS = ('SHIPPED_', 'ROOT / "rules"', 'ROOT / "casefiles"', 'ROOT / "policy-tests"')


def test_only_the_staff_owned_checks_read_the_shipped_policy() -> None:
    # a policy edit under rules/, casefiles/ or policy-tests/ must never break an engine test
    readers = sorted(
        path.name
        for path in (ROOT / "tests").glob("*.py")
        if path.name not in (*SHIPPED_POLICY_CHECKS, "conftest.py")
        and any(marker in path.read_text(encoding="utf-8") for marker in SHIPPED_PATHS)
    )
    assert readers == []
