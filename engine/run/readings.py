"""What a bundle adds to an item's facts: the file types its bytes show, and the attributes read
from its files that count (at or above the rules' ``read_confidence_min``). Readings below it
are left out of the facts and reported as needing a person's confirmation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.cases.attributes import file_type, typed
from engine.evidence.threshold import PARAMETER
from engine.model import Evidence
from engine.rules.program import EvidenceKind, FieldRef, Program
from engine.run.notices import Notice

__all__ = ["file_types", "read_min", "read_values", "requirement_fields"]


def read_min(params: dict[str, Any]) -> Decimal:
    """The least confidence at which a read attribute counts; 1 when the rules declare none (so
    that nothing read counts without a person)."""
    value = params.get(PARAMETER)
    return Decimal(str(value)) if value is not None else Decimal(1)


def file_types(item: Evidence, warnings: list[Notice]) -> tuple[str, ...]:
    """Each file's type: its extension, or the type its bytes show when a bundle held it and
    its name says otherwise (a Word document named slip.jpg is a docx)."""
    out = []
    for named in item.files:
        if named.type is None:
            out.append(file_type(named.name))
            continue
        out.append(named.type)
        warnings.append(
            Notice.of(
                "file_type_sniffed",
                item=item.id,
                file=named.name,
                type=named.type.upper(),
                named=file_type(named.name).upper() or "?",
            )
        )
    return tuple(out)


def read_values(
    item: Evidence, kind: EvidenceKind, minimum: Decimal, warnings: list[Notice]
) -> tuple[dict[str, Any], frozenset[str]]:
    """The read attributes that count, typed against the kind, and the names of those that do
    not (below ``minimum``: they wait for a person's confirmation)."""
    typed_names = {name for name, _ in item.attributes}
    counted: dict[str, Any] = {}
    unsure: set[str] = set()
    for attr in item.read:
        type_ = kind.attribute_type(attr.name)
        if attr.name in typed_names or type_ is None:
            continue
        value = typed(attr.value, type_)
        if value is None:
            continue
        percent = str(int(round(attr.confidence * 100)))
        if Decimal(str(attr.confidence)) < minimum:
            unsure.add(attr.name)
            warnings.append(
                Notice.of(
                    "read_unconfirmed",
                    item=item.id,
                    name=attr.name,
                    file=attr.file,
                    percent=percent,
                    minimum=str(int(minimum * 100)),
                )
            )
            continue
        counted[attr.name] = value
    return counted, frozenset(unsure)


def requirement_fields(program: Program) -> dict[str, frozenset[str]]:
    """For each requirement, the attributes of the item that the rules meeting it read: an
    item whose failed requirements all read an unconfirmed attribute waits for a person."""
    predicates = {p.field: p for p in program.predicates}
    out: dict[str, set[str]] = {}
    for rule in program.rules:
        for effect in rule.effects:
            if effect.kind != "meets" or effect.target is None:
                continue
            fields: set[str] = set()
            for atoms in rule.alternatives:
                for atom in atoms:
                    for ref in (atom.left, atom.right):
                        if isinstance(ref, FieldRef) and ref.alias == effect.target:
                            fields.add(_base_field(ref.field, predicates))
            for rid in effect.requirements:
                out.setdefault(rid, set()).update(fields)
    return {rid: frozenset(fields) for rid, fields in out.items()}


def _base_field(name: str, predicates: dict[str, Any]) -> str:
    """``signer_name__name`` -> ``signer_name``; a predicate's field -> the field it tests."""
    pred = predicates.get(name)
    if pred is not None:
        subject = pred.args[0].value
        return subject.field if isinstance(subject, FieldRef) else name
    return name.partition("__")[0] if not name.startswith("__") else name
