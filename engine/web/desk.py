"""The arbitrator's desk: cases imported, scored, reported on and decided.

What the HTTP API and the pages both call; it knows nothing of HTTP. It holds one Scorer for
the server's life. durable_rules keeps process-global C state and is not thread-safe, while
the web server calls in from a pool of threads: with ``engine="durable"`` every scoring (and
every re-scoring of a report's "what would change") runs under one lock. The reference
evaluator keeps no state between cases, so the server's default, ``reference``, needs none.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal

from engine.cases.dump import case_data
from engine.cases.load import case_from_data, iter_jsonl, parse_case
from engine.errors import (
    CaseConflict,
    CaseFileError,
    DecisionError,
    Problem,
    UnknownCase,
)
from engine.explain.report import build_report
from engine.model import Case, SourceLoc
from engine.policytools.agreement import Agreement, agreement
from engine.rules.program import Program
from engine.ruling import RULINGS
from engine.run.params import policy_timezone
from engine.run.scoring import EngineName, Scored, Scorer
from engine.web.store import DecisionRecord, Recommendation, Store, StoredCase

__all__ = [
    "DECISION_FIELDS",
    "Desk",
    "ImportReport",
    "Imported",
]

DECISION_FIELDS = ("decided_by", "ruling", "refund_amount", "compensation_amount", "reason")
_CASE_SUFFIXES: dict[str, Literal["yaml", "json"]] = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
}
_MAX_NAME, _MAX_REASON = 200, 4000


@dataclass(frozen=True, slots=True, kw_only=True)
class Imported:
    id: int
    case_id: str
    source: str
    created: bool  # False: the same case was already on the desk


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportReport:
    imported: tuple[Imported, ...] = ()
    errors: tuple[tuple[str, str], ...] = ()  # (source, located message)
    skipped: tuple[str, ...] = ()  # files that are not case files

    def __add__(self, other: ImportReport) -> ImportReport:
        return ImportReport(
            imported=self.imported + other.imported,
            errors=self.errors + other.errors,
            skipped=self.skipped + other.skipped,
        )


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Desk:
    def __init__(
        self,
        program: Program,
        store: Store,
        *,
        engine: EngineName = "reference",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.program = program
        self.fields = program.declared_fields()  # what a case file of these rules may add
        self.store = store
        self.engine = engine
        self.scorer = Scorer(program, engine)
        self._lock: contextlib.AbstractContextManager[Any] = (
            threading.Lock() if engine == "durable" else contextlib.nullcontext()
        )
        self._clock = clock or _utc_now
        self._tz = policy_timezone(program)

    @property
    def digest(self) -> str:
        return self.program.digest

    def now(self) -> str:
        """The time now in the policy's timezone, to the second."""
        return self._clock().astimezone(self._tz).isoformat(timespec="seconds")

    def rules(self) -> dict[str, Any]:
        program = self.program
        return {
            "name": program.name,
            "version": program.version,
            "digest": program.digest,
            "engine": self.engine,
            "profiles": [
                {
                    "name": p.name,
                    "title": {"zh": p.title.zh, "en": p.title.en},
                    "since": p.since,
                    "until": p.until,
                    "platform": p.platform,
                }
                for p in program.profiles
            ],
            "dispute_types": [
                {"name": d.name, "title": {"zh": d.title.zh, "en": d.title.en}}
                for d in program.dispute_types
            ],
        }

    # ------------------------------------------------------------------ scoring and reports

    def parse(self, raw: bytes, *, source: str, fmt: Literal["yaml", "json"]) -> Case:
        """A case from a request body or an uploaded file; CaseFileError, located, when bad
        (an unknown dispute type included)."""
        case = parse_case(raw, source=source, fmt=fmt, fields=self.fields)
        self.scorer.check(case)
        return case

    def score(self, case: Case) -> Scored:
        with self._lock:
            return self.scorer.score(case)

    def report(
        self, scored: Scored, *, fmt: str = "html", lang: str = "zh", audience: str = "arbitrator"
    ) -> str:
        with self._lock:  # the what-if search scores again
            return build_report(self.scorer, scored, fmt=fmt, lang=lang, audience=audience)

    def stored_case(self, stored: StoredCase) -> Case:
        return case_from_data(stored.data(), source=stored.source, fields=self.fields)

    # ------------------------------------------------------------------ importing

    def add(self, case: Case, *, source: str) -> Imported:
        """Score a case and put it on the desk (CaseConflict when its case_id is there with
        other content)."""
        scored = self.score(case)
        document = json.dumps(case_data(case), ensure_ascii=False)
        case_ref, created = self.store.add_case(
            case_id=case.case_id,
            platform=case.platform,
            dispute_type=case.dispute.type,
            claimed_amount=case.dispute.claimed_amount,
            document=document,
            source=source,
            imported_at=self.now(),
        )
        self._recommend(case_ref, scored)
        return Imported(id=case_ref, case_id=case.case_id, source=source, created=created)

    def _recommend(self, case_ref: int, scored: Scored) -> int:
        return self.store.add_recommendation(
            case_ref,
            ruling=scored.ruling.as_dict(),
            deciding_rule=scored.ruling.decided_by,
            engine=self.engine,
            scored_at=self.now(),
        )

    def _add_each(
        self, items: Iterator[Case | CaseFileError], source: str | None = None
    ) -> ImportReport:
        """Add each case; ``source`` names them all (one file, one case), otherwise each is
        named by where it was read (an archive's line)."""
        imported: list[Imported] = []
        errors: list[tuple[str, str]] = []
        for item in items:
            if isinstance(item, CaseFileError):
                errors.append((str(item.loc or ""), str(item)))
                continue
            source = source or str(item.source or item.case_id)
            try:
                self.scorer.check(item)
                imported.append(self.add(item, source=source))
            except (CaseFileError, CaseConflict) as exc:
                errors.append((source, str(exc) if isinstance(exc, CaseFileError) else
                               f"{source}: {exc}"))  # fmt: skip
        return ImportReport(imported=tuple(imported), errors=tuple(errors))

    def import_file(self, name: str, raw: bytes) -> ImportReport:
        """Import an uploaded file: one case (.yaml, .yml, .json) or an archive (.jsonl,
        .jsonl.gz). Golden expectations (*.expected.yaml) and other files are skipped."""
        lower = name.lower()
        if lower.endswith(".expected.yaml") or not lower.endswith(
            (*_CASE_SUFFIXES, ".jsonl", ".jsonl.gz")
        ):
            return ImportReport(skipped=(name,))
        if lower.endswith((".jsonl", ".jsonl.gz")):
            suffix = ".jsonl.gz" if lower.endswith(".gz") else ".jsonl"
            with tempfile.TemporaryDirectory(prefix="adjudicate-import-") as folder:
                path = Path(folder) / f"upload{suffix}"
                path.write_bytes(raw)
                return self._add_each(iter_jsonl(path, source=name, fields=self.fields))
        fmt = _CASE_SUFFIXES[PurePosixPath(lower).suffix]

        def one() -> Iterator[Case | CaseFileError]:
            try:
                yield parse_case(raw, source=name, fmt=fmt, fields=self.fields)
            except CaseFileError as exc:
                yield exc

        return self._add_each(one(), source=name)

    def refresh(self) -> int:
        """Score, under the current rules, every stored case that has no recommendation under
        them yet (the server started with other rules); returns how many."""
        count = 0
        for case_ref, document, source in self.store.unscored(self.digest):
            case = case_from_data(json.loads(document), source=source, fields=self.fields)
            self._recommend(case_ref, self.score(case))
            count += 1
        return count

    # ------------------------------------------------------------------ cases and decisions

    def case(self, case_ref: int) -> StoredCase:
        stored = self.store.case(case_ref, self.digest)
        if stored is None:
            raise UnknownCase(case_ref)
        if stored.recommendation is None:  # imported while the server ran other rules
            self._recommend(case_ref, self.score(self.stored_case(stored)))
            stored = self.store.case(case_ref, self.digest)
            assert stored is not None
        return stored

    def decide(
        self, case_ref: int, fields: Mapping[str, Any], *, source: str = "decision"
    ) -> DecisionRecord:
        """Record an arbitrator's decision on a case: accept the recommendation (no ``ruling``,
        or the recommended ruling and amounts) or override it (another ruling or amounts; a
        ``reason`` is then required). Raises UnknownCase or DecisionError."""
        stored = self.case(case_ref)
        recommendation = stored.recommendation
        assert recommendation is not None
        checked = _DecisionForm(source, fields, recommendation)
        accepted = (checked.ruling, checked.refund, checked.compensation) == (
            recommendation.ruling,
            recommendation.refund_amount,
            recommendation.compensation_amount,
        )
        if not accepted and not checked.reason and not checked.problems:
            checked.problem(
                "reason",
                "a reason is required to override the recommendation",
                f"say why {checked.ruling} instead of the recommended {recommendation.ruling}",
            )
        checked.raise_problems()
        decision_ref = self.store.add_decision(
            case_ref,
            recommendation_ref=recommendation.id,
            decided_by=checked.decided_by,
            decided_at=self.now(),
            ruling=checked.ruling,
            refund_amount=checked.refund,
            compensation_amount=checked.compensation,
            reason=checked.reason,
            accepted=accepted,
        )
        return next(d for d in self.store.decisions(case_ref) if d.id == decision_ref)

    def agreement(self) -> Agreement:
        return agreement(self.store.comparisons())

    def export_decisions(self, out: IO[str]) -> int:
        return self.store.export_decisions(out)


