"""Apply a policy edit set (tests/fixtures/policy-edits/) to a copy of the project: new files
copied in place, in-place changes from its changes.yaml (each ``replace`` text must occur once)."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

EDITS = Path(__file__).resolve().parent / "fixtures" / "policy-edits"
STAFF_FOLDERS = ("rules", "casefiles", "policy-tests")


def apply_edits(project: Path, edits: Path = EDITS) -> list[str]:
    """Apply the edit set to ``project``; returns the project files it wrote."""
    written = []
    for folder in STAFF_FOLDERS:
        for source in sorted((edits / folder).rglob("*")):
            if source.is_file():
                target = project / source.relative_to(edits)
                assert not target.exists(), f"{target} exists: an edit set adds new files only"
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                written.append(str(source.relative_to(edits)))
    for change in yaml.safe_load((edits / "changes.yaml").read_text(encoding="utf-8")):
        name = change["file"]
        assert name.split("/")[0] in STAFF_FOLDERS, f"{name}: policy staff edit no such file"
        path = project / name
        text = path.read_text(encoding="utf-8")
        found = text.count(change["replace"])
        assert found == 1, f"{name}: {change['replace']!r} is there {found} times, not once"
        path.write_text(text.replace(change["replace"], change["with"]), encoding="utf-8")
        written.append(name)
    return written
