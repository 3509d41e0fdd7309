"""Forced-update prompts: who obeys a fix's prompt, from which day, and the users it moves.

Semantics (docs/model.md): on a fix's release day, every complier whose version is older than the
fix and who can reach the update-check endpoint that day (their version is not locked out of that
host, or the endpoint is unpinned) installs the newest release and runs it from the next day;
afterwards they update by their own lag as before. Nobody is moved to an older version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simlib.fleet.cohorts import Cohorts
from simlib.fleet.releases import normal_version, windows

if TYPE_CHECKING:
    from simlib.clients.trust import ClientKind
    from simlib.engine.simulation import Simulation
    from simlib.engine.tables import StrategyTables

NEVER = np.iinfo(np.int64).max


def fix_indices(tables: StrategyTables) -> list[int]:
    return [k for k, rel in enumerate(tables.releases) if rel.kind == "fix"]


def prompt_days(
    sim: Simulation,
    tables: StrategyTables,
    client: ClientKind,
    j: np.ndarray,
    ell: np.ndarray,
    fixes,
) -> np.ndarray:
    """(n, F): the day from which each complier cohort runs fix F (``NEVER`` if never).

    A cohort is (install window j, lag ℓ); ℓ > T means "never updates". This is the one
    definition of the prompted version path: counts, outage spells and the Monte Carlo panel use it.
    """
    T = sim.days
    r = tables.release_days
    newest = windows(r, T)
    floor = np.full(len(j), -1)
    E_fix = np.full((len(j), len(fixes)), NEVER, dtype=np.int64)
    host = sim.update_host
    lock_host = tables.lock_host[client.name].get(host) if host is not None else None
    for n, k in enumerate(fixes):
        rf = int(r[k])
        version = np.maximum(np.maximum(normal_version(newest, ell, rf), j), floor)
        if lock_host is None:
            reach = np.ones(len(j), dtype=bool)
        else:
            reach = ~lock_host[version, tables.seg_of_day[rf]]
        hit = (version < k) & reach
        floor = np.where(hit, k, floor)
        E_fix[hit, n] = rf + 1
    return E_fix


def _cohort_weights(sim: Simulation, coh: Cohorts, release_days: np.ndarray) -> np.ndarray:
    """(V, T+2) complier weights by install window (0 = present at start) and lag."""
    T = sim.days
    W = np.zeros((len(release_days), T + 2))
    W[0] = coh.base_complier
    if coh.install_totals is not None:
        cols = np.arange(T + 2) if coh.installs_separable else coh.lag_index()
        W[:, cols] += coh.installs_by_window(release_days, "complier")
    return W


def prompt_steps(
    sim: Simulation, tables: StrategyTables, client: ClientKind, coh: Cohorts, fixes, scale: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Users on version ≥ k because they obeyed a prompt, as sparse steps (k, day, ±users).

    A complier cohort prompted onto fix F is on ≥ k (for every k ≤ F) from its prompt day until
    its own lag would have brought it to k anyway; the steps feed
    :class:`simlib.fleet.counts.AtLeast`.
    """
    T = sim.days
    r = tables.release_days
    V = len(r)
    W = scale * _cohort_weights(sim, coh, r)  # (V windows, T+2 lags)
    j = np.repeat(np.arange(V), T + 2)
    ell = np.tile(np.arange(T + 2), V)
    w = W.ravel()
    keep = w > 0
    j, ell, w = j[keep], ell[keep], w[keep]
    E_fix = prompt_days(sim, tables, client, j, ell, fixes)
    ks, days, ws = [], [], []
    fix_arr = np.array(fixes)
    best = np.full(len(w), NEVER, dtype=np.int64)
    pos = len(fixes) - 1
    for k in range(V - 1, 0, -1):
        while pos >= 0 and fix_arr[pos] >= k:
            best = np.minimum(best, E_fix[:, pos])
            pos -= 1
        if not np.any(best < T):
            continue
        stop = np.minimum(r[k] + np.where(ell > T, T, ell), T)  # normal path reaches k
        m = (j < k) & (best < stop)
        if not m.any():
            continue
        n = int(m.sum())
        ks += [np.full(2 * n, k)]
        days += [best[m], stop[m]]
        ws += [w[m], -w[m]]
    if not ks:
        empty = np.zeros(0)
        return empty.astype(np.int64), empty.astype(np.int64), empty
    return np.concatenate(ks), np.concatenate(days), np.concatenate(ws)
