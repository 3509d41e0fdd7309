"""The report ``make report`` writes: result files, figures and a short Markdown summary.

The full decision report (papermill + nbconvert) builds on this later; this module stays the one
place that decides what a report contains, so the CLI and notebooks share it.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from simlib.api import simulate
from simlib.model import Scenario
from simlib.report.decision import cost_inputs, ranked_table
from simlib.report.findings import findings
from simlib.report.html import build_html
from simlib.report.plots import figure_png, plot_coverage, plot_lockout
from simlib.results.io import atomic_write, atomic_write_text
from simlib.results.metrics import display_summary


def summary_markdown(scenario: Scenario, summary) -> str:
    """The report page: what was simulated, the summary table and the figures."""
    table = display_summary(summary)
    lines = [
        f"# {scenario.name}: pinning strategies compared",
        "",
        f"{scenario.start} → {scenario.end}, {scenario.fleet.users:,} users, "
        f"{len(scenario.hosts)} host(s), releases every {scenario.fleet.release_every_days} days. "
        "Expected values (exact arithmetic over strategy × app version × day).",
        "",
        "| " + " | ".join(table.columns) + " |",
        "|" + "---|" * len(table.columns),
        *("| " + " | ".join(_cell(v) for v in row) + " |" for row in table.itertuples(index=False)),
        "",
        "![lockout](lockout.png)",
        "",
        "![coverage](coverage.png)",
        "",
    ]
    return "\n".join(lines)


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|")


def lockout_png(result) -> bytes:
    """The lockout-rate figure of a result as PNG bytes."""
    fig, ax = plt.subplots(figsize=(10, 5), layout="constrained")
    try:
        plot_lockout(result.timeseries, ax, title=f"{result.scenario.name}: users locked out, by strategy")
        return figure_png(fig)
    finally:
        plt.close(fig)


def coverage_png(summary) -> bytes:
    """The coverage figure of a summary as PNG bytes."""
    fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
    try:
        plot_coverage(summary, ax)
        return figure_png(fig)
    finally:
        plt.close(fig)


def lockout_figure(result, path: str | Path) -> Path:
    """Save the lockout-rate figure of a result (used by reports and the README image)."""
    data = lockout_png(result)
    return atomic_write(path, lambda p: p.write_bytes(data))


def write_report(scenario: Scenario, out: str | Path) -> list[Path]:
    """Simulate ``scenario`` and write results, figures, ``report.md`` and the self-contained
    decision report ``report.html`` into ``out``.

    Everything (tables, figures, the page) is computed first and written last, so a failure
    leaves nothing behind; each file is written atomically.
    """
    out = Path(out)
    res = simulate(scenario)
    summary = res.summary
    for name in ("timeseries", "duration_stats", "issuances", "releases"):
        getattr(res, name)
    figures = {"lockout.png": lockout_png(res)}
    if any(c.startswith("mean_protected_") for c in summary.columns):
        figures["coverage.png"] = coverage_png(summary)
    page = summary_markdown(scenario, summary)
    inputs = cost_inputs(scenario)
    table = ranked_table(res, inputs)
    decision_page = build_html(scenario, res, table, inputs, findings(res))
    paths = res.write(out, ("csv", "parquet"))
    for name, data in figures.items():
        paths.append(atomic_write(out / name, lambda p, data=data: p.write_bytes(data)))
    paths.append(atomic_write_text(out / "report.md", page))
    paths.append(atomic_write_text(out / "report.html", decision_page))
    return paths
