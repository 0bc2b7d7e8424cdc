"""Scoring throughput: reference evaluator vs durable wrapper vs raw durable_rules.

Three measurements over the sample cases in ``casefiles/*.yaml`` (``*.expected.yaml`` skipped),
cases loaded once up front, only scoring timed:

1. ``reference``: ``Scorer(program, "reference").score(case)``;
2. ``durable``: ``Scorer(program, "durable").score(case)``;
3. ``raw durable_rules``: the floor. The facts the wrapper asserts for each case (taken once from
   ``Scored.rounds``) posted straight into durable_rules: the same ruleset definition
   (``to_durable``) with a trivial action on every rule, on a thread-less host, under its own
   ruleset name; per case a fresh sid, one ``assert_facts`` per round with the keys
   ``DurableSession.run`` adds (``id`` unique in the session, ``sid``, ``__round``), and
   ``delete_state`` in ``finally``.

Each measurement loops over all sample cases N times (N chosen so that one measurement lasts at
least ``--seconds``); the three are interleaved and repeated ``--repeats`` times, best kept.
Before timing, every case is checked: the wrapper's firings must equal the reference's, and the
raw baseline (a second, recording copy of its ruleset) must match the same (rule, bindings).

    PYTHONPATH=. /tmp/venv/bin/python benchmarks/score.py --write docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import math
import os
import platform
import re
import shlex
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine import Scorer, load_rules  # noqa: E402
from engine.casefile import load_case  # noqa: E402
from engine.compile.durable import to_durable  # noqa: E402
from engine.rules.program import KEY, ROUND  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import durable.engine  # type: ignore[import-untyped]  # noqa: E402

BEGIN, END = "<!-- score.py -->", "<!-- /score.py -->"
OVERHEAD_TARGET = 1.5  # durable wrapper / raw durable_rules: below this
SPEEDUP_TARGET = 5.0  # reference / durable wrapper (cases/s): at least this


class SyncHost(durable.engine.Host):  # type: ignore[misc]
    """A Host without its background timer threads (research/durable-rules.md 2.3)."""

    def _run(self) -> None:
        pass


# --------------------------------------------------------------------------------------------
# The raw baseline


Rounds = list[tuple[int, tuple[dict[str, Any], ...]]]


class RawBaseline:
    """The same facts straight into durable_rules: no wrapper, trivial actions."""

    def __init__(self, program: Any, name: str = "raw-baseline") -> None:
        self.host = SyncHost()
        self.name = name
        self.fired: list[int] = []
        fired = self.fired

        def action(c: Any) -> None:  # exactly one positional parameter
            fired.append(1)

        definition = to_durable(program)
        for body in definition.values():
            body["run"] = action
        self.host.register_rulesets({name: definition})
        self.serial = 0

    def score(self, rounds: Rounds) -> None:
        host, name = self.host, self.name
        self.serial += 1
        sid = f"raw{self.serial}"
        n = 0
        try:
            for stratum, facts in rounds:
                batch = []
                for fact in facts:  # exactly what DurableSession.run adds
                    batch.append({**fact, "id": f"f{n}", "sid": sid, ROUND: stratum})
                    n += 1
                host.assert_facts(name, batch)
        finally:
            host.delete_state(name, sid)


class RawCheck:
    """A recording copy of the raw ruleset (not timed): which (rule, bindings) it matches."""

    def __init__(self, program: Any, name: str = "raw-baseline-check") -> None:
        self.host = SyncHost()
        self.name = name
        self.matches: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        self.actions = 0
        aliases = {rule.id: tuple(a.name for a in rule.aliases) for rule in program.rules}
        definition = to_durable(program)
        for durable_id, body in definition.items():
            rule_id = durable_id.rsplit("#", 1)[0]
            body["run"] = self._action(rule_id, aliases.get(rule_id))
        self.host.register_rulesets({name: definition})
        self.serial = 0

    def _action(self, rule_id: str, aliases: tuple[str, ...] | None) -> Callable[[Any], None]:
        def action(c: Any) -> None:
            self.actions += 1
            if aliases is not None:  # guard and sink are not policy rules
                m = c._m
                self.matches.add((rule_id, tuple((a, m[a][KEY]) for a in aliases)))

        return action

    def score(self, rounds: Rounds) -> tuple[set[tuple[str, Any]], int]:
        self.matches, self.actions = set(), 0
        self.serial += 1
        sid = f"chk{self.serial}"
        n = 0
        try:
            for stratum, facts in rounds:
                batch = []
                for fact in facts:
                    batch.append({**fact, "id": f"f{n}", "sid": sid, ROUND: stratum})
                    n += 1
                self.host.assert_facts(self.name, batch)
        finally:
            self.host.delete_state(self.name, sid)
        return self.matches, self.actions


# --------------------------------------------------------------------------------------------
# Timing


@dataclass
class Result:
    label: str
    passes: int = 0  # loops over all the sample cases per measurement
    best: float = math.inf  # seconds for one measurement (passes x cases)
    runs: list[float] | None = None

    def us_per_case(self, ncases: int) -> float:
        return self.best / (self.passes * ncases) * 1e6

    def per_second(self, ncases: int) -> float:
        return self.passes * ncases / self.best


def _one_pass(fn: Callable[[Any], Any], items: Sequence[Any]) -> float:
    start = time.perf_counter()
    for item in items:
        fn(item)
    return time.perf_counter() - start


def _measure(fn: Callable[[Any], Any], items: Sequence[Any], passes: int) -> float:
    gc.collect()
    start = time.perf_counter()
    for _ in range(passes):
        for item in items:
            fn(item)
    return time.perf_counter() - start


def calibrate(fn: Callable[[Any], Any], items: Sequence[Any], seconds: float) -> int:
    """Passes so that one measurement lasts at least ``seconds`` (with 10% margin)."""
    _one_pass(fn, items)  # warm up
    probe = min(_one_pass(fn, items) for _ in range(3))
    return max(1, math.ceil(seconds * 1.1 / probe))


def run_benchmarks(
    paths: dict[str, tuple[Callable[[Any], Any], Sequence[Any]]], seconds: float, repeats: int
) -> dict[str, Result]:
    results = {label: Result(label, runs=[]) for label in paths}
    for label, (fn, items) in paths.items():
        results[label].passes = calibrate(fn, items, seconds)
    for r in range(repeats):  # interleaved, so that drift hits every path alike
        for label, (fn, items) in paths.items():
            res = results[label]
            elapsed = _measure(fn, items, res.passes)
            assert res.runs is not None
            res.runs.append(elapsed)
            res.best = min(res.best, elapsed)
            print(
                f"  repeat {r + 1}/{repeats} {label:<18} {res.passes:>5} passes "
                f"{elapsed:6.2f} s  {elapsed / (res.passes * len(items)) * 1e6:8.1f} µs/case",
                file=sys.stderr,
            )
    return results


# --------------------------------------------------------------------------------------------
# Environment and report


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def command_line() -> str:
    env = (
        f"PYTHONPATH={shlex.quote(os.environ['PYTHONPATH'])} " if "PYTHONPATH" in os.environ else ""
    )
    argv = [sys.argv[0]]
    try:
        argv[0] = os.path.relpath(sys.argv[0])
    except ValueError:
        pass
    return env + " ".join(shlex.quote(a) for a in [sys.executable, *argv, *sys.argv[1:]])


def _fmt_rate(x: float) -> str:
    return f"{x:,.0f}"


def report(results: dict[str, Result], info: dict[str, Any]) -> str:
    n = info["cases"]
    ref, dur, raw = results["reference"], results["durable"], results["raw durable_rules"]
    rows = [
        ('`reference` engine (`Scorer(program, "reference")`)', ref),
        ('`durable` engine (`Scorer(program, "durable")`)', dur),
        ("raw durable_rules, same facts, trivial actions (floor)", raw),
    ]
    lines = [
        "| Path | cases/s | µs/case | passes × cases per measurement | µs/case vs raw |",
        "|---|---:|---:|---:|---:|",
    ]
    for title, res in rows:
        lines.append(
            f"| {title} | {_fmt_rate(res.per_second(n))} | {res.us_per_case(n):.1f} | "
            f"{res.passes} × {n} | {res.us_per_case(n) / raw.us_per_case(n):.2f}× |"
        )
    overhead = dur.us_per_case(n) / raw.us_per_case(n)
    speed = ref.per_second(n) / dur.per_second(n)
    ok = {True: "**met**", False: "**missed**"}
    lines += [
        "",
        "| Ratio | Value | Target | |",
        "|---|---:|---:|---|",
        f"| overhead: durable wrapper / raw durable_rules (µs/case) | {overhead:.2f}× | "
        f"< {OVERHEAD_TARGET}× | {ok[overhead < OVERHEAD_TARGET]} |",
        f"| speed: reference / durable (cases/s) | {speed:.2f}× | "
        f"≥ {SPEEDUP_TARGET}× | {ok[speed >= SPEEDUP_TARGET]} |",
    ]
    return "\n".join(lines)


def section(table: str, info: dict[str, Any]) -> str:
    return "\n".join(
        [
            BEGIN,
            "## Scoring throughput (`benchmarks/score.py`)",
            "",
            "Generated by `benchmarks/score.py`; do not edit by hand between the markers.",
            "",
            f"* Command: `{info['command']}`",
            f"* Date: {info['date']}",
            f"* Python {info['python']} ({info['implementation']}), durable-rules "
            f"{info['durable_rules']}, {info['platform']}",
            f"* CPU: {info['cpu']} ({info['ncpu']} logical CPUs); single process, single thread",
            f"* Sample cases: {info['cases']} (`casefiles/*.yaml` without `*.expected.yaml`), "
            f"{info['strata']} rounds per case; per case on average "
            f"{info['facts']:.1f} facts asserted (over all rounds), "
            f"{info['firings']:.2f} firings (distinct rule × binding), "
            f"{info['raw_actions']:.2f} durable actions (per alternative, incl. the guard rule)",
            f"* Method: cases loaded once up front, only scoring timed; each measurement loops "
            f"over all sample cases N times (N chosen so that it lasts ≥ {info['seconds']:g} s); "
            f"the three paths are interleaved; best of {info['repeats']} repeats; gc enabled.",
            f"* Sanity: wrapper firings equal reference firings on "
            f"{info['agree']}/{info['cases']} cases; raw baseline matches the same "
            f"(rule, bindings) on {info['raw_agree']}/{info['cases']} cases.",
            "",
            table,
            "",
            "The raw path posts the facts the wrapper asserts (taken once per case from "
            "`Scored.rounds`) straight into durable_rules: the same `to_durable(program)` ruleset "
            "with `def action(c): fired.append(1)` on every rule, a thread-less `SyncHost`, "
            "one `assert_facts` per round with `id`/`sid`/`__round` added as "
            "`DurableSession.run` does, and `delete_state` in `finally`. It is what durable_rules "
            "itself costs for the same work; everything above it in the `durable` row is the "
            "wrapper: case preparation, round facts, the decision, and the runtime glue.",
            END,
        ]
    )


def write_section(path: Path, text: str) -> None:
    if path.exists():
        old = path.read_text(encoding="utf-8")
        pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
        if pattern.search(old):
            new = pattern.sub(lambda _: text, old, count=1)
        else:
            new = old.rstrip("\n") + "\n\n" + text + "\n"
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        new = "# Benchmarks\n\n" + text + "\n"
    path.write_text(new, encoding="utf-8")


# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds", type=float, default=2.0, help="minimum duration of one measurement (default 2)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="repeats, best kept (default 3)")
    parser.add_argument("--rules", default=str(ROOT / "rules"), help="rules directory")
    parser.add_argument("--cases", default=str(ROOT / "casefiles"), help="sample cases directory")
    parser.add_argument(
        "--write",
        metavar="MARKDOWN",
        help="write the results section into this file (between markers)",
    )
    args = parser.parse_args(argv)

    program = load_rules(args.rules)
    paths = sorted(
        p for p in Path(args.cases).glob("*.yaml") if not p.name.endswith(".expected.yaml")
    )
    if not paths:
        parser.error(f"no sample cases in {args.cases}")
    cases = [load_case(p) for p in paths]
    n = len(cases)

    reference = Scorer(program, "reference")
    wrapper = Scorer(program, "durable")
    raw = RawBaseline(program)
    check = RawCheck(program)

    # Facts per case, from the wrapper, once; and the sanity checks.
    rounds_per_case: list[Rounds] = []
    mismatches, raw_mismatches = [], []
    facts = firings = raw_actions = 0
    for path, case in zip(paths, cases, strict=True):
        scored = wrapper.score(case)  # a Scorer(program, "durable"): the facts it asserts
        rounds: Rounds = [(r.stratum, tuple(dict(f) for f in r.facts)) for r in scored.rounds]
        rounds_per_case.append(rounds)
        ref_firings = reference.score(case).firings
        if ref_firings != scored.firings:
            mismatches.append((path.name, sorted(ref_firings ^ scored.firings)))
        matched, actions = check.score(rounds)
        if matched != {(f.rule_id, f.bindings) for f in scored.firings}:
            raw_mismatches.append(path.name)
        facts += sum(len(fs) for _, fs in rounds)
        firings += len(scored.firings)
        raw_actions += actions
    print(
        f"sanity: wrapper firings == reference firings on {n - len(mismatches)}/{n} cases; "
        f"raw baseline matches == wrapper firings on {n - len(raw_mismatches)}/{n} cases"
    )
    for name, diff in mismatches:
        print(f"  MISMATCH {name}: {diff}")
    for name in raw_mismatches:
        print(f"  RAW MISMATCH {name}")

    # The raw baseline's action count must be the check's (same ruleset, same facts).
    raw.fired.clear()
    for rounds in rounds_per_case:
        raw.score(rounds)
    if len(raw.fired) != raw_actions:
        print(f"  RAW ACTIONS differ: {len(raw.fired)} timed-path actions vs {raw_actions}")

    print(
        f"timing {n} cases, ≥ {args.seconds:g} s per measurement, best of {args.repeats} ...",
        file=sys.stderr,
    )
    results = run_benchmarks(
        {
            "reference": (reference.score, cases),
            "durable": (wrapper.score, cases),
            "raw durable_rules": (raw.score, rounds_per_case),
        },
        args.seconds,
        args.repeats,
    )

    info = {
        "command": command_line(),
        "date": datetime.now(UTC).astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "durable_rules": importlib.metadata.version("durable-rules"),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpu": cpu_model(),
        "ncpu": os.cpu_count(),
        "cases": n,
        "strata": program.strata,
        "facts": facts / n,
        "firings": firings / n,
        "raw_actions": raw_actions / n,
        "seconds": args.seconds,
        "repeats": args.repeats,
        "agree": n - len(mismatches),
        "raw_agree": n - len(raw_mismatches),
    }
    table = report(results, info)
    print()
    print(
        f"{n} sample cases; per case {info['facts']:.1f} facts, {info['firings']:.2f} firings, "
        f"{info['raw_actions']:.2f} durable actions; Python {info['python']}; {info['cpu']}"
    )
    print()
    print(table)
    if args.write:
        write_section(Path(args.write), section(table, info))
        print(f"\nwrote {args.write}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
