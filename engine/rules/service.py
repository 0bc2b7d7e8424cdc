"""The ``service_levels`` section of rules/: the platform's own deadlines on a case, in working
days (first check, review, appeal review), which the desk's queue shows. Scoring never reads
them; they are policy, so they are dated parameters like every other number."""

from __future__ import annotations

from engine.errors import did_you_mean
from engine.rules.building import BuilderBase
from engine.rules.program import ServiceLevel
from engine.rules.reading import bilingual, merged, unknown_keys
from engine.rules.schema import APPEAL_FIELDS, DISPUTE_FIELDS, ORDER_FIELDS, TIME
from engine.rules.yamlsource import LMap

__all__ = ["CASES", "ServiceLevels"]

CASES = ("first", "appeal", "all")  # which cases a level applies to: appeals or not
_STARTS = {"dispute": DISPUTE_FIELDS, "order": ORDER_FIELDS, "appeal": APPEAL_FIELDS}
_KEYS = ("title", "from", "within", "target", "cases", "source")


class ServiceLevels(BuilderBase):
    def service_levels(self) -> tuple[ServiceLevel, ...]:
        out = []
        times = [f"{fact}.{name}" for fact, fields in _STARTS.items()
                 for name, type_ in fields.items() if type_ == TIME]  # fmt: skip
        for name, body, owner in merged(self.ctx, self.docs, "service_levels"):
            loc = owner.key_loc(name)
            if not isinstance(body, LMap):
                keys = ", ".join(_KEYS)
                self.ctx.error(loc, f"service level '{name}' must be a mapping ({keys})")
                continue
            unknown_keys(self.ctx, body, _KEYS)
            title = bilingual(self.ctx, body.get("title"), body, "title")
            start = body.get("from")
            if start not in times:
                self.ctx.error(
                    body.value_loc("from") if "from" in body else loc,
                    "'from' names the case's time the days count from, e.g. "
                    "dispute.intervention_requested_at",
                    did_you_mean(str(start), times),
                )
                start = None
            within = self._working_days(body, "within", name, required=True)
            target = self._working_days(body, "target", name, required=False)
            cases = body.get("cases", "all")
            if cases not in CASES:
                self.ctx.error(
                    body.value_loc("cases"), f"'cases' is one of {', '.join(CASES)}",
                    did_you_mean(str(cases), list(CASES)),
                )  # fmt: skip
            if title is None or start is None or within is None or cases not in CASES:
                continue
            fact, field = str(start).split(".", 1)
            out.append(
                ServiceLevel(
                    name=name, title=title, start=(fact, field), within=within, target=target,
                    cases=str(cases), source=str(body.get("source", "")), loc=loc,
                )  # fmt: skip
            )
        return tuple(out)

    def _working_days(self, body: LMap, key: str, level: str, *, required: bool) -> str | None:
        """The parameter named by ``key`` (``param.NAME``): it must hold working days."""
        ref = body.get(key)
        if ref is None:
            if required:
                self.ctx.error(body.loc, f"service level '{level}' needs '{key}: param.NAME'")
            return None
        name = str(ref).removeprefix("param.")
        param = self.params.get(name)
        wanted = [p for p, v in self.params.items() if v.type.name == "working_days"]
        if not str(ref).startswith("param.") or param is None:
            self.ctx.error(
                body.value_loc(key), f"'{key}' names a parameter: param.NAME, not {ref!r}",
                did_you_mean(name, wanted),
            )  # fmt: skip
            return None
        if param.type.name != "working_days":
            self.ctx.error(
                body.value_loc(key),
                f"parameter '{name}' is a {param.type.name}; '{key}' needs one of type "
                "working_days",
            )
            return None
        return name
