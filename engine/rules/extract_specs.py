"""The extractors a kind may name in ``extract:`` (rules/), their options and the attribute
types each can fill. The rules loader checks declarations against this table; the reader
(``engine.evidence.extractors``) implements each name. Nothing here knows a kind or a courier:
labels, words and alias tables come from rules/.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EXTRACTORS", "LABELLED_VALUES", "ExtractorSpec"]

LABELLED_VALUES = ("name", "code", "text", "time")


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtractorSpec:
    name: str
    doc: str
    required: tuple[str, ...]  # options that must be given
    optional: tuple[str, ...]
    fills: tuple[str, ...]  # attribute types it can fill ("enum" covers every enum)


EXTRACTORS: dict[str, ExtractorSpec] = {
    spec.name: spec
    for spec in (
        ExtractorSpec(
            name="alias",
            doc="the canonical name of the first name of an alias table found in the text",
            required=("table",),
            optional=("labels",),
            fills=("text", "name"),
        ),
        ExtractorSpec(
            name="labelled",
            doc="the value written after a label (same line, the box to its right, or the line "
            "below), or between two words (around: [[before, after], ...])",
            required=(),
            optional=("labels", "around", "value", "stop"),
            fills=("text", "name", "time"),
        ),
        ExtractorSpec(
            name="copy_number",
            doc="the copy number of a multi-part form: 第一联 = 1, 第2联 = 2",
            required=(),
            optional=(),
            fills=("integer",),
        ),
        ExtractorSpec(
            name="red_stamp",
            doc="whether a red seal (round, oval or square) is on a page: colour and shape",
            required=(),
            optional=(),
            fills=("boolean",),
        ),
        ExtractorSpec(
            name="keywords",
            doc="the value whose words occur in the text (after a label when labels are given); "
            "the longest word wins where words overlap",
            required=("values",),
            optional=("labels", "default"),
            fills=("enum", "boolean", "text"),
        ),
        ExtractorSpec(
            name="chat_messages",
            doc="the messages of a chat screenshot: the time shown above each message, the side "
            "it is on (right: the party who submitted it) and its text",
            required=(),
            optional=(),
            fills=("list",),
        ),
    )
}
