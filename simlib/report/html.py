"""HTML fragments of the decision report: tables and cells (the page is made by nbconvert from
the executed report notebook, :mod:`simlib.report.render`)."""

from __future__ import annotations

import html
import math

import pandas as pd

from simlib.report.decision import COLUMN_NOTES
from simlib.report.plots import readable


def fmt(column: str, value: object) -> str:
    """A ranked-table cell as text (the HTML test parses these back)."""
    if isinstance(value, str):
        return value
    v = float(value)  # type: ignore[arg-type]
    if math.isnan(v):
        return "n/a"
    if math.isinf(v):
        return "never"
    if column == "peak_lockout" or column.startswith("protected_"):
        return f"{v:.1%}"
    if column.startswith(("median_recovery", "outage_p")):
        return f"{v:.0f}"
    return f"{v:,.0f}"


def table_html(frame: pd.DataFrame, header: list[str] | None = None, *, table_id: str | None = None) -> str:
    """``frame`` as an HTML table, every cell escaped; ``header`` is already-escaped HTML."""
    header = header or [html.escape(str(c)) for c in frame.columns]
    head = "".join(f"<th>{h}</th>" for h in header)
    rows = []
    for row in frame.itertuples(index=False):
        cells = [html.escape(str(v)) for v in row]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    ident = f' id="{html.escape(table_id)}"' if table_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def ranked_table_html(table: pd.DataFrame) -> str:
    shown = table.drop(columns=["outage_cost", "attack_loss"])
    text = pd.DataFrame({c: [fmt(c, v) for v in shown[c]] for c in shown.columns})
    header = [
        html.escape(readable(c) if c.startswith("protected_") else c.replace("_", " "))
        for c in shown.columns
    ]
    header = [
        f"protected: {h}" if c.startswith("protected_") else h
        for c, h in zip(shown.columns, header, strict=True)
    ]
    out = table_html(text, header, table_id="ranked")
    notes = "".join(
        f"<li><b>{html.escape(k.replace('_', ' '))}</b>: {html.escape(v)}</li>"
        for k, v in COLUMN_NOTES.items()
    )
    return out + f'<ul class="simlib-note">{notes}</ul>'
