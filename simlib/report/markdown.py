"""The short Markdown summary that comes with the decision report: ``report.md`` and two PNGs
(:mod:`simlib.report.render` writes them with everything else).

Names come from scenario files: :func:`md_text` writes them so that they render as exactly their
text wherever ``report.md`` is pasted (no link, image, HTML tag, emphasis, code, math or table
break).
"""

from __future__ import annotations

import re

from matplotlib.figure import Figure

from simlib.errors import escape_controls
from simlib.model import Scenario
from simlib.report.plots import figure_png, plot_coverage_readable, plot_lockout
from simlib.report.style import styled
from simlib.results.metrics import display_summary

#: ASCII punctuation with a meaning in Markdown: CommonMark (emphasis, code, links, images,
#: HTML, entities, headings), GitHub's tables, strikethrough, autolinks (``www.``, ``http:``,
#: ``a@b``) and ``$`` math, and common extensions (``==mark==``, ``^sup^``, ``{attributes}``).
#: CommonMark reads a backslash before any ASCII punctuation as that character, so each is
#: written with one.
_MD_SPECIAL = re.compile(r"[\\`*_{}\[\]()<>#!|~&$:@.=^]")


def md_text(text: object) -> str:
    """``text`` (a name) as Markdown inline text that renders as exactly ``text``, with control
    and bidi characters shown as escapes (``\\u202e``) so a name cannot reorder the text after it."""
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), escape_controls(str(text)))


def summary_markdown(scenario: Scenario, summary) -> str:
    """The report page: what was simulated, the summary table and the figures."""
    table = display_summary(summary)
    escape = [md_text if c == "strategy" else _cell for c in table.columns]
    lines = [
        f"# {md_text(scenario.name)}: pinning strategies compared",
        "",
        f"{scenario.start} → {scenario.end}, {scenario.fleet.users:,} users, "
        f"{len(scenario.hosts)} host(s), releases every {scenario.fleet.release_every_days} days. "
        "Expected values (exact arithmetic over strategy × app version × day).",
        "",
        "| " + " | ".join(table.columns) + " |",
        "|" + "---|" * len(table.columns),
        *(
            "| " + " | ".join(e(v) for e, v in zip(escape, row, strict=True)) + " |"
            for row in table.itertuples(index=False)
        ),
        "",
        "![lockout](lockout.png)",
        "",
    ]
    if any(c.startswith("mean_protected_") for c in summary.columns):  # coverage.png exists
        lines += ["![coverage](coverage.png)", ""]
    return "\n".join(lines)


def _cell(value: object) -> str:
    # numbers and fixed column names: only a pipe could break the table
    return str(value).replace("|", "\\|")


def lockout_png(result) -> bytes:
    """The lockout-rate figure of a result as PNG bytes."""
    with styled():
        fig = Figure(figsize=(11, 5), layout="constrained")
        plot_lockout(
            result.timeseries,
            fig.subplots(),
            title=f"{result.scenario.name}: users locked out, by strategy",
        )
        return figure_png(fig)


def coverage_png(summary) -> bytes:
    """The coverage figure of a summary as PNG bytes."""
    with styled():
        fig = Figure(figsize=(10, 4.3), layout="constrained")
        plot_coverage_readable(summary, fig.subplots())
        return figure_png(fig)


def summary_files(scenario: Scenario, res) -> dict[str, bytes]:
    """``report.md`` and its figures (``lockout.png``, ``coverage.png`` when there are attacks),
    rendered in memory: a short summary to paste into a ticket next to the decision report."""
    summary = res.summary
    files = {"lockout.png": lockout_png(res)}
    if any(c.startswith("mean_protected_") for c in summary.columns):
        files["coverage.png"] = coverage_png(summary)
    files["report.md"] = summary_markdown(scenario, summary).encode("utf-8")
    return files
