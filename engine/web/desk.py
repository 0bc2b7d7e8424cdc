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
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal

from engine.cases.dump import case_data
from engine.cases.load import case_from_data, iter_jsonl, parse_case
from engine.errors import (
    AccessDenied,
    CaseConflict,
    CaseFileError,
    DecisionError,
    Problem,
    StaleDecision,
    UnknownCase,
)
from engine.explain.report import build_report
from engine.model import Case, SourceLoc
from engine.policytools.agreement import Agreement, agreement
from engine.rules.program import Program
from engine.ruling import RULINGS
from engine.run.params import policy_timezone
from engine.run.scoring import EngineName, Scored, Scorer
from engine.web.accounts import Accounts, User, require
from engine.web.amounts import Ceiling, ceilings
from engine.web.deadlines import Deadline, Deadlines
from engine.web.store import DecisionRecord, Recommendation, Store, StoredCase, order_key

__all__ = [
    "DECISION_FIELDS",
    "Desk",
    "ImportReport",
    "Imported",
]

DECISION_FIELDS = (
    "decided_by", "version", "ruling", "refund_amount", "compensation_amount", "reason",
)  # fmt: skip
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
        accounts: Accounts | None = None,
    ) -> None:
        self.program = program
        self.fields = program.declared_fields()  # what a case file of these rules may add
        self.store = store
        self.accounts = accounts or Accounts(store.db)
        self.engine = engine
        self.scorer = Scorer(program, engine)
        self.deadlines = Deadlines(program, self.scorer.plan)
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

    def epoch(self) -> float:
        return self._clock().timestamp()

    def today(self) -> date:
        return self._clock().astimezone(self._tz).date()

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

    def audit(
        self, actor: User | None, action: str, case_ref: int | None = None, **detail: Any
    ) -> None:
        self.store.audit(at=self.now(), actor=actor.name if actor else None, action=action,
                         case_ref=case_ref, detail=detail)  # fmt: skip

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

    def add(self, case: Case, *, source: str, actor: User | None = None) -> Imported:
        """Score a case and put it on the desk with its recommendation, all or nothing
        (CaseConflict when its case_id is there with other content)."""
        require(actor, "import")
        _check_text(case.case_id, "case_id", case.source or SourceLoc(path=source))
        scored = self.score(case)
        document = json.dumps(case_data(case), ensure_ascii=False)
        case_ref, created = self.store.add_case(
            case_id=case.case_id,
            platform=case.platform,
            order_id=case.order.order_id,
            dispute_type=case.dispute.type,
            claimed_amount=case.dispute.claimed_amount,
            document=document,
            source=source,
            imported_at=self.now(),
            recommendation=self._recommendation(scored),
            audit={"actor": actor.name if actor else None, "source": source},
        )
        return Imported(id=case_ref, case_id=case.case_id, source=source, created=created)

    def _recommendation(self, scored: Scored) -> dict[str, Any]:
        return {
            "ruling": scored.ruling.as_dict(),
            "deciding_rule": scored.ruling.decided_by,
            "engine": self.engine,
            "scored_at": self.now(),
        }

    def _add_each(
        self,
        items: Iterator[Case | CaseFileError],
        source: str | None = None,
        actor: User | None = None,
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
                imported.append(self.add(item, source=source, actor=actor))
            except (CaseFileError, CaseConflict) as exc:
                errors.append((source, str(exc) if isinstance(exc, CaseFileError) else
                               f"{source}: {exc}"))  # fmt: skip
        return ImportReport(imported=tuple(imported), errors=tuple(errors))

    def import_file(self, name: str, raw: bytes, actor: User | None = None) -> ImportReport:
        """Import an uploaded file: one case (.yaml, .yml, .json) or an archive (.jsonl,
        .jsonl.gz). Golden expectations (*.expected.yaml) and other files are skipped."""
        require(actor, "import")
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
                return self._add_each(
                    iter_jsonl(path, source=name, fields=self.fields), actor=actor
                )
        fmt = _CASE_SUFFIXES[PurePosixPath(lower).suffix]

        def one() -> Iterator[Case | CaseFileError]:
            try:
                yield parse_case(raw, source=name, fmt=fmt, fields=self.fields)
            except CaseFileError as exc:
                yield exc

        return self._add_each(one(), source=name, actor=actor)

    def refresh(self) -> int:
        """Score, under the current rules, every stored case that has no recommendation under
        them yet (the server started with other rules); returns how many."""
        count = 0
        for case_ref, document, source in self.store.unscored(self.digest):
            case = case_from_data(json.loads(document), source=source, fields=self.fields)
            self._recommend(case_ref, self.score(case))
            count += 1
        return count

    def _recommend(self, case_ref: int, scored: Scored) -> int:
        return self.store.add_recommendation(case_ref, **self._recommendation(scored))

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

    def due(self, stored: StoredCase) -> tuple[Deadline, ...]:
        """The platform's deadlines on a case, in working days (engine.web.deadlines)."""
        return self.deadlines.of(self.stored_case(stored))

    def claim(self, case_ref: int, actor: User | None) -> str:
        """Claim a case for ``actor``; StaleDecision (409) when another user holds it."""
        require(actor, "claim")
        if actor is None:
            raise AccessDenied("claiming a case needs accounts: adjudicate users add")
        self.case(case_ref)
        holder = self.store.claim(case_ref, actor.name, self.now())
        if holder != actor.name:
            raise StaleDecision(f"case {case_ref} is already claimed by {holder}")
        return holder

    def release(self, case_ref: int, actor: User | None) -> bool:
        require(actor, "claim")
        if actor is None:
            raise AccessDenied("claims need accounts: adjudicate users add")
        self.case(case_ref)
        return self.store.release(case_ref, actor.name, self.now(),
                                  anyone=actor.may("release_any"))  # fmt: skip

    def decide(
        self,
        case_ref: int,
        fields: Mapping[str, Any],
        *,
        source: str = "decision",
        actor: User | None = None,
    ) -> DecisionRecord:
        """Record a decision on a case: accept the recommendation (no ``ruling``, or the
        recommended ruling and amounts) or override it (another ruling or amounts; a
        ``reason`` is then required). With accounts (``actor``) the decider is the actor, the
        decision names the case's ``version`` it was made on, an appeal takes a senior who did
        not decide the first ruling, and a case claimed by someone else is theirs to decide.
        Raises UnknownCase, AccessDenied, DecisionError or StaleDecision (409)."""
        require(actor, "decide")
        stored = self.case(case_ref)
        recommendation = stored.recommendation
        assert recommendation is not None
        case = self.stored_case(stored)
        if actor is not None and case.dispute.appeal is not None:
            self._check_appeal(stored, case, actor)
        scored = self.score(case)
        checked = _DecisionForm(source, fields, recommendation, actor=actor)
        accepted = (checked.ruling, checked.refund, checked.compensation) == (
            recommendation.ruling,
            recommendation.refund_amount,
            recommendation.compensation_amount,
        )
        if not accepted:
            checked.within(ceilings(self.scorer, scored), case)
        if not accepted and not checked.reason and not checked.problems:
            checked.problem(
                "reason",
                "a reason is required to override the recommendation",
                f"say why {checked.ruling} instead of the recommended {recommendation.ruling}",
            )
        checked.raise_problems()
        decided_by = actor.name if actor is not None else checked.decided_by
        decision_ref = self.store.add_decision(
            case_ref,
            recommendation_ref=recommendation.id,
            decided_by=decided_by,
            decided_at=self.now(),
            ruling=checked.ruling,
            refund_amount=checked.refund,
            compensation_amount=checked.compensation,
            reason=checked.reason,
            accepted=accepted,
            version=checked.version,
            claim=actor is not None,
            audit={"ruling": checked.ruling, "accepted": accepted,
                   "version": checked.version, "rules_digest": recommendation.rules_digest},
        )  # fmt: skip
        return next(d for d in self.store.decisions(case_ref) if d.id == decision_ref)

    def _check_appeal(self, stored: StoredCase, case: Case, actor: User) -> None:
        """An appeal is reviewed by a senior team (seed 004): only ``senior`` decides it, and
        never who decided the first ruling (a decision on another case of the same order)."""
        if not actor.may("decide_appeal"):
            raise AccessDenied(
                f"case {stored.id} is an appeal: only a senior arbitrator decides it, not "
                f"{actor.name} ({actor.role})"
            )
        first = self.store.order_deciders(
            order_key(case.platform, case.order.order_id), besides=stored.id
        )
        if actor.name in first:
            raise AccessDenied(
                f"case {stored.id} is an appeal against a ruling {actor.name} decided (order "
                f"{case.order.order_id}): another senior arbitrator reviews it"
            )

    def agreement(self) -> Agreement:
        return agreement(self.store.comparisons())

    def export_decisions(self, out: IO[str], actor: User | None = None) -> int:
        require(actor, "export")
        return self.store.export_decisions(out)


class _DecisionForm:
    """The fields of a decision, checked; every problem collected before raising."""

    def __init__(
        self,
        source: str,
        fields: Mapping[str, Any],
        rec: Recommendation,
        *,
        actor: User | None = None,
    ) -> None:
        self.source = source
        self.problems: list[Problem] = []
        for key in fields:
            if key not in DECISION_FIELDS:
                self.problem(str(key), "unknown field", f"known: {', '.join(DECISION_FIELDS)}")
        if actor is None:  # the one-person desk: the body says who decides
            self.decided_by = self._text(fields, "decided_by", _MAX_NAME, required=True)
        else:
            self.decided_by = actor.name
            if "decided_by" in fields:
                self.problem(
                    "decided_by",
                    f"the decider is the signed-in user ({actor.name}); a body cannot name it",
                    "remove the field",
                )
        self.version = self._version(fields, required=actor is not None)
        self.reason = self._text(fields, "reason", _MAX_REASON, lines=True)
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

    def _version(self, fields: Mapping[str, Any], *, required: bool) -> int | None:
        value = fields.get("version")
        hint = "the case's version as its page or GET /v1/cases/{id} shows it (0: no decision)"
        if value is None:
            if required:
                self.problem("version", "required field is missing", hint)
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**62:
            self.problem("version", f"expected a whole number >= 0, got {_shown(value)}", hint)
            return None
        return value

    def within(self, allowed: Mapping[str, Ceiling], case: Case) -> None:
        """Each amount within what the rules give the chosen ruling on this case."""
        ceiling = allowed.get(self.ruling)
        for field, amount, most in (
            ("refund_amount", self.refund, ceiling.refund if ceiling else Decimal("0.00")),
            ("compensation_amount", self.compensation,
             ceiling.compensation if ceiling else Decimal("0.00")),
        ):  # fmt: skip
            if amount <= most:
                continue
            what = field.removesuffix("_amount")
            if most == 0:
                self.problem(
                    field,
                    f"{self.ruling} carries no {what}: the rules give it none",
                    f"set it to 0, or choose a ruling that carries a {what}",
                )
            else:
                rules = ", ".join(ceiling.rules) if ceiling else ""
                self.problem(
                    field,
                    f"{amount:.2f} is more than the rules allow for {self.ruling} on case "
                    f"{case.case_id} ({most:.2f})",
                    f"at most {most:.2f}, as the rules compute it ({rules})",
                )

    def problem(self, field: str, message: str, hint: str = "") -> None:
        loc = SourceLoc(path=self.source)
        self.problems.append(Problem(loc, f"{field}: {message}", path=field, hint=hint))

    def raise_problems(self) -> None:
        if self.problems:
            raise DecisionError(self.problems)

    def _text(
        self,
        fields: Mapping[str, Any],
        name: str,
        limit: int,
        required: bool = False,
        lines: bool = False,
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
        bad = _invisible(value, lines=lines)
        if bad is not None:
            self.problem(name, bad, "remove it: a decision is read by people, as it is shown")
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


_ALLOWED_IN_LINES = "\n\r\t"


def _invisible(text: str, *, lines: bool = False) -> str | None:
    """What is wrong with a control, format (bidi, zero-width) or surrogate character in
    ``text``, or None: such characters hide or reorder what an arbitrator reads."""
    for at, ch in enumerate(text):
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Cs") and not (lines and ch in _ALLOWED_IN_LINES):
            kind = {"Cc": "a control", "Cf": "an invisible or direction",
                    "Cs": "a lone surrogate"}[category]  # fmt: skip
            return f"character {at + 1} is {kind} character (U+{ord(ch):04X})"
    return None


def _check_text(text: str, field: str, loc: SourceLoc) -> None:
    """CaseFileError for a desk key (case_id) with a control or invisible character: it is
    shown in lists and links, and a database may refuse it (PostgreSQL refuses NUL)."""
    bad = _invisible(text)
    if bad is not None:
        message = f"{field}: {bad}"
        hint = "the desk keeps case ids of visible characters only"
        raise CaseFileError([Problem(loc, message, path=field, hint=hint)])


def _shown(value: object) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
