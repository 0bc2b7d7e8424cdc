"""Fuzz the case loader and the scorers with many generated inputs (issue 7).

Every input must give a ruling or a located error (``AdjudicationError``): any other exception,
a hang or a crash is a finding. Two sources of inputs:

* ``mutate``: the golden case files, mutated byte by byte and line by line with a seeded random
  generator (deletions, duplications, insertions of hostile fragments: huge numbers, NaN,
  exponent floats, control characters, direction marks, anchors, tags, deep nesting), parsed as
  YAML or JSON and scored by both engines. Scoring runs in worker processes, so a crash of
  durable_rules' C core would show as a dead worker, counted, not as a dead fuzzer.
* ``atheris``: coverage-guided fuzzing of ``parse_case`` + the reference scorer with atheris,
  seeded with the golden cases.

    PYTHONPATH=. .venv/bin/python benchmarks/fuzz.py mutate --inputs 100000 \\
        --write docs/benchmarks.md
    PYTHONPATH=. .venv/bin/python benchmarks/fuzz.py atheris --runs 100000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOSTILE = [
    "1e309", "-1e309", ".nan", ".inf", "NaN", "1e-05", "99999999999999999999999999", "-0",
    "0x1F", "1_000", "'\x00'", "\u202e", "\u200b", "\x07", "&a ", "*a",
    "!!python/object/apply:os.system ['true']",
    "[[[[[[[[[[[[[[[[[[[[", "{a: {b: {c: {d: {e: {f: {g:", "?", "- ", ": ", "\t", "'", '"',
    "2024-13-45T99:99:99+08:00", "2024-03-06T10:00:00", "张 伟", "張偉", "ＺＨＡＮＧ",
    "\U0001f600" * 50,
    "<script>alert(1)</script>", "../../etc/passwd", "a" * 5000, "null", "true", "~", "{}", "[]",
]  # fmt: skip
VALUES = [
    "0", "1", "2", "0.01", "459.00", "1000000000000", "-5", "true", "false", "null", "buyer",
    "seller", "platform", "delivered", "in_transit", "中通快递", "顺丰速运", "张伟", "张玮",
    "2024-03-06T10:00:00+08:00", "2021-03-17T23:59:59+08:00", "2024-03-09T10:00:01+08:00",
    "refund_only", "exchange", "return_and_refund", "virtual", "tmall", "taobao", "quality",
    "counterfeit", "[panorama, closeup]", "[closeup]", "defect", "genuine", "counterfeit",
]  # fmt: skip
CHUNK = 500


def _mutations(seed: int, count: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    sources = [
        p.read_text(encoding="utf-8")
        for p in sorted((ROOT / "casefiles").glob("*.yaml"))
        if not p.name.endswith(".expected.yaml")
    ]
    out = []
    for _ in range(count):
        text = rng.choice(sources)
        if rng.random() < 0.3:  # the same case as JSON, then mutated
            import yaml

            from engine.rules.yamlsource import SafeLoader

            text = json.dumps(yaml.load(text, Loader=SafeLoader), ensure_ascii=False, indent=1)
            fmt = "json"
        else:
            fmt = "yaml"
        lines = text.splitlines(keepends=True)
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            i = rng.randrange(len(lines))
            how = rng.random()
            if how < 0.1:
                del lines[i]
            elif how < 0.2:
                lines.insert(i, lines[i])
            elif how < 0.35:
                line = lines[i]
                col = rng.randint(0, len(line))
                lines[i] = line[:col] + rng.choice(HOSTILE) + line[col + rng.randint(0, 3) :]
            else:  # keep the structure, replace a value: most of these reach the scorers
                line = lines[i]
                key, sep, _ = line.partition(": ")
                if sep:
                    value = rng.choice(HOSTILE if rng.random() < 0.3 else VALUES)
                    quoted = json.dumps(value, ensure_ascii=False) if rng.random() < 0.5 else value
                    lines[i] = f"{key}{sep}{quoted}" + (",\n" if fmt == "json" else "\n")
            if not lines:
                lines = ["x"]
        out.append(("".join(lines), fmt))
    return out


def _score_chunk(args: tuple[int, int, str]) -> dict[str, Any]:
    """Worker: generate and score one chunk of inputs with both engines."""
    seed, count, rules = args
    from engine import AdjudicationError, Scorer, load_rules, ruling_json
    from engine.cases.load import parse_case

    program = load_rules(rules)
    scorers = {name: Scorer(program, name) for name in ("reference", "durable")}  # type: ignore[arg-type]
    counts: Counter[str] = Counter()
    findings: list[str] = []
    slowest = 0.0
    for text, fmt in _mutations(seed, count):
        started = time.perf_counter()
        try:
            case = parse_case(text, source=f"fuzz-{seed}.{fmt}", fmt=fmt)  # type: ignore[arg-type]
        except AdjudicationError as exc:
            counts["case file error"] += 1
            if not str(exc) or getattr(exc, "loc", None) is None:
                findings.append(f"unlocated error: {exc!r}"[:300])
            continue
        except Exception as exc:  # noqa: BLE001 - a finding, reported
            findings.append(f"loader raised {exc!r}"[:300])
            continue
        rulings = {}
        for name, scorer in scorers.items():
            try:
                rulings[name] = ruling_json(scorer.score(case).ruling)
            except AdjudicationError as exc:
                rulings[name] = f"error: {type(exc).__name__}"
            except Exception as exc:  # noqa: BLE001 - a finding, reported
                findings.append(f"{name} raised {exc!r}"[:300])
        if len(set(rulings.values())) > 1:
            findings.append(f"engines disagree on {case.case_id}")
        outcome = rulings.get("reference", "")
        counts["ruling" if not outcome.startswith("error") else outcome] += 1
        slowest = max(slowest, time.perf_counter() - started)
    return {"counts": dict(counts), "findings": findings, "slowest": slowest}


def run_mutate(inputs: int, seed: int, workers: int) -> dict[str, Any]:
    chunks = [(seed * 1_000_003 + i, min(CHUNK, inputs - i * CHUNK), str(ROOT / "rules"))
              for i in range((inputs + CHUNK - 1) // CHUNK)]  # fmt: skip
    counts: Counter[str] = Counter()
    findings: list[str] = []
    crashes = 0
    slowest = 0.0
    started = time.perf_counter()
    pending = list(chunks)
    while pending:
        with ProcessPoolExecutor(workers) as pool:
            futures = {pool.submit(_score_chunk, chunk): chunk for chunk in pending}
            pending = []
            for future, chunk in futures.items():
                try:
                    result = future.result()
                except BrokenProcessPool:
                    crashes += 1
                    findings.append(f"a worker died on chunk seed {chunk[0]}")
                    continue
                counts.update(result["counts"])
                findings.extend(result["findings"])
                slowest = max(slowest, result["slowest"])
    return {
        "inputs": inputs,
        "seconds": time.perf_counter() - started,
        "counts": dict(counts),
        "findings": findings,
        "crashes": crashes,
        "slowest": slowest,
    }


def run_atheris(runs: int) -> None:
    import atheris

    with atheris.instrument_imports():
        from engine import AdjudicationError, Scorer, load_rules
        from engine.cases.load import parse_case

    scorer = Scorer(load_rules(ROOT / "rules"), "reference")

    def one_input(data: bytes) -> None:
        try:
            scorer.score(parse_case(data, source="atheris.yaml", fmt="yaml"))
        except AdjudicationError:
            pass

    corpus = ROOT / "benchmarks" / ".fuzz-corpus"
    corpus.mkdir(exist_ok=True)
    for path in (ROOT / "casefiles").glob("*.yaml"):
        if not path.name.endswith(".expected.yaml"):
            (corpus / path.name).write_bytes(path.read_bytes())
    atheris.Setup([sys.argv[0], f"-runs={runs}", "-max_len=8192", str(corpus)], one_input)
    atheris.Fuzz()


def write_section(doc: Path, result: dict[str, Any], command: str) -> None:
    counts = result["counts"]
    body = [
        "<!-- fuzz.py -->",
        "## Fuzzing the case loader and the scorers (`benchmarks/fuzz.py`)",
        "",
        f"* Command: `{command}`",
        f"* Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; Python "
        f"{sys.version.split()[0]}; {os.cpu_count()} CPUs",
        f"* {result['inputs']:,} mutated case files (YAML and JSON, seeded), each loaded and, "
        f"when it loads, scored by both engines in worker processes: {result['seconds']:.0f} s",
        "",
        "| outcome | inputs |",
        "|---|---:|",
        *[f"| {name} | {n:,} |" for name, n in sorted(counts.items())],
        "| other exception, disagreement or unlocated error (findings) | "
        f"{len(result['findings'])} |",
        f"| worker crashes | {result['crashes']} |",
        "",
        f"Slowest single input: {result['slowest'] * 1000:.1f} ms (no hang).",
        "<!-- /fuzz.py -->",
    ]
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    start, end = text.find("<!-- fuzz.py -->"), text.find("<!-- /fuzz.py -->")
    section = "\n".join(body)
    if start >= 0 and end >= 0:
        text = text[:start] + section + text[end + len("<!-- /fuzz.py -->") :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    doc.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    mutate = sub.add_parser("mutate")
    mutate.add_argument("--inputs", type=int, default=100_000)
    mutate.add_argument("--seed", type=int, default=7)
    mutate.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    mutate.add_argument("--write", type=Path)
    fuzz = sub.add_parser("atheris")
    fuzz.add_argument("--runs", type=int, default=100_000)
    args = parser.parse_args()
    if args.mode == "atheris":
        run_atheris(args.runs)
        return 0
    result = run_mutate(args.inputs, args.seed, args.workers)
    print(json.dumps({k: v for k, v in result.items() if k != "findings"}, indent=1))
    for finding in result["findings"][:50]:
        print("FINDING", finding)
    if args.write:
        command = "PYTHONPATH=. .venv/bin/python " + " ".join(sys.argv)
        write_section(args.write, result, command)
    return 1 if result["findings"] or result["crashes"] else 0


if __name__ == "__main__":
    sys.exit(main())
