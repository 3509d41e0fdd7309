"""The report ``make report`` writes: result files, figures and a short Markdown summary.

The full decision report (papermill + nbconvert) builds on this later; this module stays the one
place that decides what a report contains, so the CLI and notebooks share it.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from simlib.engine.simulation import simulate
from simlib.model import Scenario
from simlib.report.plots import plot_coverage, plot_lockout, save_figure
from simlib.results.io import atomic_write_text
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
        *("| " + " | ".join(row) + " |" for row in table.itertuples(index=False)),
        "",
        "![lockout](lockout.png)",
        "",
        "![coverage](coverage.png)",
        "",
    ]
    return "\n".join(lines)


def lockout_figure(result, path: str | Path) -> Path:
    """Save the lockout-rate figure of a result (used by reports and the README image)."""
    fig, ax = plt.subplots(figsize=(10, 5), layout="constrained")
    plot_lockout(result.timeseries, ax, title=f"{result.scenario.name}: users locked out, by strategy")
    try:
        return save_figure(fig, path)
    finally:
        plt.close(fig)


def write_report(scenario: Scenario, out: str | Path) -> list[Path]:
    """Simulate ``scenario`` and write results, figures and ``report.md`` into ``out``."""
    out = Path(out)
    res = simulate(scenario)
    summary = res.summary
    paths = res.write(out, ("csv", "parquet"))
    paths.append(lockout_figure(res, out / "lockout.png"))
    if any(c.startswith("mean_protected_") for c in summary.columns):
        fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
        plot_coverage(summary, ax)
        paths.append(save_figure(fig, out / "coverage.png"))
        plt.close(fig)
    paths.append(atomic_write_text(out / "report.md", summary_markdown(scenario, summary)))
    return paths
