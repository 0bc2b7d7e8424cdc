"""The fields of an arbitrator's decision, checked before anything is recorded: who decides, the
case version it was made on, the ruling, the amounts (within what the rules give that ruling on
the case) and the reason. Every problem is collected, each naming its field (DecisionError)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.errors import DecisionError, Problem
from engine.model import Case, SourceLoc
from engine.ruling import RULINGS
from engine.web.accounts import User
from engine.web.amounts import Ceiling
from engine.web.records import Recommendation
from engine.web.textcheck import invisible, shown

__all__ = ["DECISION_FIELDS", "MAX_NAME", "MAX_REASON", "DecisionForm"]

DECISION_FIELDS = (
    "decided_by", "version", "ruling", "refund_amount", "compensation_amount", "reason",
)  # fmt: skip
MAX_NAME, MAX_REASON = 200, 4000


class DecisionForm:
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
            self.decided_by = self._text(fields, "decided_by", MAX_NAME, required=True)
        else:
            self.decided_by = actor.name
            if "decided_by" in fields:
                self.problem(
                    "decided_by",
                    f"the decider is the signed-in user ({actor.name}); a body cannot name it",
                    "remove the field",
                )
        self.version = self._version(fields, required=actor is not None)
        self.reason = self._text(fields, "reason", MAX_REASON, lines=True)
        ruling = fields.get("ruling")
        if ruling is None:
            ruling = rec.ruling
        elif ruling not in RULINGS:
            self.problem("ruling", f"{shown(ruling)} is not one of {', '.join(RULINGS)}")
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
            self.problem("version", f"expected a whole number >= 0, got {shown(value)}", hint)
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
            self.problem(name, f"expected text, got {shown(value)}")
            return ""
        if len(value) > limit:
            self.problem(name, f"longer than {limit} characters", "shorten it")
            return ""
        bad = invisible(value, lines=lines)
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
            self.problem(name, f"expected an amount in CNY, got {shown(value)}", hint)
            return Decimal("0.00")
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            self.problem(name, f"expected an amount in CNY, got {shown(value)}", hint)
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
