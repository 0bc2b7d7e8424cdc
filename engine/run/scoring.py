"""Case -> Ruling: the rounds of one case through one evaluator, then the decision.

Round ``s`` asserts the facts known after the rounds before it (evidence statuses, issue results,
derived values) and runs the rules of stratum ``s``. Both evaluators are driven by this same
loop, so they see identical facts and must give identical firings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from engine.compile.reference import ReferenceEvaluator
from engine.errors import CaseFileError, Problem, did_you_mean
from engine.model import Case, Firing, SourceLoc
from engine.rules.program import Program
from engine.ruling import Ruling
from engine.run.decide import Decider
from engine.run.facts import FactPlan, Prepared, prepare, round_facts
from engine.run.results import EvidenceStatus, IssueResult

__all__ = ["ENGINES", "Scored", "Scorer", "score_case"]

ENGINES = ("durable", "reference")
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
        program = self.program
        plan = self.plan
        prepared = prepare(plan, case)
        firings: set[Firing] = set()
        statuses: dict[str, EvidenceStatus] = {}
        issues: tuple[IssueResult, ...] | None = None
        rounds = []
        stale = False  # statuses are recomputed only after firings that can change them
        with self._sessions.session() as session:
            for stratum in range(program.strata):
                if stratum > 0 and stale:
                    statuses = self.decider.statuses(prepared, firings)
                    stale = False
                elif stratum > 0 and not statuses:
                    statuses = self.decider.statuses(prepared, firings)
                if issues is None and stratum >= program.issue_stratum:
                    issues = self.decider.issues(prepared, firings, statuses)
                facts = round_facts(plan, prepared, stratum, statuses, issues)
                fired = session.run(stratum, facts) if facts else set()
                firings |= fired
                stale = stale or self.decider.changes_statuses(fired)
                if trace:
                    rounds.append(
                        Round(stratum=stratum, facts=tuple(facts), firings=frozenset(fired))
                    )
        if stale or not statuses:
            statuses = self.decider.statuses(prepared, firings)
        if issues is None:
            issues = self.decider.issues(prepared, firings, statuses)
        ruling = self.decider.ruling(prepared, firings, statuses, issues)
        return Scored(
            ruling=ruling,
            firings=frozenset(firings),
            rounds=tuple(rounds),
            prepared=prepared,
            issues=issues,
        )


def score_case(case: Case, program: Program, engine: EngineName = "durable") -> Ruling:
    """Score one case (builds a Scorer; keep a Scorer to score many)."""
    return Scorer(program, engine).score(case).ruling
