"""Per-user outage durations: how long a locked user stays locked.

Users present at the start are grouped by (client kind, complier, lag ℓ); each group follows one
deterministic path through the versions, so its outage *spells* (maximal runs of locked days) are
exact. Weighting the spells by the users in each group gives the expected distribution (expected
mode) or one random fleet's distribution (Monte Carlo). A spell still running on the last day is
*censored*: its length is a lower bound. Dynamic strategies lock users at random day by day, so
their spells come from the Monte Carlo panel instead (:mod:`simlib.engine.montecarlo`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simlib.engine.prompts import prompt_days
from simlib.fleet.cohorts import Cohorts, normal_version, prompt_floor, windows

if TYPE_CHECKING:
    from simlib.engine.simulation import Simulation
    from simlib.engine.tables import StrategyTables

@dataclass(frozen=True)
class SpellTable:
    """One entry per (group, spell): group = (client index, complier, lag)."""

    client: np.ndarray
    complier: np.ndarray
    lag: np.ndarray
    length: np.ndarray
    censored: np.ndarray
    first: np.ndarray  # True on the first spell of each group (counts users ever locked)
    split: bool  # compliers form their own groups (only when forced-update prompts happened)

    def weights(self, sim: Simulation, cohorts: Cohorts | dict[str, Cohorts]) -> np.ndarray:
        """Users behind each spell (expected or sampled)."""
        out = np.zeros(len(self.length))
        for ci, c in enumerate(sim.clients):
            coh = cohorts if isinstance(cohorts, Cohorts) else cohorts[c.name]
            scale = c.share if isinstance(cohorts, Cohorts) else 1.0
            comp = scale * coh.base_complier if self.split else np.zeros_like(coh.base)
            rest = scale * coh.base - comp
            m = self.client == ci
            out[m] = np.where(self.complier[m], comp[self.lag[m]], rest[self.lag[m]])
        return out

    def stats(self, w: np.ndarray) -> dict[str, float]:
        total = float(w.sum())
        if total <= 0:
            return {
                "users_ever_locked": 0.0, "outage_spells": 0.0, "mean_outage_days": 0.0,
                "p50_outage_days": 0.0, "p95_outage_days": 0.0, "max_outage_days": 0.0,
                "censored_spells": 0.0,
            }
        order = np.argsort(self.length, kind="stable")
        cum = np.cumsum(w[order]) / total
        q = lambda p: float(self.length[order][min(np.searchsorted(cum, p), len(cum) - 1)])  # noqa: E731
        return {
            "users_ever_locked": float(w[self.first].sum()),
            "outage_spells": total,
            "mean_outage_days": float((w * self.length).sum() / total),
            "p50_outage_days": q(0.5),
            "p95_outage_days": q(0.95),
            "max_outage_days": float(self.length[w > 0].max()),
            "censored_spells": float(w[self.censored].sum()),
        }

    def weighted(self, strategy: str, cohorts, sim: Simulation) -> pd.DataFrame:
        w = self.weights(sim, cohorts)
        frame = pd.DataFrame({"duration_days": self.length, "censored": self.censored, "spells": w})
        frame = frame[frame["spells"] > 0].groupby(["duration_days", "censored"], as_index=False)["spells"].sum()
        frame.insert(0, "strategy", strategy)
        return frame


def spell_table(sim: Simulation, tables: StrategyTables) -> SpellTable:
    """Exact outage spells of every start-of-simulation user group for one strategy."""
    if tables.per_day:
        raise ValueError(
            f"{tables.strategy.name}: dynamic strategies lock users at random; "
            "use Monte Carlo for their outage durations"
        )
    T = sim.days
    r = tables.release_days
    lags = np.arange(T + 2)
    fixes = [k for k, rel in enumerate(tables.releases) if rel.kind == "fix"]
    t = np.arange(T)
    normal = normal_version(windows(r, T), lags[:, None], t[None, :])  # (lags, T)
    parts = []
    split = bool(fixes) and sim.comply_share > 0
    for ci, c in enumerate(sim.clients):
        lock = tables.lock[c.name]
        for complier in (False, True):
            version = normal
            if complier:
                if not split:
                    continue
                E = prompt_days(sim, tables, c, np.zeros(len(lags), dtype=int), lags, fixes)
                version = np.maximum(normal, prompt_floor(E, fixes, T))
            locked = lock[version, tables.seg_of_day[None, :]]
            padded = np.zeros((len(lags), T + 2), dtype=np.int8)
            padded[:, 1:-1] = locked
            d = np.diff(padded, axis=1)
            rows_s, starts = np.nonzero(d == 1)
            _rows_e, ends = np.nonzero(d == -1)
            # nonzero walks row by row, so starts and ends pair up in order
            first = np.ones(len(starts), dtype=bool)
            first[1:] = rows_s[1:] != rows_s[:-1]
            parts.append(
                (
                    np.full(len(starts), ci),
                    np.full(len(starts), complier),
                    rows_s,
                    ends - starts,
                    ends == T,
                    first,
                )
            )
    if not parts:
        empty = np.zeros(0, dtype=int)
        b = empty.astype(bool)
        return SpellTable(empty, b, empty, empty, b, b, split)
    cols = [np.concatenate(p) for p in zip(*parts, strict=True)]
    return SpellTable(
        cols[0], cols[1].astype(bool), cols[2], cols[3], cols[4].astype(bool), cols[5], split
    )
