"""The same case, rules and engine give byte-identical JSON, in any process (issue 7): nothing
depends on hash randomisation, set order or the time of day."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import CASEFILES, ROOT


@pytest.mark.parametrize("engine", ["reference", "durable"])
@pytest.mark.slow
def test_two_processes_with_different_hash_seeds_print_the_same_bytes(engine: str) -> None:
    outputs = []
    for seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-m", "engine.cli", "score", str(CASEFILES), "--format", "json",
             "--engine", engine],
            cwd=ROOT, env=env, capture_output=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr.decode()
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert outputs[0].count(b"\n") == len(list(CASEFILES.glob("*.expected.yaml")))
