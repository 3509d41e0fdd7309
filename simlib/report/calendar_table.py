"""The report's risk-calendar table and its note on lockouts that rest on an assumption.

The table keeps every event that breaks a strategy — those breaking the recommended strategy
first, then by users newly locked and strategies broken — before harmless rows (which fill the rest of
``CALENDAR_ROWS`` in date order): a cap by date alone would hide the late event that drives a
strategy's result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simlib.report.wording import num

__all__ = ["CALENDAR_ROWS", "assumed_lockouts", "calendar_rows"]

#: Rows the risk calendar lists at least (harmless rows fill up to it; breaking rows all shown).
CALENDAR_ROWS = 25


def _effect(mine: pd.Series) -> str:
    if not bool(mine["breaks"]):
        return "does not break"
    rec = mine["days_to_recover"]
    if not pd.isna(rec):
        after = f"below 1 % after {int(rec)} days"
    elif bool(mine["cut_by_next_break"]):
        after = "not below 1 % before its next break"
    else:
        after = "not below 1 % within the horizon"
    return f"breaks: peak {mine['peak_locked_share']:.1%}, {after}"


def calendar_rows(cal: pd.DataFrame, best: str) -> tuple[pd.DataFrame, int]:
    """(the rows to show, how many harmless rows were left out); renewals that break nothing
    are never rows."""
    rows = []
    for (date, kind, event), g in cal.groupby(["date", "kind", "event"], sort=True):
        broken = g[g["breaks"]]
        if kind == "renewal" and broken.empty:
            continue
        mine = g[g["strategy"] == best].iloc[0]
        assumed = bool(g["assumption"].iloc[0])
        rows.append({
            "date": str(date), "event": ("[assumption] " if assumed else "") + event,
            "kind": kind.replace("_", " "),
            "source": g["source"].iloc[0] + (" (unconfirmed: assumption)" if assumed else ""),
            "breaks": ", ".join(broken["strategy"]) or "none",
            f"effect on {best}": _effect(mine),
            "_mine": bool(mine["breaks"]), "_n": len(broken),
            "_locked": float(broken["newly_locked_users"].max()) if len(broken) else 0.0,
        })  # fmt: skip
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame, 0
    harmful = frame[frame["breaks"] != "none"].sort_values(
        ["_mine", "_locked", "_n", "date"], ascending=[False, False, False, True], kind="stable"
    )
    harmless = frame[frame["breaks"] == "none"]
    room = max(CALENDAR_ROWS - len(harmful), 0)
    shown = pd.concat([harmful, harmless.head(room)]).drop(columns=["_mine", "_locked", "_n"])
    return shown.reset_index(drop=True), max(len(harmless) - room, 0)


def assumed_lockouts(result, cal: pd.DataFrame, table: pd.DataFrame, window: int = 7) -> list[str]:
    """One sentence per strategy whose locked user-days come (in part) from a break on an
    assumed event: the user-days locked from that event's day until the strategy's next break
    (above those already locked the day before), the day and the event; ``window``: the
    calendar's ``window_days``."""
    ts = result.timeseries.sort_values(["strategy", "date"])
    total = dict(zip(table["strategy"], table["locked_user_days"], strict=True))
    start = result.scenario.start
    out = []
    for name, g in ts.groupby("strategy", sort=False):
        if not total.get(name):
            continue
        locked = g["locked_users"].to_numpy(dtype=float)
        breaks = np.flatnonzero(result.breaks(name))
        rows = cal[(cal["strategy"] == name) & cal["breaks"] & cal["assumption"]]
        parts, seen = [], set()
        # a break's cause: its earliest event, a world or scenario event before a renewal
        causes = rows.assign(_renewal=rows["kind"] == "renewal").sort_values(
            ["date", "_renewal", "event"], kind="stable"
        )
        for date, event in zip(causes["date"], causes["event"], strict=True):
            i = (date - start).days
            mine = breaks[(breaks >= i) & (breaks < i + window)]  # the break the row counts
            if not mine.size or int(mine[0]) in seen:  # one event per break: the earliest
                continue
            seen.add(int(mine[0]))
            later = breaks[breaks >= i + window]
            stop = int(later[0]) if later.size else len(locked)
            before = locked[i - 1] if i > 0 else 0.0
            days = float(np.clip(locked[i:stop] - before, 0, None).sum())
            if days >= 0.5:
                parts.append((days, str(date), event))
        if not parts:
            continue
        whole, days = float(total[name]), sum(d for d, _day, _e in parts)
        share = f"its {num(whole)}" if days >= 0.995 * whole else f"{num(days)} of its {num(whole)}"
        _d, day, event = max(parts)
        if len(parts) == 1:
            said = f"from {day}, {event}" + ("" if "assumption" in event else " — an assumption")
        else:
            said = (
                f"from {len(parts)} breaks on assumed events (the largest: {day}, {event}) — "
                "assumptions, not published facts"
            )
        out.append(f"{name}: {share} locked user-days come {said}.")
    return out
