"""The decision report as one self-contained HTML page (figures as base64 PNG, no code).

Built directly from Python (:mod:`simlib.report.decision`, :mod:`simlib.report.findings`,
:mod:`simlib.report.plots`); the papermill/nbconvert notebook route can render the same pieces.
"""

from __future__ import annotations

import base64
import html
import math

import matplotlib.pyplot as plt
import pandas as pd

from simlib.model import Scenario
from simlib.report.decision import COLUMN_NOTES, CostInputs, pareto, recommendation
from simlib.report.findings import Finding, platform_lockout
from simlib.report.plots import (
    figure_png,
    plot_coverage_readable,
    plot_lockout_panels,
    plot_pareto,
    plot_platform_split,
    readable,
)

_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222;line-height:1.45}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
td:first-child,th:first-child,td.text{text-align:left}th{background:#eef2f6}img{max-width:100%}
.answer{background:#eef6ee;border-left:4px solid #2e8b57;padding:.6em 1em}.note{color:#555;font-size:13px}"""


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"></figure>'


def _fig(build, alt: str, size: tuple[float, float] = (9, 4.5)) -> str:
    fig = plt.figure(figsize=size, layout="constrained")
    try:
        build(fig)
        return _img(figure_png(fig), alt)
    finally:
        plt.close(fig)


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
    if column.startswith(("worst_recovery", "outage_p")):
        return f"{v:.0f}"
    return f"{v:,.0f}"


def _table(frame: pd.DataFrame, header: list[str] | None = None, raw: bool = False) -> str:
    header = header or [html.escape(str(c)) for c in frame.columns]
    head = "".join(f"<th>{h}</th>" for h in header)
    rows = []
    for row in frame.itertuples(index=False):
        cells = [str(v) if raw else html.escape(str(v)) for v in row]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


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
    out = _table(text, header).replace("<table>", '<table id="ranked">', 1)
    notes = "".join(
        f"<li><b>{html.escape(k.replace('_', ' '))}</b>: {html.escape(v)}</li>"
        for k, v in COLUMN_NOTES.items()
    )
    return out + f'<ul class="note">{notes}</ul>'


def build_html(
    scenario: Scenario, res, table: pd.DataFrame, inputs: CostInputs, found: list[Finding]
) -> str:
    """The whole page; every figure is rendered here, before anything is written."""
    rec = recommendation(table)
    front = pareto(table)
    attacks = list(dict.fromkeys(front["attack"]))
    parts = [
        f"<h1>{html.escape(scenario.name)}: should we pin certificates, and how?</h1>",
        f"<p>{scenario.start} → {scenario.end}, {scenario.fleet.users:,} users, {len(scenario.hosts)} host(s), "
        f"releases every {scenario.fleet.release_every_days} days; {len(table)} strategies compared "
        "(expected values, exact arithmetic over strategy × app version × day).</p>",
        f'<div class="answer" id="recommendation"><p><b>Recommendation: <span id="recommended">'
        f"{html.escape(rec.strategy)}</span></b> ({html.escape(rec.rule)}).</p><p>{html.escape(rec.why)}</p></div>",
        "<h2>Strategies, ranked</h2>",
        ranked_table_html(table),
        "<h2>Findings</h2>",
        "<ul id='findings'>"
        + "".join(
            f"<li><b>{html.escape(f.kind.replace('_', ' '))}</b>: {html.escape(f.text)}</li>"
            for f in found
        )
        + "</ul>"
        if found
        else "<p>No platform trap, pin expiry, pinned update check or incurable lockout was detected.</p>",
        "<h2>Lockout over time</h2>",
        _fig(
            lambda fig: plot_lockout_panels(res.timeseries, res.issuances, res.releases, fig=fig),
            "lockout over time, one panel per strategy",
            (12, 2.4 * max(1, -(-len(table) // 3)) + 0.8),
        ),
    ]
    split = platform_lockout(res).pivot(index="strategy", columns="platform", values="locked_share")
    if split.shape[1] > 1:
        differ = split[(split.max(axis=1) - split.min(axis=1)) > 0.005]
        shares = {p: s.share for p, s in scenario.fleet.platforms.items()}
        for name in differ.index:
            parts.append(
                _fig(
                    lambda fig, n=name: plot_platform_split(
                        res.timeseries, n, shares, fig.subplots()
                    ),
                    f"{name} by platform",
                    (9, 3.5),
                )
            )
    parts.append("<h2>Lockout vs protection (Pareto frontier)</h2>")
    for a in attacks:
        parts.append(
            _fig(
                lambda fig, a=a: plot_pareto(front, a, fig.subplots()),
                f"Pareto frontier, {readable(a)}",
                (9, 4.5),
            )
        )
    if attacks:
        parts += [
            "<h2>Coverage</h2>",
            _fig(
                lambda fig: plot_coverage_readable(res.summary, fig.subplots()),
                "coverage",
                (10, 4.5),
            ),
        ]
    a = inputs.assumptions[["parameter", "attack", "value", "unit", "confidence", "source"]].copy()
    a["value"] = [f"{v:g}" for v in a["value"]]
    parts += [
        "<h2>Assumptions</h2>",
        "<p>Cost inputs "
        + (
            "from the scenario's economics."
            if inputs.from_scenario
            else "are defaults (data/world/cost-defaults.csv): assumptions, not facts — replace them with your own figures."
        )
        + "</p>",
        _table(a).replace("<table>", '<table id="assumptions">', 1),
    ]
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(scenario.name)}: decision report</title><style>{_CSS}</style></head>"
        f"<body>\n{body}\n</body></html>\n"
    )
