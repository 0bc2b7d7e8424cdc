"""The arbitrator's desk: cases imported (case files, archives, bundles with their evidence
files), scored, reported on, their readings confirmed or corrected, and decided.

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
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal

from engine.cases.dump import case_data
from engine.cases.load import case_from_data, iter_jsonl, parse_case
from engine.errors import AccessDenied, CaseConflict, CaseFileError, StaleDecision, UnknownCase
from engine.evidence.bundle import Bundle, open_files, open_zip_data
from engine.evidence.sniff import agrees, file_type
from engine.explain.report import build_report
from engine.model import Case, EvidenceFile, SourceLoc
from engine.policytools.agreement import Agreement, agreement
from engine.rules.program import Program
from engine.run.params import policy_timezone
from engine.run.scoring import EngineName, Scored, Scorer
from engine.web import evidence_store
from engine.web.accounts import Accounts, User, require
from engine.web.amounts import ceilings
from engine.web.bundles import PreparedBundle, folder_bundles, prepare_bundle
from engine.web.corrections import check_correction, target
from engine.web.deadlines import Deadline, Deadlines
from engine.web.decision_form import DECISION_FIELDS, DecisionForm
from engine.web.evidence_store import Correction, StoredFile
from engine.web.store import DecisionRecord, Store, StoredCase, order_key
from engine.web.textcheck import check_key

__all__ = [
    "DECISION_FIELDS",
    "Desk",
    "ImportReport",
    "Imported",
]

_CASE_SUFFIXES: dict[str, Literal["yaml", "json"]] = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
}


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
        """A stored case's document as a Case (without what its files showed)."""
        return case_from_data(stored.data(), source=stored.source, fields=self.fields)

    def scoring_case(self, stored: StoredCase) -> Case:
        """A stored case as it is scored: its document, each file of a bundle typed by its
        bytes, and the attributes read from the files that the document does not type."""
        case = self.stored_case(stored)
        files = {(f.item, f.name): f for f in self.files(stored.id)}
        reads = evidence_store.reads(self.store.db, stored.id)
        if not files and not reads:
            return case
        items = []
        for item in case.evidence:
            typed = {name for name, _ in item.attributes}
            items.append(replace(
                item,
                files=tuple(_typed_file(f, files.get((item.id, f.name))) for f in item.files),
                read=tuple(r for r in reads.get(item.id, ()) if r.name not in typed),
            ))  # fmt: skip
        return replace(case, evidence=tuple(items))

    # ------------------------------------------------------------------ importing

    def add(
        self,
        case: Case,
        *,
        source: str,
        actor: User | None = None,
        bundle: PreparedBundle | None = None,
    ) -> Imported:
        """Score a case and put it on the desk with its recommendation and, from a bundle, its
        files and readings, all or nothing (CaseConflict when its case_id is there with other
        content)."""
        require(actor, "import")
        check_key(case.case_id, "case_id", case.source or SourceLoc(path=source))
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
            files=bundle.files if bundle else (),
            reads=bundle.reads if bundle else (),
        )
        return Imported(id=case_ref, case_id=case.case_id, source=source, created=created)

    def add_bundle(self, bundle: Bundle, actor: User | None = None) -> Imported:
        """Put a bundle's case on the desk with its files and what was read from them
        (BundleError, located, when its files cannot be used)."""
        require(actor, "import")
        prepared = prepare_bundle(bundle, self.program)
        self.scorer.check(prepared.case)
        return self.add(prepared.case, source=bundle.source, actor=actor, bundle=prepared)

    def _import_bundle(
        self, source: str, opener: Callable[[], Bundle], actor: User | None
    ) -> ImportReport:
        try:
            imported = self.add_bundle(opener(), actor)
        except CaseFileError as exc:
            return ImportReport(errors=((source, str(exc)),))
        except CaseConflict as exc:
            return ImportReport(errors=((source, f"{source}: {exc}"),))
        return ImportReport(imported=(imported,))

    def import_uploads(
        self, uploads: list[tuple[str, bytes]], actor: User | None = None
    ) -> ImportReport:
        """Import the files of a page's upload: each folder among them with a case.yaml is a
        bundle (the files below it are its evidence files); every other file is imported on
        its own (``import_file``)."""
        require(actor, "import")
        groups, rest = folder_bundles(name for name, _ in uploads)
        data = dict(uploads)
        report = ImportReport()
        for root, members in groups.items():

            def opener(root: str = root, members: list[tuple[str, str]] = members) -> Bundle:
                return open_files(((inside, data[name]) for name, inside in members), root)

            report = report + self._import_bundle(root, opener, actor)
        for name in rest:
            report = report + self.import_file(name, data[name], actor)
        return report

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
        """Import an uploaded file: one case (.yaml, .yml, .json), an archive (.jsonl,
        .jsonl.gz) or a bundle (.zip). Golden expectations (*.expected.yaml) and other files
        are skipped."""
        require(actor, "import")
        lower = name.lower()
        if lower.endswith(".zip"):
            return self._import_bundle(name, lambda: open_zip_data(raw, name), actor)
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
        for case_ref in self.store.unscored(self.digest):
            stored = self.store.case(case_ref, self.digest)
            assert stored is not None
            self._recommend(stored, self.score(self.scoring_case(stored)))
            count += 1
        return count

    def _recommend(self, stored: StoredCase, scored: Scored) -> int:
        return self.store.add_recommendation(
            stored.id, revision=stored.revision, **self._recommendation(scored)
        )

    # ------------------------------------------------------------------ cases and decisions

    def case(self, case_ref: int) -> StoredCase:
        stored = self.store.case(case_ref, self.digest)
        if stored is None:
            raise UnknownCase(case_ref)
        if stored.recommendation is None:  # imported while the server ran other rules
            self._recommend(stored, self.score(self.scoring_case(stored)))
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
        case = self.scoring_case(stored)
        if actor is not None and case.dispute.appeal is not None:
            self._check_appeal(stored, case, actor)
        scored = self.score(case)
        checked = DecisionForm(source, fields, recommendation, actor=actor)
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

    # ------------------------------------------------------------------ evidence files

    def files(self, case_ref: int) -> list[StoredFile]:
        """The files of a case's evidence stored from its bundle (none for a case file)."""
        return evidence_store.files(self.store.db, case_ref)

    def file_bytes(self, sha256: str) -> bytes | None:
        return evidence_store.blob(self.store.db, sha256)

    def reads(self, case_ref: int) -> dict[str, tuple[Any, ...]]:
        """What was read from each item's files on import, by item id."""
        return evidence_store.reads(self.store.db, case_ref)

    def corrections(self, case_ref: int) -> list[Correction]:
        return evidence_store.corrections(self.store.db, case_ref)

    def correct(
        self,
        case_ref: int,
        item: str,
        attribute: str,
        fields: Mapping[str, Any],
        *,
        source: str = "correction",
        form: bool = False,
        actor: User | None = None,
    ) -> Correction:
        """Confirm or correct an attribute read from an item's files (engine.web.corrections):
        the value is typed into the case (a new version of it, whose recommendation is scored
        and stored with the correction and its audit entry). Only who may decide the case may
        (a claimed case is its claimant's; correcting claims it, like deciding). ``form``: the
        value is a page's text. Raises UnknownCase, UnknownEvidence, AccessDenied,
        CorrectionError or StaleDecision (409)."""
        require(actor, "decide")
        stored = self.case(case_ref)
        case = self.stored_case(stored)
        if actor is not None and case.dispute.appeal is not None:
            self._check_appeal(stored, case, actor)
        document = stored.data()
        corrected = {(c.item, c.attribute) for c in self.corrections(case_ref)}
        on_import = {
            str(e.get("id")): {k: v for k, v in (e.get("attributes") or {}).items()
                               if (e.get("id"), k) not in corrected}
            for e in document.get("evidence") or []
        }  # fmt: skip
        with_files = {f.item for f in self.files(case_ref)}
        goal = target(self.program, document, on_import, self.reads(case_ref), with_files, item,
                      attribute)  # fmt: skip
        checked = check_correction(
            fields, goal, document, source=source, form=form, declared=self.fields,
            actor=actor.name if actor else None,
        )  # fmt: skip
        revised = replace(stored, document=json.dumps(checked.document, ensure_ascii=False))
        scored = self.score(self.scoring_case(revised))
        ref = self.store.add_correction(
            case_ref,
            version=stored.version if checked.version is None else checked.version,
            document=revised.document,
            correction={"item": goal.item, "attribute": goal.attribute, "read": goal.read,
                        "action": checked.action, "value": checked.value,
                        "corrected_by": checked.corrected_by, "corrected_at": self.now(),
                        "reason": checked.reason},
            recommendation=self._recommendation(scored),
            claim=actor is not None,
        )  # fmt: skip
        return next(c for c in self.corrections(case_ref) if c.id == ref)

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


def _typed_file(named: EvidenceFile, stored: StoredFile | None) -> EvidenceFile:
    """A file named by an item, with the type its bytes showed when its name says another."""
    if stored is None or agrees(named.name, file_type(stored.type)):
        return named
    return replace(named, type=stored.type)
