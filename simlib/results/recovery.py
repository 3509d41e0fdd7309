"""Time to recover from a break, on a daily lockout-rate series.

One definition, used by the decision report's ranked table and by the risk calendar: the days
from a break until the lockout *that break added* is below a level — measured against the rate
the day before, so users locked by earlier breaks (those who never update stay locked) do not
hide how fast the fleet recovers from this one.
"""

from __future__ import annotations

import numpy as np

__all__ = ["recovery_days"]


def recovery_days(rate: np.ndarray, events: np.ndarray, level: float) -> np.ndarray:
    """Days from each event day until the lockout *that event added* is first below ``level``:
    the first day t ≥ e with rate[t] − rate[e − 1] < level (rate[−1] = 0). 0 when already so on
    the event day; ``inf`` when never within the horizon.

    Measuring the excess over the day before keeps users locked by earlier breaks (those who
    never update stay locked) from hiding how fast the fleet recovers from this one. A sparse
    table of range minima makes each event a binary search: O((days + events) · log days).
    """
    rate = np.asarray(rate, dtype=float)
    events = np.asarray(events, dtype=int)
    n = len(rate)
    out = np.full(len(events), np.inf)
    if n == 0 or len(events) == 0:
        return out
    base = np.where(events > 0, rate[np.maximum(events - 1, 0)], 0.0)
    threshold = base + level
    mins = [rate]  # mins[k][i] = min(rate[i : i + 2**k])
    while (1 << len(mins)) <= n:
        prev, half = mins[-1], 1 << (len(mins) - 1)
        mins.append(np.minimum(prev[:-half], prev[half:]))
    pos = events.copy()  # first index not yet known to stay at or above the threshold
    for k in range(len(mins) - 1, -1, -1):
        table = mins[k]
        ok = pos < len(table)
        idx = np.minimum(pos, len(table) - 1)
        skip = ok & (table[idx] >= threshold)  # the next 2**k days all stay above: jump
        pos = np.where(skip, pos + (1 << k), pos)
    found = (pos < n) & (rate[np.minimum(pos, n - 1)] < threshold)
    out[found] = (pos - events)[found]
    return out
