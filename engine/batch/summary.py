"""Per-shard counts -> the run's summary: rulings, dispute types, errors, agreement with the
rulings recorded in the archive (overall, by dispute type, a confusion table, the disagreements).

Every shard writes its own ``Tally`` beside its results; the summary is their sum, so it never
re-reads the results and costs the same for a thousand cases or a hundred million. A shard's
tally holds its disagreeing cases in full; a sum holds only their number and the first ids, so
that the driver's memory does not grow with the archive (each worker writes its shard's rows to
a file of their own, and ``disagreements.jsonl`` is those files joined).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from engine.model import Case, Decision
from engine.policytools.agreement import keeps
from engine.ruling import Ruling

__all__ = ["DISAGREEMENTS_LISTED", "Tally"]

DISAGREEMENTS_LISTED = 1000  # in summary.json; every one is in disagreements.jsonl


class Tally:
    """Counts of a shard or a run; ``merge`` adds another one in."""

    def __init__(self) -> None:
        self.cases = 0  # inputs: cases read (or unreadable inputs)
        self.lines = 0  # result lines written (a ruling or an error object)
        self.rulings: Counter[str] = Counter()
        self.by_type: dict[str, Counter[str]] = {}
        self.errors: Counter[str] = Counter()
        self.recorded = 0
        self.agreed = 0
        self.agreement_by_type: dict[str, list[int]] = {}  # type -> [recorded, agreed]
        self.confusion: dict[str, Counter[str]] = {}  # recorded ruling -> re-scored ruling
        # this shard's, in full, for its disagreements file; neither summed nor in to_json
        self.disagreements: list[dict[str, Any]] = []
        self.disagreed = 0  # every disagreement, summed
        self.disagreeing_ids: list[str] = []  # the first DISAGREEMENTS_LISTED case ids, summed

    def add_ruling(self, case: Case, ruling: Ruling) -> None:
        self.cases += 1
        self.lines += 1
        outcome, kind, decision = ruling.ruling, case.dispute.type, case.decision
        self.rulings[outcome] += 1
        _count(self.by_type, kind, outcome)
        # agreement: the same ruling and, where the record gives them, the same amounts
        if decision is None:  # nothing recorded: agreement not asked
            return
        agreed = keeps(decision, ruling)
        self.recorded += 1
        self.agreed += agreed
        pair = self.agreement_by_type.get(kind)
        if pair is None:
            pair = self.agreement_by_type[kind] = [0, 0]
        pair[0] += 1
        pair[1] += agreed
        _count(self.confusion, decision.ruling, outcome)
        if not agreed:
            self._disagree(case, decision, ruling)

    def _disagree(self, case: Case, decision: Decision, ruling: Ruling) -> None:
        self.disagreed += 1
        if len(self.disagreeing_ids) < DISAGREEMENTS_LISTED:
            self.disagreeing_ids.append(case.case_id)
        refund, compensation = decision.refund_amount, decision.compensation_amount
        self.disagreements.append(
            {
                "case_id": case.case_id,
                "source": str(case.source or ""),
                "dispute_type": case.dispute.type,
                "recorded": {
                    "ruling": decision.ruling,
                    "refund_amount": None if refund is None else float(refund),
                    "compensation_amount": None if compensation is None else float(compensation),
                },
                "rescored": {
                    "ruling": ruling.ruling,
                    "refund_amount": float(ruling.refund_amount),
                    "compensation_amount": float(ruling.compensation_amount),
                },
            }
        )

    def add_error(self, kind: str) -> None:
        self.cases += 1
        self.lines += 1
        self.errors[kind] += 1

    def merge(self, other: Tally) -> None:
        self.cases += other.cases
        self.lines += other.lines
        self.rulings.update(other.rulings)
        for kind, counts in other.by_type.items():
            self.by_type.setdefault(kind, Counter()).update(counts)
        self.errors.update(other.errors)
        self.recorded += other.recorded
        self.agreed += other.agreed
        for kind, (recorded, agreed) in other.agreement_by_type.items():
            pair = self.agreement_by_type.setdefault(kind, [0, 0])
            pair[0] += recorded
            pair[1] += agreed
        for recorded_ruling, counts in other.confusion.items():
            self.confusion.setdefault(recorded_ruling, Counter()).update(counts)
        self.disagreed += other.disagreed
        self.disagreeing_ids.extend(
            other.disagreeing_ids[: DISAGREEMENTS_LISTED - len(self.disagreeing_ids)]
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "lines": self.lines,
            "rulings": dict(sorted(self.rulings.items())),
            "by_type": {k: dict(sorted(v.items())) for k, v in sorted(self.by_type.items())},
            "errors": dict(sorted(self.errors.items())),
            "recorded": self.recorded,
            "agreed": self.agreed,
            "agreement_by_type": dict(sorted(self.agreement_by_type.items())),
            "confusion": {k: dict(sorted(v.items())) for k, v in sorted(self.confusion.items())},
            "disagreed": self.disagreed,
            "disagreeing_ids": self.disagreeing_ids,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tally:
        tally = cls()
        tally.cases, tally.lines = data["cases"], data["lines"]
        tally.rulings = Counter(data["rulings"])
        tally.by_type = {k: Counter(v) for k, v in data["by_type"].items()}
        tally.errors = Counter(data["errors"])
        tally.recorded, tally.agreed = data["recorded"], data["agreed"]
        tally.agreement_by_type = {k: list(v) for k, v in data["agreement_by_type"].items()}
        tally.confusion = {k: Counter(v) for k, v in data["confusion"].items()}
        tally.disagreements = list(data.get("disagreements", ()))  # stats of earlier versions
        ids = [d["case_id"] for d in tally.disagreements[:DISAGREEMENTS_LISTED]]
        tally.disagreed = data.get("disagreed", len(tally.disagreements))  # earlier versions
        tally.disagreeing_ids = data.get("disagreeing_ids", ids)
        return tally

    def summary(self) -> dict[str, Any]:
        """The run's summary as JSON data (``summary.json``)."""

        def rate(agreed: int, recorded: int) -> float | None:
            return round(agreed / recorded, 6) if recorded else None

        return {
            "cases": self.cases,
            "lines": self.lines,
            "scored": sum(self.rulings.values()),
            "errors": sum(self.errors.values()),
            "rulings": dict(self.rulings.most_common()),
            "by_dispute_type": {
                kind: {"cases": sum(counts.values()), "rulings": dict(counts.most_common())}
                for kind, counts in sorted(self.by_type.items())
            },
            "errors_by_type": dict(self.errors.most_common()),
            "agreement": {
                "recorded": self.recorded,
                "agreed": self.agreed,
                "rate": rate(self.agreed, self.recorded),
                "by_dispute_type": {
                    kind: {"recorded": r, "agreed": a, "rate": rate(a, r)}
                    for kind, (r, a) in sorted(self.agreement_by_type.items())
                },
                "confusion": {
                    k: dict(sorted(v.items())) for k, v in sorted(self.confusion.items())
                },
                "disagreements": self.disagreed,
                "disagreeing_case_ids": self.disagreeing_ids,
            },
        }


def _count(table: dict[str, Counter[str]], row: str, column: str) -> None:
    """One more in ``table[row][column]`` (a Counter made only for a new row: setdefault
    would make one for every case)."""
    counts = table.get(row)
    if counts is None:
        counts = table[row] = Counter()
    counts[column] += 1
