"""The short Markdown summary that comes with the decision report: ``report.md`` and two PNGs
(:mod:`simlib.report.render` writes them with everything else)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from simlib.model import Scenario
from simlib.report.plots import figure_png, plot_coverage, plot_lockout
from simlib.results.io import atomic_write
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


def summary_files(scenario: Scenario, res) -> dict[str, bytes]:
    """``report.md`` and its figures (``lockout.png``, ``coverage.png`` when there are attacks),
    rendered in memory: a short summary to paste into a ticket next to the decision report."""
    summary = res.summary
    files = {"lockout.png": lockout_png(res)}
    if any(c.startswith("mean_protected_") for c in summary.columns):
        files["coverage.png"] = coverage_png(summary)
    files["report.md"] = summary_markdown(scenario, summary).encode("utf-8")
    return files
