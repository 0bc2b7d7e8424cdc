"""Several desk processes on one PostgreSQL database: two ``adjudicate serve`` started for real
(they migrate the new database together), cases imported through one and decided through both;
20 simultaneous decisions on one version of a case record exactly one, the other 19 get 409
with it; and a desk killed with SIGKILL loses nothing it acknowledged."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, RULES
from webdesk import QUALITY, RECEIPT, add_team

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(db: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    command = [sys.executable, "-m", "engine.cli", "serve", "--rules", str(RULES), "--db", db,
               "--port", str(port)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("ADJUDICATE_TOKEN", None)
    with log.open("w") as out:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)  # fmt: skip
    return process, f"http://127.0.0.1:{port}"


def _wait(process: subprocess.Popen[bytes], base: str, log: Path) -> None:
    for _ in range(150):  # up to 30 s
        if process.poll() is not None:
            pytest.fail("the server stopped: " + log.read_text())
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail("the server did not answer in 30 s: " + log.read_text())


def _call(base: str, method: str, path: str, token: str, body: Any = None,
          content_type: str = "application/json") -> tuple[int, Any]:  # fmt: skip
    data = None if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers={
        "authorization": f"Bearer {token}", "content-type": content_type})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def two_desks(postgres_url: str, tmp_path: Path) -> Iterator[tuple[list[str], dict[str, str]]]:
    processes = []
    try:
        started = [_start(postgres_url, tmp_path / f"serve-{n}.log") for n in range(2)]
        processes = [p for p, _ in started]
        for n, (process, base) in enumerate(started):
            _wait(process, base, tmp_path / f"serve-{n}.log")
        team = tuple((f"a{n}", "arbitrator") for n in range(20))
        yield [base for _, base in started], add_team(postgres_url, team)
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def test_twenty_arbitrators_on_two_desk_processes_one_decision_wins(
    two_desks: tuple[list[str], dict[str, str]],
) -> None:
    bases, tokens = two_desks
    status, case = _call(bases[0], "POST", "/v1/cases?source=quality.yaml", tokens["a0"],
                         QUALITY.read_bytes(), "application/yaml")  # fmt: skip
    assert status == 201, case
    answers: list[tuple[int, Any]] = []
    barrier = threading.Barrier(20)

    def decide(n: int) -> None:
        barrier.wait()
        answers.append(_call(bases[n % 2], "POST", f"/v1/cases/{case['id']}/decision",
                             tokens[f"a{n}"], {"version": 0, "ruling": "refund",
                                               "refund_amount": n, "reason": f"#{n}"}))  # fmt: skip

    threads = [threading.Thread(target=decide, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * 19
    (winner,) = [body for status, body in answers if status == 201]
    for status, body in answers:
        if status == 409:
            assert body["error"]["current"]["id"] == winner["id"]
    _, got = _call(bases[1], "GET", f"/v1/cases/{case['id']}", tokens["a0"])
    assert (got["version"], len(got["decisions"]), got["decisions"][0]["decided_by"]) == (
        1, 1, winner["decided_by"],
    )  # fmt: skip


def test_a_desk_killed_with_sigkill_loses_nothing_it_acknowledged(
    two_desks: tuple[list[str], dict[str, str]], postgres_url: str, tmp_path: Path
) -> None:
    bases, tokens = two_desks
    process, base = _start(postgres_url, tmp_path / "victim.log")
    _wait(process, base, tmp_path / "victim.log")
    acknowledged = []
    text = RECEIPT.read_text(encoding="utf-8")
    for n in range(30):
        body = text.replace("TB-2024-000101", f"TB-KILL-{n}").encode()
        status, record = _call(base, "POST", "/v1/cases", tokens["a1"], body, "application/yaml")
        assert status == 201
        status, _ = _call(base, "POST", f"/v1/cases/{record['id']}/decision", tokens["a1"],
                          {"version": 0})  # fmt: skip
        assert status == 201
        acknowledged.append(record["case_id"])
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    _, listed = _call(bases[0], "GET", "/v1/cases?status=accepted&limit=1000", tokens["a0"])
    assert sorted(c["case_id"] for c in listed["cases"]) == sorted(acknowledged)
