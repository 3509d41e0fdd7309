"""What the engine computes per strategy: verdict tables and the daily series built from them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simlib.fleet.releases import Release
from simlib.strategies.strategy import PinningStrategy


@dataclass
class StrategyTables:
    """Verdicts for one strategy and one release list.

    Static strategies: :class:`~simlib.engine.views.VerdictView` tables that index like (V, S)
    0/1 arrays over *refined segments* (``seg_start``/``seg_of_day``), stored per version class.
    Dynamic strategies: :class:`~simlib.engine.dynamic_views.DynamicView` tables that index like
    (V, T) probabilities (one "segment" per day), stored as per-day values plus a band of recent
    builds.
    """

    strategy: PinningStrategy
    releases: list[Release]
    seg_start: np.ndarray
    seg_of_day: np.ndarray
    lock: dict[str, np.ndarray]  # client -> (V, S) locked (any host)
    violate: dict[str, np.ndarray]
    protect: dict[str, dict[str, np.ndarray]]  # client -> attack -> (V, S)
    lock_host: dict[str, dict[str, np.ndarray]]  # client -> host -> (V, S)
    per_day: bool = False
    #: dynamic only: client -> event -> (on[t, f] when pins are checked with a list fetched on f,
    #: on[t] when they are not checked); the Monte Carlo panel evaluates these per user.
    events: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] | None = None

    @property
    def release_days(self) -> np.ndarray:
        return np.array([r.release_day for r in self.releases])

    @property
    def build_days(self) -> np.ndarray:
        return np.array([r.build_day for r in self.releases])


@dataclass
class StrategyRun:
    """Everything computed for one strategy: tables, per-client version counts, daily series."""

    tables: StrategyTables
    counts: dict[str, np.ndarray]  # client -> (V, T) users on each version
    series: dict[str, np.ndarray]  # column -> (T,)
    fixes: list[Release] = field(default_factory=list)
    #: incident response: days with locked users that no app release built that day could cure
    incurable_days: int = 0
