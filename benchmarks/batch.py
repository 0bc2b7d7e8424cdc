"""Batch throughput, scaling and memory on a generated archive (``benchmarks/make_archive.py``).

Measurements, each a real ``engine.batch.rescore`` run on the local process pool into a fresh
output folder:

1. for each engine: ``--cases`` cases on 2 workers, and ``--scaling-cases`` on 1 and on 2
   workers (scaling = cases/s on 2 ÷ cases/s on 1, on the same cases);
2. memory: the resident set (RSS) of the driver and of every worker sampled every 0.5 s during
   the big runs; "growth" is a worker's RSS at the end minus its RSS once 10 % of the cases
   were done (what a leak would show);
3. YAML: ``--yaml-files`` case files parsed with ``engine.cases.load.parse_case`` (the C loader
   plus validation) versus ``yaml.load(..., yaml.CSafeLoader)`` alone, one process.

    python benchmarks/make_archive.py --out /tmp/bench/million --cases 1000000
    PYTHONPATH=. python benchmarks/batch.py --archive /tmp/bench/million --write docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from make_archive import main as make_archive  # noqa: E402

from engine import load_rules  # noqa: E402
from engine.batch import rescore  # noqa: E402
from engine.cases.load import parse_case  # noqa: E402

BEGIN, END = "<!-- batch.py -->", "<!-- /batch.py -->"


class Sampler:
    """RSS of this process and its children every ``period`` seconds, with cases done."""

    def __init__(self, period: float = 0.5) -> None:
        self.period = period
        self.cases = 0
        self.samples: list[tuple[float, int, int, dict[int, int]]] = []  # t, cases, driver, workers
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.started = time.monotonic()

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            workers = {}
            for child in me.children(recursive=True):
                try:
                    workers[child.pid] = child.memory_info().rss
                except psutil.Error:
                    pass
            self.samples.append(
                (time.monotonic() - self.started, self.cases, me.memory_info().rss, workers)
            )
            self._stop.wait(self.period)

    # the Progress protocol of engine.batch.run
    def start(self, **_: Any) -> None:
        self.started = time.monotonic()
        self._thread.start()

    def advance(self, outcome: Any) -> None:
        self.cases += outcome.cases

    def note(self, message: str) -> None:
        print("  note:", message, file=sys.stderr)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def memory(self, total: int) -> dict[str, float]:
        mb = 1 / 2**20
        peak_driver = max(s[2] for s in self.samples) * mb
        peak_total = max(s[2] + sum(s[3].values()) for s in self.samples) * mb
        growth = 0.0
        pids = {pid for s in self.samples for pid in s[3]}
        for pid in pids:
            series = [(c, w[pid]) for _, c, _, w in self.samples if pid in w]
            warm = [rss for c, rss in series if c >= total * 0.1]
            if len(warm) >= 2:
                growth = max(growth, (warm[-1] - warm[0]) * mb)
        peak_worker = max((max(s[3].values(), default=0) for s in self.samples), default=0) * mb
        return {
            "peak_driver_mb": peak_driver,
            "peak_worker_mb": peak_worker,
            "peak_total_mb": peak_total,
            "worker_growth_mb": growth,
        }


def run(archive: list[str], engine: str, workers: int, out: Path) -> dict[str, Any]:
    program = load_rules(ROOT / "rules")
    shutil.rmtree(out, ignore_errors=True)
    sampler = Sampler()
    started = time.perf_counter()
    report = rescore(archive, program, out=str(out), engine=engine,  # type: ignore[arg-type]
                     workers=workers, progress=sampler)  # fmt: skip
    seconds = time.perf_counter() - started
    assert report.complete and report.lines == report.cases, report
    result = {
        "engine": engine,
        "workers": workers,
        "cases": report.cases,
        "errors": report.summary["errors"],
        "seconds": seconds,
        "rate": report.cases / seconds,
        **sampler.memory(report.cases),
    }
    print(
        f"  {engine:9} workers={workers} {report.cases:,} cases {seconds:7.1f} s "
        f"{result['rate']:7,.0f} cases/s  peak worker {result['peak_worker_mb']:.0f} MB, "
        f"growth {result['worker_growth_mb']:.1f} MB",
        file=sys.stderr,
    )
    shutil.rmtree(out, ignore_errors=True)
    return result


def yaml_parse(files: int, seed: int) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="yaml-archive-"))
    make_archive(["--out", str(folder), "--cases", str(files), "--seed", str(seed), "--yaml",
                  "--invalid-rate", "0"])  # fmt: skip
    texts = [(p, p.read_bytes()) for p in sorted(folder.glob("*.yaml"))]
    best_raw = best_ours = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _, text in texts:
            yaml.load(text, Loader=yaml.CSafeLoader)
        best_raw = min(best_raw, time.perf_counter() - started)
        started = time.perf_counter()
        for path, text in texts:
            parse_case(text, source=str(path), fmt="yaml")
        best_ours = min(best_ours, time.perf_counter() - started)
    shutil.rmtree(folder)
    n = len(texts)
    return {"files": n, "raw_us": best_raw / n * 1e6, "ours_us": best_ours / n * 1e6,
            "ratio": best_ours / best_raw}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--archive", required=True, type=Path, help="folder of archive-*.jsonl.gz")
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases for the big runs")
    parser.add_argument("--scaling-cases", type=int, default=200_000)
    parser.add_argument("--engines", default="reference,durable")
    parser.add_argument(
        "--durable-cases",
        type=int,
        default=None,
        help="fewer cases for the durable big run (then extrapolated, labelled)",
    )
    parser.add_argument("--yaml-files", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "batch-bench")
    parser.add_argument("--write", type=Path, help="update this markdown file between markers")
    args = parser.parse_args()
    files = sorted(str(p) for p in args.archive.glob("archive-*.jsonl.gz"))
    per_file = sum(1 for _ in _lines(files[0]))

    def subset(cases: int) -> list[str]:
        return files[: max(1, -(-cases // per_file))]

    results: dict[str, Any] = {"big": [], "scaling": []}
    for engine in args.engines.split(","):
        big = args.durable_cases if engine == "durable" and args.durable_cases else args.cases
        print(f"{engine}: {big:,} cases on 2 workers", file=sys.stderr)
        results["big"].append(run(subset(big), engine, 2, args.out))
        for workers in (1, 2):
            print(f"{engine}: {args.scaling_cases:,} cases on {workers} worker(s)", file=sys.stderr)
            results["scaling"].append(run(subset(args.scaling_cases), engine, workers, args.out))
    results["yaml"] = yaml_parse(args.yaml_files, 5)
    section = render(results, args)
    print(section)
    if args.write:
        # a file not there yet is made (a long run is not lost for want of it)
        text = args.write.read_text(encoding="utf-8") if args.write.exists() else ""
        block = f"{BEGIN}\n{section}\n{END}"
        if BEGIN in text:
            text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text,
                          flags=re.S)  # fmt: skip
        else:
            text = (text.rstrip("\n") + "\n\n" if text.strip() else "") + block + "\n"
        args.write.write_text(text, encoding="utf-8")
    return 0


def _lines(path: str) -> Any:
    import gzip

    with gzip.open(path, "rb") as stream:
        yield from (line for line in stream if line.strip())


def _how_compiled() -> str:
    from engine import compiled

    reason = compiled.reason()
    return (
        "compiled with mypyc (`.ci/compile.py`)" if reason is None else f"from sources ({reason})"
    )


def _mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def render(results: dict[str, Any], args: argparse.Namespace) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    command = "PYTHONPATH=. .venv/bin/python benchmarks/batch.py " + " ".join(
        shlex.quote(a) for a in sys.argv[1:]
    )
    out = [
        "## Batch re-scoring (`benchmarks/batch.py`)",
        "",
        "Generated by `benchmarks/batch.py`; do not edit by hand between the markers.",
        "",
        f"* Archive: `python benchmarks/make_archive.py --out {args.archive} --cases 1000000` "
        "(seed 2026; 100 files of 10,000 cases, JSON Lines gzip, 280 MB; all 8 dispute types, "
        "every evidence kind, valid and invalid items, appeals, recorded decisions, 0.2 % "
        "malformed lines that come out as error rows)",
        f"* Command: `{command}`",
        f"* Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; Python {platform.python_version()}, "
        f"{cpu} ({os.cpu_count()} logical CPUs), Linux",
        "* Each row is a whole `adjudicate batch` run (library call `engine.batch.rescore`, local "
        "process pool, 1 shard per .jsonl.gz file) into a fresh folder: planning, gunzip, JSON "
        "parse and casefile/1 validation, scoring, ruling/1 JSON, atomic shard files, the final "
        "line count and summary. Every run ended with lines out = cases in.",
        "",
        f"* Scoring path: {_how_compiled()}",
        "",
        "| engine | workers | cases | wall s | cases/s | peak RSS driver / worker / all, MB "
        "| worker RSS growth after 10 %, MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["big"] + results["scaling"]:
        out.append(
            f"| {r['engine']} | {r['workers']} | {r['cases']:,} | {r['seconds']:.1f} | "
            f"{r['rate']:,.0f} | {r['peak_driver_mb']:.0f} / {r['peak_worker_mb']:.0f} / "
            f"{r['peak_total_mb']:.0f} | {r['worker_growth_mb']:.1f} |"
        )
    out += ["", "| target | measured | |", "|---|---:|---|"]
    by = {(r["engine"], r["workers"]): r for r in results["scaling"]}
    for engine in sorted({r["engine"] for r in results["scaling"]}):
        ratio = by[(engine, 2)]["rate"] / by[(engine, 1)]["rate"]
        out.append(f"| {engine}: 2 workers ≥ 1.7× one | {ratio:.2f}× | {_mark(ratio >= 1.7)} |")
    for r in results["big"]:
        growth = r["worker_growth_mb"]
        label = f"{r['engine']}: worker RSS flat over {r['cases']:,} cases (≤ 50 MB)"
        out.append(f"| {label} | +{growth:.1f} MB | {_mark(growth <= 50)} |")
        seconds = 1_000_000 / r["rate"]
        whole = r["cases"] >= 1_000_000
        measured = (
            f"{r['seconds']:.1f} s"
            if whole
            else f"{seconds:.0f} s (extrapolated from {r['cases']:,})"
        )
        if r["engine"] == "reference":  # issue 19: 90 s, aiming at 60
            out.append(f"| reference: 1M cases ≤ 90 s on 2 cores (aim: 60 s) | {measured} | "
                       f"{_mark(whole and seconds <= 90)} |")  # fmt: skip
        else:
            out.append(f"| durable: 1M cases on 2 cores, measured, not extrapolated | {measured} "
                       f"| {_mark(whole)} |")  # fmt: skip
    y = results["yaml"]
    out.append(
        f"| YAML: `parse_case` ≤ 1.3× `yaml.load(CSafeLoader)` ({y['files']:,} files) | "
        f"{y['ratio']:.2f}× ({y['ours_us']:.0f} vs {y['raw_us']:.0f} µs/file) | "
        f"{_mark(y['ratio'] <= 1.3)} |"
    )
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
