"""Scoring throughput: reference evaluator vs durable wrapper vs raw durable_rules.

Five measurements over the sample cases in ``casefiles/*.yaml`` (``*.expected.yaml`` skipped),
cases loaded once up front, only scoring timed:

1. ``reference``: ``Scorer(program, "reference").score(case)``, case by case;
2. ``durable``: ``Scorer(program, "durable").score(case)``, case by case;
3. ``reference, blocks`` and ``durable, blocks``: the same scorers' ``score_many(cases)``, the
   cases in blocks of ``engine.run.scoring.BLOCK`` as a batch run scores them;
4. ``raw durable_rules``: the floor. The facts the wrapper asserts for each case (taken once from
   ``Scored.rounds``) posted straight into durable_rules: the same ruleset definition
   (``to_durable``) with a trivial action on every rule, on a thread-less host, under its own
   ruleset name; per case a fresh sid, one ``assert_facts`` per round with the keys
   ``DurableSession.run`` adds (``id`` unique in the session, ``sid``, ``__round``), and
   ``delete_state`` in ``finally``.

Each measurement loops over all sample cases in whole passes until at least ``--seconds`` have
elapsed; the paths are interleaved and repeated ``--repeats`` times, the best (µs/case) kept.
Before timing, every case is checked: the wrapper's firings must equal the reference's, and the
raw baseline (a second, recording copy of its ruleset) must match the same (rule, bindings).

The overhead target is checked on both durable rows. Unless ``--no-breakdown``, the parts of the
``durable`` row are also timed alone (diagnostics,
see ``breakdown_paths``). ``--profile`` prints a cProfile of the durable wrapper path.

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
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine import Scorer, load_rules  # noqa: E402
from engine.cases.load import load_case  # noqa: E402
from engine.compile.durable import to_durable  # noqa: E402
from engine.rules.program import KEY, ROUND  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import durable.engine  # noqa: E402

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


def _how_compiled() -> str:
    from engine import compiled

    reason = compiled.reason()
    if reason is None:
        return "compiled with mypyc (`.ci/compile.py`; `ADJUDICATE_PURE=1` runs it from sources)"
    return f"from its sources ({reason})"


def breakdown_paths(
    program: Any, cases: Sequence[Any], rounds_per_case: list[Rounds], wrapper_scored: list[Any]
) -> tuple[dict[str, Any], list[str]]:
    """Diagnostics: the parts of the ``durable`` row, each timed alone on the same inputs.

    * ``pipeline only``: ``Scorer.score`` with the evaluator replaced by the recorded firings
      (case preparation, round facts, statuses, issues, ruling): what both engines share;
    * ``DurableEvaluator only``: the wrapper's sessions on the recorded round facts;
    * ``ReferenceEvaluator only``: the reference evaluator on the same round facts.

    These reach into internals (``Scorer._sessions``); a path that no longer fits is skipped.
    """
    paths: dict[str, Any] = {}
    notes: list[str] = []
    try:
        from engine.compile.host import DurableEvaluator

        evaluator = DurableEvaluator(program)

        def durable_only(rounds: Rounds) -> None:
            with evaluator.session() as session:
                for stratum, facts in rounds:
                    session.run(stratum, facts)

        with evaluator.session() as session:
            got = [session.run(st, fs) for st, fs in rounds_per_case[0]]
        assert got == [set(r.firings) for r in wrapper_scored[0].rounds]
        paths["DurableEvaluator only"] = (durable_only, rounds_per_case)
    except Exception as exc:  # noqa: BLE001 - diagnostics only
        notes.append(f"DurableEvaluator only: skipped ({exc!r})")
    try:
        from engine.compile.reference import ReferenceEvaluator

        ref_evaluator = ReferenceEvaluator(program)

        def reference_only(rounds: Rounds) -> None:
            for stratum, facts in rounds:
                ref_evaluator.run(stratum, facts)

        got = [ref_evaluator.run(st, fs) for st, fs in rounds_per_case[0]]
        assert got == [set(r.firings) for r in wrapper_scored[0].rounds]
        paths["ReferenceEvaluator only"] = (reference_only, rounds_per_case)
    except Exception as exc:  # noqa: BLE001
        notes.append(f"ReferenceEvaluator only: skipped ({exc!r})")
    try:
        replay = _Replay()
        replayed = Scorer(program, "reference")
        if not hasattr(replayed, "_sessions"):
            raise AttributeError("Scorer has no _sessions")
        replayed._sessions = replay
        items = [
            (case, [r.firings for r in scored.rounds])
            for case, scored in zip(cases, wrapper_scored, strict=True)
        ]

        def pipeline_only(item: tuple[Any, list[Any]]) -> None:
            replay.firings = item[1]
            replayed.score(item[0])

        for item, scored in zip(items, wrapper_scored, strict=True):
            replay.firings = item[1]
            assert replayed.score(item[0]).ruling == scored.ruling
        paths["pipeline only"] = (pipeline_only, items)
        every_case = [case for case, _ in items]
        every_firings = [firings for _, firings in items]

        def pipeline_blocks(_: Any) -> None:
            replay.queue.extend(every_firings)
            deque(replayed.score_many(every_case), maxlen=0)

        paths["pipeline only, blocks"] = (pipeline_blocks, [None])
    except Exception as exc:  # noqa: BLE001
        notes.append(f"pipeline only: skipped ({exc!r})")
    return paths, notes


class _Replay:
    """An evaluator that returns the firings recorded for the current case, round by round."""

    def __init__(self) -> None:
        self.firings: list[Any] = []
        self.queue: deque[list[Any]] = deque()  # the next cases' firings, for score_many

    def run(self, stratum: int, facts: Any) -> set[Any]:
        return set(self.firings[stratum])

    @contextmanager
    def session(self) -> Iterator[_Replay]:
        if self.queue:
            self.firings = self.queue.popleft()
        yield self


# --------------------------------------------------------------------------------------------
# Timing


@dataclass
class Result:
    label: str
    passes: int = 0  # loops over all the sample cases in the best measurement
    best: float = math.inf  # seconds of the best measurement (per case)
    elapsed: float = 0.0  # seconds of the best measurement (passes x cases)

    def us_per_case(self, ncases: int) -> float:
        return self.best * 1e6

    def per_second(self, ncases: int) -> float:
        return 1 / self.best


def _one_pass(fn: Callable[[Any], Any], items: Sequence[Any]) -> float:
    start = time.perf_counter()
    for item in items:
        fn(item)
    return time.perf_counter() - start


def _measure(fn: Callable[[Any], Any], items: Sequence[Any], seconds: float) -> tuple[float, int]:
    """Whole passes over ``items`` until at least ``seconds`` have elapsed: (elapsed, passes)."""
    gc.collect()
    passes = 0
    start = time.perf_counter()
    while True:
        for item in items:
            fn(item)
        passes += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return elapsed, passes


def calibrate(fn: Callable[[Any], Any], items: Sequence[Any], seconds: float) -> int:
    """Passes so that one measurement lasts at least ``seconds`` (with 10% margin)."""
    _one_pass(fn, items)  # warm up
    probe = min(_one_pass(fn, items) for _ in range(3))
    return max(1, math.ceil(seconds * 1.1 / probe))


def run_benchmarks(
    paths: dict[str, tuple[Callable[[Any], Any], Sequence[Any]]],
    seconds: float,
    repeats: int,
    cases_per_item: Mapping[str, int] | None = None,
) -> dict[str, Result]:
    """Each path's best µs per case; an item of a path named in ``cases_per_item`` stands for
    that many cases (a whole list given to ``score_many``), every other item for one."""
    results = {label: Result(label) for label in paths}
    weights = cases_per_item or {}
    for fn, items in paths.values():  # warm up
        _one_pass(fn, items)
    for r in range(repeats):  # interleaved, so that drift hits every path alike
        for label, (fn, items) in paths.items():
            res = results[label]
            elapsed, passes = _measure(fn, items, seconds)
            per_case = elapsed / (passes * len(items) * weights.get(label, 1))
            if per_case < res.best:
                res.best, res.passes, res.elapsed = per_case, passes, elapsed
            print(
                f"  repeat {r + 1}/{repeats} {label:<24} {passes:>5} passes "
                f"{elapsed:6.2f} s  {per_case * 1e6:8.1f} µs/case",
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
    ref_blocks, dur_blocks = results["reference, blocks"], results["durable, blocks"]
    rows = [
        ('`reference` engine, case by case (`Scorer(program, "reference").score`)', ref),
        ('`durable` engine, case by case (`Scorer(program, "durable").score`)', dur),
        ("`reference` engine, in blocks as a batch scores (`score_many`)", ref_blocks),
        ("`durable` engine, in blocks as a batch scores (`score_many`)", dur_blocks),
        ("raw durable_rules, same facts, trivial actions (floor)", raw),
    ]
    lines = [
        "| Path | cases/s | µs/case | best measurement: passes × cases, s | µs/case vs raw |",
        "|---|---:|---:|---:|---:|",
    ]
    for title, res in rows:
        lines.append(
            f"| {title} | {_fmt_rate(res.per_second(n))} | {res.us_per_case(n):.1f} | "
            f"{res.passes} × {n}, {res.elapsed:.2f} s | "
            f"{res.us_per_case(n) / raw.us_per_case(n):.2f}× |"
        )
    ok = {True: "**met**", False: "**missed**"}
    lines += ["", "| Ratio | Value | Target | |", "|---|---:|---:|---|"]
    for how, durable, reference in (
        ("case by case", dur, ref),
        ("in blocks", dur_blocks, ref_blocks),
    ):
        overhead = durable.us_per_case(n) / raw.us_per_case(n)
        speed = reference.per_second(n) / durable.per_second(n)
        lines += [
            f"| overhead, {how}: durable wrapper / raw durable_rules (µs/case) | "
            f"{overhead:.2f}× | < {OVERHEAD_TARGET}× | {ok[overhead < OVERHEAD_TARGET]} |",
            f"| speed, {how}: reference / durable (cases/s) | {speed:.2f}× | "
            f"≥ {SPEEDUP_TARGET}× | {ok[speed >= SPEEDUP_TARGET]} |",
        ]
    parts = {
        k: results[k]
        for k in (
            "pipeline only",
            "pipeline only, blocks",
            "DurableEvaluator only",
            "ReferenceEvaluator only",
        )
        if k in results
    }
    if parts:
        us = {k: v.us_per_case(n) for k, v in results.items()}
        what = {
            "pipeline only": "`Scorer.score` with the evaluator replaced by the recorded "
            "firings: preparation, round facts, decision (both engines pay it)",
            "pipeline only, blocks": "the same through `score_many`, in blocks",
            "DurableEvaluator only": "the wrapper's session on the recorded round facts "
            "(sid/ids, assert_facts, actions → Firing, delete_state)",
            "ReferenceEvaluator only": "the reference evaluator on the same round facts",
        }
        lines += [
            "",
            "Breakdown (diagnostics: each part timed alone on the same inputs):",
            "",
            "| Part | µs/case | ÷ `durable` row |",
            "|---|---:|---:|",
        ]
        for key in parts:
            lines.append(f"| {key}: {what[key]} | {us[key]:.1f} | {us[key] / us['durable']:.0%} |")
        if "DurableEvaluator only" in us:
            glue = us["DurableEvaluator only"] - us["raw durable_rules"]
            lines.append(
                f"| runtime glue = DurableEvaluator only − raw durable_rules | "
                f"{glue:.1f} | {glue / us['durable']:.0%} |"
            )
            lines.append("")
            lines.append(
                f"* evaluator-level overhead: DurableEvaluator only / raw = "
                f"{us['DurableEvaluator only'] / us['raw durable_rules']:.2f}×"
            )
            if "ReferenceEvaluator only" in us:
                lines.append(
                    f"* evaluator-level speed: ReferenceEvaluator only vs "
                    f"DurableEvaluator only = "
                    f"{us['DurableEvaluator only'] / us['ReferenceEvaluator only']:.2f}×"
                )
            if "pipeline only" in us:
                lines.append(
                    f"* pipeline only + DurableEvaluator only = "
                    f"{us['pipeline only'] + us['DurableEvaluator only']:.1f} µs "
                    f"(`durable` row: {us['durable']:.1f} µs)"
                )
    for note in info.get("notes", []):
        lines.append(f"* {note}")
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
            f"* Scoring path: {_how_compiled()}",
            f"* Sample cases: {info['cases']} (`casefiles/*.yaml` without `*.expected.yaml`), "
            f"{info['strata']} rounds per case; per case on average "
            f"{info['facts']:.1f} facts asserted (over all rounds), "
            f"{info['firings']:.2f} firings (distinct rule × binding), "
            f"{info['raw_actions']:.2f} durable actions (per alternative, incl. the guard rule)",
            f"* Method: cases loaded once up front, only scoring timed; each measurement loops "
            f"over all sample cases in whole passes until ≥ {info['seconds']:g} s have elapsed; "
            f"the paths are interleaved; best of {info['repeats']} repeats; gc enabled.",
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
        "--no-breakdown",
        action="store_true",
        help="skip the diagnostic breakdown of the durable row",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="print a cProfile of the durable wrapper path (top functions) after timing",
    )
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
    wrapper_scored = []
    mismatches, raw_mismatches = [], []
    facts = firings = raw_actions = 0
    for path, case in zip(paths, cases, strict=True):
        scored = wrapper.score(case)  # a Scorer(program, "durable"): the facts it asserts
        rounds: Rounds = [(r.stratum, tuple(dict(f) for f in r.facts)) for r in scored.rounds]
        rounds_per_case.append(rounds)
        wrapper_scored.append(scored)
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
        raw_mismatches.append("(action count)")
        print(f"  RAW ACTIONS differ: {len(raw.fired)} timed-path actions vs {raw_actions}")

    print(
        f"timing {n} cases, ≥ {args.seconds:g} s per measurement, best of {args.repeats} ...",
        file=sys.stderr,
    )
    for name, scorer in (("reference", reference), ("durable", wrapper)):
        scored_many = list(scorer.score_many(cases))  # the same rulings as case by case
        if [s.ruling for s in scored_many] != [s.ruling for s in wrapper_scored]:
            mismatches.append((f"score_many ({name})", []))
            print(f"  MISMATCH score_many ({name}): rulings differ from score()")

    def in_blocks(scorer: Scorer) -> Callable[[Any], Any]:
        return lambda all_cases: deque(scorer.score_many(all_cases), maxlen=0)

    timed: dict[str, Any] = {
        "reference": (reference.score, cases),
        "durable": (wrapper.score, cases),
        "reference, blocks": (in_blocks(reference), [cases]),
        "durable, blocks": (in_blocks(wrapper), [cases]),
        "raw durable_rules": (raw.score, rounds_per_case),
    }
    whole = {"reference, blocks": n, "durable, blocks": n}
    notes: list[str] = []
    if not args.no_breakdown:
        extra, notes = breakdown_paths(program, cases, rounds_per_case, wrapper_scored)
        timed.update(extra)
        if "pipeline only, blocks" in extra:
            whole["pipeline only, blocks"] = n
    results = run_benchmarks(timed, args.seconds, args.repeats, whole)

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
        "notes": notes,
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
    if args.profile:
        profile(wrapper.score, cases, args.seconds)
    return 1 if mismatches or raw_mismatches else 0


def profile(fn: Callable[[Any], Any], items: Sequence[Any], seconds: float, top: int = 30) -> None:
    """cProfile of ``fn`` over the sample cases for about ``seconds`` (plus profiler overhead)."""
    import cProfile
    import io
    import pstats

    passes = calibrate(fn, items, seconds / 3)  # the profiler roughly triples the time
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(passes):
        for item in items:
            fn(item)
    profiler.disable()
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order)
        stats.print_stats(top)
        print(
            f"\n## cProfile of the durable wrapper path, {passes} × {len(items)} cases, by {order}"
        )
        print(out.getvalue())


if __name__ == "__main__":
    sys.exit(main())
