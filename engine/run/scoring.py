"""Case -> Ruling: the rounds of one case through one evaluator, then the decision.

Round ``s`` asserts the facts known after the rounds before it (evidence statuses, issue results,
derived values) and runs the rules of stratum ``s``. Both evaluators are driven by this same
loop, so they see identical facts and must give identical firings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any, Literal, Protocol

from engine.cases.slotted import maker
from engine.compile.reference import ReferenceEvaluator
from engine.errors import CaseFileError, Problem, did_you_mean
from engine.model import Case, Firing, SourceLoc
from engine.rules.program import Program
from engine.ruling import Ruling
from engine.run.decide import Decider
from engine.run.facts import FactPlan, Prepared, prepare, round_facts
from engine.run.results import EvidenceStatus, IssueResult

__all__ = ["BLOCK", "ENGINES", "Scored", "Scorer", "score_case"]

ENGINES = ("durable", "reference")
BLOCK = 64  # cases worked out together by Scorer.score_many (docs/benchmarks.md)
EngineName = Literal["durable", "reference"]


class _Session(Protocol):
    def run(self, stratum: int, facts: Iterable[Mapping[str, Any]]) -> set[Firing]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Round:
    stratum: int
    facts: tuple[Mapping[str, Any], ...]
    firings: frozenset[Firing]


@dataclass(frozen=True, slots=True, kw_only=True)
class Scored:
    """A ruling with what produced it: the rounds (facts and firings) and the prepared case."""

    ruling: Ruling
    firings: frozenset[Firing]
    rounds: tuple[Round, ...]
    prepared: Prepared
    issues: tuple[IssueResult, ...]


# made without their frozen __init__ (one object.__setattr__ a field; engine.cases.slotted)
_ROUND: Callable[..., Round] = maker(Round)
_SCORED: Callable[..., Scored] = maker(Scored)


class _ReferenceSessions:
    """The reference evaluator keeps no state between cases: every session is the same one."""

    def __init__(self, program: Program) -> None:
        self.evaluator = ReferenceEvaluator(program)

    def session(self) -> _ReferenceSessions:
        return self

    def __enter__(self) -> ReferenceEvaluator:
        return self.evaluator

    def __exit__(self, *exc: object) -> None:
        return None


class Scorer:
    """Scores cases under one Program with one evaluator; reuse it for many cases."""

    def __init__(self, program: Program, engine: EngineName = "durable") -> None:
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
        self.program = program
        self.engine = engine
        self.plan = FactPlan(program)
        self.decider = Decider(self.plan)
        self._dispute_types = frozenset(d.name for d in program.dispute_types)
        if engine == "durable":
            from engine.compile.host import DurableEvaluator

            self._sessions: Any = DurableEvaluator(program)
        else:
            self._sessions = _ReferenceSessions(program)

    def check(self, case: Case) -> None:
        """Reject a case whose dispute type the rules do not define (a located error)."""
        if case.dispute.type not in self._dispute_types:
            known = [d.name for d in self.program.dispute_types]
            hint = did_you_mean(case.dispute.type, known) or f"one of: {', '.join(known)}"
            loc = case.source or SourceLoc(path=case.case_id)
            raise CaseFileError(
                [
                    Problem(
                        loc,
                        f"dispute.type: unknown dispute type '{case.dispute.type}'",
                        path="dispute.type",
                        hint=hint,
                    )
                ]
            )

    def score(self, case: Case, *, trace: bool = True) -> Scored:
        """The case's ruling and how it came about; ``trace=False`` keeps no rounds (their facts
        and firings, for explanations), which a batch run does not need."""
        self.check(case)
        prepared = prepare(self.plan, case)
        with self._sessions.session() as session:
            played = self._play(prepared, session, trace)
        return self._finish(prepared, played)

    def score_many(
        self, cases: Iterable[Case], *, trace: bool = True, block: int = BLOCK
    ) -> Iterator[Scored | Exception]:
        """Each case's ``Scored``, or the exception that stopped it, in the cases' order: one
        case that fails never stops the others. The same results as ``score`` case by case,
        worked out in blocks of ``block`` cases: every case of a block prepared, then their
        rounds one session after another (one session alive at a time), then their decisions.
        Each durable_rules session sets up megabytes of its own arrays, which leaves the
        processor's caches cold for whatever Python runs next; in blocks, preparation and
        decision run one case after another on warm caches (``docs/benchmarks.md``)."""
        if block < 1:
            raise ValueError(f"block must be at least 1, not {block}")
        pending = iter(cases)
        while chunk := list(islice(pending, block)):
            yield from self._score_block(chunk, trace)

    def _score_block(self, cases: list[Case], trace: bool) -> list[Scored | Exception]:
        prepared: list[Prepared | Exception] = []
        for case in cases:
            try:
                self.check(case)
                prepared.append(prepare(self.plan, case))
            except Exception as exc:  # noqa: BLE001 - the case's result: it stops no other
                prepared.append(exc)
        played: list[_Played | Exception] = []
        for item in prepared:
            if isinstance(item, Exception):
                played.append(item)
                continue
            try:
                with self._sessions.session() as session:
                    played.append(self._play(item, session, trace))
            except Exception as exc:  # noqa: BLE001
                played.append(exc)
        results: list[Scored | Exception] = []
        for item, play in zip(prepared, played, strict=True):
            if isinstance(play, Exception):
                results.append(play)
                continue
            assert isinstance(item, Prepared)
            try:
                results.append(self._finish(item, play))
            except Exception as exc:  # noqa: BLE001
                results.append(exc)
        return results

    def _play(self, prepared: Prepared, session: _Session, trace: bool) -> _Played:
        """The case's rounds in ``session``: each round's facts, from what the rounds before it
        fired, asserted and run."""
        program = self.program
        plan = self.plan
        decider = self.decider
        play = _Played()
        firings = play.firings
        statuses = play.statuses
        issues = play.issues
        stale = False  # statuses are recomputed only after firings that can change them
        for stratum in range(program.strata):
            if stratum > 0 and (stale or not statuses):
                statuses = decider.statuses(prepared, firings)
                stale = False
            if issues is None and stratum >= program.issue_stratum:
                issues = decider.issues(prepared, firings, statuses)
            facts = round_facts(plan, prepared, stratum, statuses, issues)
            fired = session.run(stratum, facts) if facts else set()
            firings |= fired
            stale = stale or decider.changes_statuses(fired)
            if trace:
                play.rounds.append(
                    _ROUND(stratum=stratum, facts=tuple(facts), firings=frozenset(fired))
                )
        play.statuses = statuses
        play.issues = issues
        play.stale = stale
        return play

    def _finish(self, prepared: Prepared, play: _Played) -> Scored:
        """The decision on the rounds' firings: statuses, issues and the ruling."""
        firings = play.firings
        statuses = play.statuses
        if play.stale or not statuses:
            statuses = self.decider.statuses(prepared, firings)
        issues = play.issues
        if issues is None:
            issues = self.decider.issues(prepared, firings, statuses)
        ruling = self.decider.ruling(prepared, firings, statuses, issues)
        return _SCORED(
            ruling=ruling,
            firings=frozenset(firings),
            rounds=tuple(play.rounds),
            prepared=prepared,
            issues=issues,
        )


class _Played:
    """What a case's rounds left for the decision."""

    def __init__(self) -> None:
        self.firings: set[Firing] = set()
        self.statuses: dict[str, EvidenceStatus] = {}
        self.issues: tuple[IssueResult, ...] | None = None
        self.rounds: list[Round] = []
        self.stale = False  # firings since the statuses were last worked out can change them


def score_case(case: Case, program: Program, engine: EngineName = "durable") -> Ruling:
    """Score one case (builds a Scorer; keep a Scorer to score many)."""
    return Scorer(program, engine).score(case).ruling
