"""``simlib presets``, ``simlib calendar`` and the ``--preset NAME`` option of run and report.

``simlib/cli/main.py`` registers everything with :func:`add_parsers`; argument parsing and
printing only (presets live in :mod:`simlib.analysis.presets`, the calendar in
:mod:`simlib.analysis.risk_calendar`; the scenario-or-preset choice in
:func:`simlib.cli.common.load_input`). Heavy modules are imported inside the commands, so
``--help`` stays fast.
"""

from __future__ import annotations

import argparse
from typing import Any

from simlib.cli.common import UsageError, load_input
from simlib.errors import escape_controls

PRESET_HELP = "run a real-world preset instead of a scenario file (list: simlib presets)"


def cmd_presets(args: argparse.Namespace) -> int:
    from simlib.analysis.presets import presets

    items = presets()
    width = max((len(p.name) for p in items), default=4)
    print(f"{'name':<{width}}  question")
    for p in items:
        print(f"{escape_controls(p.name):<{width}}  {escape_controls(p.question)}")
    return 0


def _shown(value: Any) -> Any:
    return escape_controls(value) if isinstance(value, str) else value


def _cell(row: Any) -> str:
    if not row.breaks:
        return "ok"
    days = row.days_to_recover
    if days is None or str(days) == "<NA>":
        days_text = "next break first" if row.cut_by_next_break else "not recovered"
    else:
        days_text = f"{int(days)}d"
    return f"BREAKS {row.peak_locked_share:.0%} {days_text}"


def format_table(frame: Any) -> str:
    """One line per event: date, kind, event, then per strategy ``ok`` or
    ``BREAKS <peak share locked> <days until the added lockout is below 1 %>``."""
    import pandas as pd

    if frame.empty:
        return "no dated events ahead within the horizon"
    strategies = list(dict.fromkeys(frame["strategy"]))
    keys = ["date", "kind", "event", "assumption"]
    rows = []
    for key, group in frame.groupby(keys, sort=False):
        cells = {r.strategy: _cell(r) for r in group.itertuples(index=False)}
        date, kind, event, assumption = key
        label = escape_controls(event if len(event) <= 70 else event[:69] + "…")
        if assumption:
            label = "[assumption] " + label
        # Strategy names head columns: escaped before pandas pads them, so columns stay aligned.
        rows.append(
            {
                "date": date,
                "kind": escape_controls(str(kind)),
                "event": label,
                **{escape_controls(s): cells.get(s, "") for s in strategies},
            }
        )
    table = pd.DataFrame(rows)
    with pd.option_context(
        "display.width", 400, "display.max_columns", 60, "display.max_colwidth", 90
    ):
        return table.to_string(index=False)


def cmd_calendar(args: argparse.Namespace) -> int:
    from simlib.analysis.risk_calendar import calendar

    if args.scenario is None and args.preset is None:
        raise UsageError("simlib calendar: give a scenario file or --preset NAME")
    scenario = load_input(args.scenario, args.preset)
    frame = calendar(scenario, args.today)
    if args.format == "csv":
        from simlib.results.io import csv_safe  # no cell a spreadsheet would run as a formula

        # a terminal reads this too: control and bidi characters in names shown as escapes
        text = [c for c in frame.columns if frame[c].dtype == object or frame[c].dtype == "string"]
        shown = frame.assign(**{c: frame[c].map(_shown) for c in text})
        print(csv_safe(shown).to_csv(index=False), end="")
    else:
        print(
            f"{escape_controls(scenario.name)}: {scenario.start} → {scenario.end}; "
            f"events from {args.today or 'today (or the start)'}"
        )
        print(format_table(frame))
    return 0


def _date(text: str) -> str:
    import datetime as dt

    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a date (YYYY-MM-DD)") from None


def add_parsers(subparsers: Any) -> None:
    """Register ``presets`` and ``calendar`` and add ``--preset`` to ``run`` and ``report``."""
    for name in ("run", "report"):
        existing = subparsers.choices.get(name)
        if existing is not None:
            existing.add_argument("--preset", metavar="NAME", help=PRESET_HELP)

    pre = subparsers.add_parser("presets", help="list the real-world presets and their questions")
    pre.set_defaults(func=cmd_presets)

    cal = subparsers.add_parser(
        "calendar", help="dated events ahead and what each does to each strategy"
    )
    cal.add_argument("scenario", nargs="?", help="scenario YAML (or --preset NAME)")
    cal.add_argument("--preset", metavar="NAME", help="a real-world preset (list: simlib presets)")
    cal.add_argument(
        "--today",
        type=_date,
        metavar="DATE",
        help="list events from this day (default: today if within the horizon, "
        "else the scenario start)",
    )
    cal.add_argument(
        "--format",
        choices=["table", "csv"],
        default="table",
        help="table (default) or csv (one row per event and strategy)",
    )
    cal.set_defaults(func=cmd_calendar)
