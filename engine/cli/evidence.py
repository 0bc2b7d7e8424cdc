"""``adjudicate evidence read``: the attributes of an evidence kind read from one file (OCR, red
seals), each with how sure the reader is and the text or region it came from."""

from __future__ import annotations

import json

import click

from engine.cli.base import Failure, format_option, lang_option, load_program, main, rules_option
from engine.errors import EvidenceReadError
from engine.evidence.threshold import read_confidence_min
from engine.explain.render import render_template

__all__ = ["evidence"]


@main.group()
def evidence() -> None:
    """Evidence files: read a kind's attributes from an image or a PDF."""


@evidence.command("read")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--kind", required=True, help="Evidence kind declared in rules/ (with extract:).")
@rules_option
@format_option("A summary, or the reading as JSON (attributes, text lines, seals, seconds).")
@click.option(
    "--party",
    type=click.Choice(["buyer", "seller", "platform"]),
    default=None,
    help="Who submitted the file: a chat screenshot's right-hand messages are theirs.",
)
@lang_option("Language of the summary.")
def read(file: str, kind: str, rules: str, fmt: str, party: str | None, lang: str) -> None:
    """Propose the attributes of KIND from FILE (needs the evidence extra)."""
    from engine.evidence.read import read_path

    program = load_program(rules)
    try:
        reading = read_path(file, kind, program, party=party)
    except EvidenceReadError as exc:
        raise Failure(exc) from None
    threshold = read_confidence_min(program)
    if fmt == "json":
        data = reading.as_json()
        data["read_confidence_min"] = threshold
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    text = render_template("reading.txt.j2", r=reading.as_json(), threshold=threshold, lang=lang)
    click.echo(text)
