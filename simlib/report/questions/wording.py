"""The words an answer is written with: shares, counts, percentage points, dates and lists."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def pct(v: float) -> str:
    if not np.isfinite(v):
        return "n/a"
    if v == 0:
        return "0 %"
    if abs(v) < 0.001:
        return "< 0.1 %"
    return f"{v:.1%}".replace("%", " %") if abs(v) < 0.1 else f"{v:.0%}".replace("%", " %")


def num(v: float) -> str:
    return f"{v:,.0f}"


def pp(v: float) -> str:
    return f"{v * 100:+.1f} points"


def iso_date(v: Any) -> str:
    return "never" if v is None or pd.isna(v) else pd.Timestamp(v).date().isoformat()


def article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def join(items: list[str]) -> str:
    if not items:
        return "none"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
