"""Profile one worker's per-case costs: ``score_shard`` in this process over a generated archive.

    PYTHONPATH=. .venv/bin/python benchmarks/shard_profile.py --archive /tmp/a20k [--profile]

Prints wall and CPU µs per case for the whole shard loop, and for its non-scoring parts taken
alone: reading (gunzip + lines), parsing + validating each line, the ruling's JSON line, the
tally (each over the same cases, best of ``--repeat``). With ``--profile`` also a cProfile of
score_shard sorted by internal time.

"score_shard, scoring replayed" is the same loop with each case's ruling looked up instead of
scored: what a worker spends on everything but scoring.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time

from engine.batch import shard as shard_module
from engine.batch.archive import plan_archive, read_shard
from engine.batch.shard import Job, install_programs, jsonl_row, score_shard, scorer_for
from engine.batch.summary import Tally
from engine.cases.load import parse_jsonl_line
from engine.errors import CaseFileError
from engine.rules.loader import load_rules


def _best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        fn()
        best = min(best, time.process_time() - started)
    return best


class _Replay:
    """A Scorer that gives each case the result scored before (by case id)."""

    def __init__(self, scorer, results) -> None:  # type: ignore[no-untyped-def]
        self.program, self.plan, self.results = scorer.program, scorer.plan, results

    def score(self, case, trace=False):  # type: ignore[no-untyped-def]
        found = self.results[case.case_id]
        if isinstance(found, Exception):
            raise found
        return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--archive", required=True)
    parser.add_argument("--rules", default="rules")
    parser.add_argument("--engine", default="reference")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    program = load_rules(args.rules)
    install_programs([program])
    scorer = scorer_for(program.digest, args.engine)
    shards = plan_archive([args.archive], shard_cases=10_000).shards
    entries = [e for shard in shards for e in read_shard(shard)]
    n = len(entries)
    fields = program.declared_fields()

    def read_all() -> None:
        for shard in shards:
            for _ in read_shard(shard):
                pass

    cases: list = []

    def parse_all() -> None:
        cases.clear()
        for e in entries:
            try:
                cases.append(parse_jsonl_line(e.raw, source=e.source, line=e.line, fields=fields))
            except CaseFileError:
                pass

    parse_all()
    rulings = []
    results: dict = {}
    for c in cases:
        try:
            scored = results[c.case_id] = scorer.score(c, trace=False)
            rulings.append((c, scored.ruling))
        except Exception as exc:  # noqa: BLE001 - an unknown dispute type: an error row
            results[c.case_id] = exc
    replay = _Replay(scorer, results)

    def score_all() -> None:
        for c, _ in rulings:
            scorer.score(c, trace=False)

    def rows_all() -> None:
        for _, r in rulings:
            jsonl_row(r.as_dict())

    def tally_all() -> None:
        tally = Tally()
        for c, r in rulings:
            tally.add_ruling(c, r)

    with tempfile.TemporaryDirectory() as out:
        job = Job(out=out, mode="score", engine=args.engine, rules=(program.digest,))

        def shard_all() -> None:
            for shard in shards:
                score_shard(shard, job)

        def replayed() -> None:
            key = (program.digest, args.engine)
            shard_module._SCORERS[key] = replay  # type: ignore[assignment]
            try:
                shard_all()
            finally:
                shard_module._SCORERS[key] = scorer

        shard_all()  # warm
        parts = {
            "score_shard (all)": shard_all,
            "score_shard, scoring replayed": replayed,
            "read (gunzip, lines)": read_all,
            "parse + validate": parse_all,
            "scorer.score": score_all,
            "ruling JSON line": rows_all,
            "tally": tally_all,
        }
        print(f"{n:,} inputs, {len(cases):,} cases read; CPU µs per input, best of {args.repeat}")
        for name, fn in parts.items():
            print(f"  {name:30} {_best(fn, args.repeat) / n * 1e6:8.1f}")
        if args.profile:
            prof = cProfile.Profile()
            prof.runcall(shard_all)
            stats = pstats.Stats(prof, stream=sys.stdout)
            stats.sort_stats("tottime").print_stats(35)
    return 0


if __name__ == "__main__":
    sys.exit(main())
