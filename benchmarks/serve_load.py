"""Load test of the desk's API: POST /v1/score sustained for a fixed time from a second process.

The server (uvicorn, the app of ``adjudicate serve``, reference engine) runs in one process on
127.0.0.1 and a free port; this process drives it with N concurrent keep-alive connections
(httpx, asyncio) posting the sample cases round-robin, as fast as the server answers, for
``--seconds``. Every response must be 200 with a ruling/1 body; anything else counts as an
error. Both stop by themselves: the client after its time, the server when told to.

    PYTHONPATH=. .venv/bin/python benchmarks/serve_load.py --seconds 60 --write docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import re
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- serve_load.py -->", "<!-- /serve_load.py -->"


def _serve(port: int, db: str, engine: str) -> None:
    import uvicorn

    from engine import load_rules
    from engine.web import create_app

    app = create_app(load_rules(ROOT / "rules"), db, engine=engine)  # type: ignore[arg-type]
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _bodies() -> list[bytes]:
    cases = sorted(p for p in (ROOT / "casefiles").glob("*.yaml") if ".expected." not in p.name)
    return [p.read_bytes() for p in cases]


async def _drive(base: str, seconds: float, connections: int) -> tuple[list[float], int, int]:
    import httpx

    bodies = _bodies()
    latencies: list[float] = []
    errors = 0
    sent = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    headers = {"content-type": "application/yaml"}
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        # warm up: every sample case once, not timed
        for body in bodies:
            (await client.post("/v1/score", content=body, headers=headers)).raise_for_status()
        stop = time.perf_counter() + seconds

        async def worker(offset: int) -> None:
            nonlocal errors, sent
            i = offset
            while time.perf_counter() < stop:
                body = bodies[i % len(bodies)]
                i += connections
                start = time.perf_counter()
                try:
                    response = await client.post("/v1/score", content=body, headers=headers)
                    ok = response.status_code == 200 and response.json()["format"] == "ruling/1"
                except (httpx.HTTPError, ValueError, KeyError):
                    ok = False
                latencies.append(time.perf_counter() - start)
                sent += 1
                errors += not ok

        await asyncio.gather(*(worker(n) for n in range(connections)))
    return latencies, errors, sent


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--engine", choices=("reference", "durable"), default="reference")
    parser.add_argument("--write", metavar="MD", help="replace this script's section in MD")
    args = parser.parse_args()

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="adjudicate-load-") as folder:
        server = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(port, str(Path(folder) / "desk.sqlite3"), args.engine)
        )
        server.start()
        try:
            for _ in range(150):  # up to 30 s to load the rules and open the port
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    time.sleep(0.2)
            else:
                raise SystemExit("the server did not start")
            started = time.perf_counter()
            latencies, errors, sent = asyncio.run(_drive(base, args.seconds, args.connections))
            elapsed = time.perf_counter() - started
        finally:
            server.terminate()
            server.join(timeout=10)
    rate = sent / elapsed
    figures = {
        "requests": sent,
        "errors": errors,
        "seconds": round(elapsed, 1),
        "req_per_s": round(rate, 1),
        "p50_ms": round(_percentile(latencies, 50) * 1000, 2),
        "p95_ms": round(_percentile(latencies, 95) * 1000, 2),
        "p99_ms": round(_percentile(latencies, 99) * 1000, 2),
        "max_ms": round(max(latencies) * 1000, 2),
    }
    print(json.dumps(figures))
    if args.write:
        _write(Path(args.write), figures, args)
    return 1 if errors else 0


def _write(path: Path, f: dict[str, float], args: argparse.Namespace) -> None:
    import fastapi
    import uvicorn

    command = (
        f"PYTHONPATH=. .venv/bin/python benchmarks/serve_load.py --seconds {args.seconds:g} "
        f"--connections {args.connections} --engine {args.engine} --write {args.write}"
    )
    versions = (
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"FastAPI {fastapi.__version__}, uvicorn {uvicorn.__version__}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} logical CPUs shared by the "
        "server and the client"
    )
    setup = (
        f"Server: the app of `adjudicate serve` in its own process (uvicorn, one worker, "
        f"`{args.engine}` engine, 127.0.0.1); client: a second process, {args.connections} "
        f"concurrent keep-alive connections (httpx, asyncio) posting the {len(_bodies())} sample "
        "case files (YAML) round-robin to `POST /v1/score` as fast as answered, for "
        f"{args.seconds:g} s after one untimed pass"
    )
    row = " | ".join(
        [f"{f['requests']:,}", str(f["errors"]), f"{f['seconds']} s", f"{f['req_per_s']:,}"]
        + [f"{f[k]} ms" for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")]
    )
    section = "\n".join(
        [
            BEGIN,
            "## The desk's API under load (`benchmarks/serve_load.py`)",
            "",
            "Generated by `benchmarks/serve_load.py`; do not edit by hand between the markers.",
            "",
            f"* Command: `{command}`",
            f"* Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            f"* {versions}",
            f"* {setup}",
            "* An error is any response other than 200 with a ruling/1 body, or a failed request",
            "",
            "| requests | errors | duration | requests/s | p50 | p95 | p99 | max |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {row} |",
            "",
            "Latency is measured by the client, from sending a request to reading its whole "
            "answer, so it",
            "includes the client's own time on the shared CPUs; scoring alone is ~0.4 ms per case "
            "(parsing",
            "the YAML another ~0.6 ms).",
            END,
        ]
    )
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if BEGIN in text:
        text = re.sub(
            re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: section, text, flags=re.S
        )
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
