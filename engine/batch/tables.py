"""summary.json / impact.json -> rich tables for the terminal (the CLI prints them)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

__all__ = ["impact_tables", "summary_tables"]

CONFUSION_PAIRS = 20  # disagreeing (recorded, re-scored) pairs printed when the matrix is too wide


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def summary_tables(summary: dict[str, Any], *, width: int = 80) -> list[Table]:
    """Counts by ruling, by dispute type, errors; agreement with the recorded rulings, laid out
    for a terminal ``width`` columns wide."""
    run = summary["run"]
    head = Table(title="Batch run", show_header=False)
    head.add_row("cases in", f"{run['cases_in']:,}")
    head.add_row("lines out", f"{run['lines_out']:,}")
    head.add_row("scored / errors", f"{summary['scored']:,} / {summary['errors']:,}")
    head.add_row("shards (resumed)", f"{run['shards']:,} ({run['resumed']:,})")
    head.add_row("quarantined shards", f"{len(run['quarantined']):,}")
    head.add_row("complete", "yes" if run["complete"] else "NO")
    rulings = Table(title="Rulings")
    rulings.add_column("ruling")
    rulings.add_column("cases", justify="right")
    for ruling, n in summary["rulings"].items():
        rulings.add_row(ruling, f"{n:,}")
    for kind, n in summary["errors_by_type"].items():
        rulings.add_row(f"error: {kind}", f"{n:,}")
    agreement = summary["agreement"]
    by_type = Table(title="By dispute type")
    for column in ("dispute type", "cases", "top ruling", "recorded", "agree"):
        by_type.add_column(
            column, justify="left" if column in ("dispute type", "top ruling") else "right"
        )
    for kind, row in summary["by_dispute_type"].items():
        top = next(iter(row["rulings"]), "")
        agreed = agreement["by_dispute_type"].get(kind, {"recorded": 0, "rate": None})
        by_type.add_row(
            kind, f"{row['cases']:,}", top, f"{agreed['recorded']:,}", _rate(agreed["rate"])
        )
    by_type.add_row(
        "all", f"{summary['scored']:,}", "", f"{agreement['recorded']:,}", _rate(agreement["rate"])
    )
    tables = [head, rulings, by_type]
    if agreement["confusion"]:
        tables.append(_confusion(agreement["confusion"], width))
    return tables


def _confusion(confusion: dict[str, dict[str, int]], width: int) -> Table:
    """The matrix where the terminal is wide enough for it; else the disagreeing pairs, most
    frequent first (rich would crop every ruling name to three letters). summary.json holds
    the full matrix either way."""
    rescored = sorted({r for row in confusion.values() for r in row})
    cells = [
        max(len(r), *(len(f"{row.get(r, 0):,}") for row in confusion.values())) for r in rescored
    ]
    label = max(len("recorded"), *(len(r) for r in confusion))
    if label + sum(cells) + 3 * (len(cells) + 1) + 1 <= width:
        matrix = Table(title="Recorded ruling (rows) vs re-scored ruling (columns)")
        matrix.add_column("recorded", no_wrap=True)
        for ruling in rescored:
            matrix.add_column(ruling, justify="right", no_wrap=True)
        for recorded, row in confusion.items():
            matrix.add_row(
                recorded, *(f"{row.get(r, 0):,}" if row.get(r) else "·" for r in rescored)
            )
        return matrix
    pairs = sorted(
        ((n, recorded, now) for recorded, row in confusion.items() for now, n in row.items()
         if now != recorded and n),
        key=lambda p: (-p[0], p[1], p[2]),
    )  # fmt: skip
    shown = pairs[:CONFUSION_PAIRS]
    hidden = len(pairs) - len(shown)
    table = Table(
        title="Recorded -> re-scored ruling, where they differ",
        caption=(f"{hidden:,} smaller pairs, and the matrix, in summary.json" if hidden
                 else "the full matrix is in summary.json"),
    )  # fmt: skip
    table.add_column("recorded", no_wrap=True)
    table.add_column("re-scored", no_wrap=True)
    table.add_column("cases", justify="right")
    for n, recorded, now in shown:
        table.add_row(recorded, now, f"{n:,}")
    return table


def impact_tables(summary: dict[str, Any]) -> list[Table]:
    """The flips and the changes of the rules responsible for them."""
    head = Table(title="Impact of the rule change", show_header=False)
    head.add_row("cases", f"{summary['cases']:,}")
    head.add_row("changed (ruling or amounts)", f"{summary['changed']:,}")
    head.add_row("unchanged", f"{summary['unchanged']:,}")
    head.add_row(
        "errors old / new",
        f"{summary.get('errors_old', summary['errors']):,} / "
        f"{summary.get('errors_new', summary['errors']):,}",
    )
    head.add_row("complete", "yes" if summary["run"]["complete"] else "NO")
    flips = Table(title="Flips")
    for column in ("old ruling", "new ruling", "cases"):
        flips.add_column(column, justify="right" if column == "cases" else "left")
    for flip in summary["flips"][:20]:
        flips.add_row(flip["old"], flip["new"], f"{flip['cases']:,}")
    rules = Table(title="Changes responsible (rules, param.NAME, issue NAME, case field)")
    rules.add_column("change")
    rules.add_column("changed cases", justify="right")
    for row in summary["rules"][:20]:
        rules.add_row(row["rule"], f"{row['cases']:,}")
    return [head, flips, rules]