class _DecisionForm:
    """The fields of a decision, checked; every problem collected before raising."""

    def __init__(self, source: str, fields: Mapping[str, Any], rec: Recommendation) -> None:
        self.source = source
        self.problems: list[Problem] = []
        for key in fields:
            if key not in DECISION_FIELDS:
                self.problem(str(key), "unknown field", f"known: {', '.join(DECISION_FIELDS)}")
        self.decided_by = self._text(fields, "decided_by", _MAX_NAME, required=True)
        self.reason = self._text(fields, "reason", _MAX_REASON)
        ruling = fields.get("ruling")
        if ruling is None:
            ruling = rec.ruling
        elif ruling not in RULINGS:
            self.problem("ruling", f"{_shown(ruling)} is not one of {', '.join(RULINGS)}")
            ruling = rec.ruling
        self.ruling = str(ruling)
        same = self.ruling == rec.ruling
        self.refund = self._amount(fields, "refund_amount", rec.refund_amount if same else None)
        self.compensation = self._amount(
            fields, "compensation_amount", rec.compensation_amount if same else None
        )

    def problem(self, field: str, message: str, hint: str = "") -> None:
        loc = SourceLoc(path=self.source)
        self.problems.append(Problem(loc, f"{field}: {message}", path=field, hint=hint))

    def raise_problems(self) -> None:
        if self.problems:
            raise DecisionError(self.problems)

    def _text(
        self, fields: Mapping[str, Any], name: str, limit: int, required: bool = False
    ) -> str:
        value = fields.get(name)
        if value is None or value == "":
            if required:
                self.problem(name, "required field is missing", "who decides: your name")
            return ""
        if not isinstance(value, str):
            self.problem(name, f"expected text, got {_shown(value)}")
            return ""
        if len(value) > limit:
            self.problem(name, f"longer than {limit} characters", "shorten it")
            return ""
        text = value.strip()
        if required and not text:
            self.problem(name, "required field is blank", "who decides: your name")
        return text

    def _amount(self, fields: Mapping[str, Any], name: str, default: Decimal | None) -> Decimal:
        value = fields.get(name)
        if value is None:
            return default if default is not None else Decimal("0.00")
        hint = "an amount in CNY, e.g. 12.50"
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem(name, f"expected an amount in CNY, got {_shown(value)}", hint)
            return Decimal("0.00")
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            self.problem(name, f"expected an amount in CNY, got {_shown(value)}", hint)
            return Decimal("0.00")
        if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
            self.problem(name, f"expected an amount from 0 to 999999999999.99, got {value}", hint)
            return Decimal("0.00")
        exponent = amount.as_tuple().exponent
        if (
            isinstance(exponent, int)
            and exponent < -2
            and amount != amount.quantize(Decimal("0.01"))
        ):
            self.problem(name, f"amount {value} has more than two decimal places", hint)
            return Decimal("0.00")
        return amount.quantize(Decimal("0.01"))


def _shown(value: object) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
