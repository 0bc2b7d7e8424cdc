"""Output that cannot be written is a clear error (exit 2), with nothing half-written left
behind and the finished shards kept for the next run (issue 7)."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CASEFILES, RULES

from engine.cli import main


def _batch(out: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [
        "batch", str(CASEFILES), "--out", str(out), "--rules", str(RULES),
        "--engine", "reference", "--shard-cases", "10", "--workers", "1", *extra,
    ])  # fmt: skip
    return result.exit_code, result.stderr


def test_an_output_folder_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    code, err = _batch(blocker / "out")
    assert code == 2
    assert err.strip() == (
        f"{blocker}/out: cannot write the results there (Not a directory); choose a folder "
        "you can write to, with free space"
    )


@pytest.fixture
def small_disk(tmp_path: Path) -> Path:
    mount = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=60k", "tmpfs", str(mount)],
                          capture_output=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.slow
def test_a_disk_that_fills_up_mid_run_is_a_clear_error_and_the_run_resumes(
    small_disk: Path, tmp_path: Path
) -> None:
    out = small_disk / "out"
    code, err = _batch(out)
    assert code == 2
    assert err.strip().endswith(
        f"{out}: cannot write the results (No space left on device); the shards finished so "
        "far are kept: free space or fix the folder, then run the same command to resume"
    )
    shards = out / "shards"
    assert not list(shards.glob("*.tmp-*"))  # nothing half-written
    kept = sorted(p.name for p in shards.glob("*.jsonl"))
    assert kept  # some shards were finished before the disk filled up
    # more room (a copy of the folder on a big disk): the same command resumes and completes
    roomy = tmp_path / "roomy"
    subprocess.run(["cp", "-a", str(out), str(roomy)], check=True)
    code, _ = _batch(roomy)
    assert code == 0
    lines = [
        line for p in (roomy / "shards").glob("*.jsonl") for line in p.read_text().splitlines()
    ]
    assert len(lines) == len(list(CASEFILES.glob("*.expected.yaml")))
