"""YAML for a terminal: strings from a scenario file cannot move the cursor or reorder text.

Every printed name goes through :func:`simlib.errors.escape_controls`; YAML needs more, since an
escape written into a plain or single-quoted scalar would change the value read back. Here such
strings are written double-quoted with YAML's own escapes (``\\u202E``, ``\\L``), so the text
stays valid YAML that reads back to the same data.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import yaml

from simlib.errors import escape_controls


def has_controls(text: str) -> bool:
    """True if ``text`` holds a character :func:`escape_controls` escapes (newlines aside)."""
    return any(escape_controls(line) != line for line in text.split("\n"))


def _unsafe(value: object) -> bool:
    return isinstance(value, str) and escape_controls(value) != value


class _EscapingDumper(yaml.SafeDumper):
    def choose_scalar_style(self) -> str:
        if _unsafe(self.event.value):
            return '"'
        return super().choose_scalar_style()

    def write_double_quoted(self, text: str, split: bool = True) -> None:
        if not _unsafe(text):
            super().write_double_quoted(text, split)
            return
        # Without allow_unicode the emitter escapes everything outside printable ASCII: only
        # for the strings that need it, so other names keep their accents readable.
        saved, self.allow_unicode = self.allow_unicode, False
        try:
            super().write_double_quoted(text, split)
        finally:
            self.allow_unicode = saved


def escaped_yaml(data: Any) -> str:
    """``data`` as block YAML (keys in order) whose strings print safely on a terminal."""
    return yaml.dump(data, Dumper=_EscapingDumper, sort_keys=False, allow_unicode=True)


#: Monte Carlo metrics ``simlib run`` prints, as (summary metric, column, format of the mean);
#: the formats are the exact-mode table's (:func:`simlib.results.metrics.display_summary`).
MC_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("mean_lockout_rate", "mean locked", "{:.1%}"),
    ("peak_lockout_rate", "peak locked", "{:.1%}"),
    ("locked_user_days", "locked user-days", "{:,.0f}"),
    ("p95_outage_days", "p95 outage (d)", "{:,.1f}"),
)


def mc_table(summary: pd.DataFrame) -> str:
    """A long Monte Carlo summary (strategy, metric, mean, p5, p95) as the exact-mode table:
    one row per strategy in scenario order, means formatted alike, and the 90 % range of
    locked user-days, so a reader sees how far replications spread."""
    strategies = list(dict.fromkeys(summary["strategy"].astype(str)))
    rows = summary.assign(strategy=summary["strategy"].astype(str)).set_index(
        ["strategy", "metric"]
    )
    table = pd.DataFrame({"strategy": [escape_controls(s) for s in strategies]})
    for metric, column, fmt in MC_COLUMNS:
        if metric in rows.index.get_level_values("metric"):
            table[column] = [fmt.format(float(rows.loc[(s, metric), "mean"])) for s in strategies]
    if "locked_user_days" in rows.index.get_level_values("metric"):
        table["locked user-days p5–p95"] = [
            "{:,.0f}–{:,.0f}".format(*rows.loc[(s, "locked_user_days"), ["p5", "p95"]])
            for s in strategies
        ]
    with pd.option_context("display.width", 250, "display.max_columns", 40):
        return table.to_string(index=False)
