"""Dynamic pin lists: exact expected verdicts over each user's pin-list refresh history."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simlib.engine.tables import StrategyTables
from simlib.engine.verdicts import targets_of
from simlib.strategies.strategy import PinningStrategy

if TYPE_CHECKING:
    from simlib.engine.simulation import Simulation


def publication(sim: Simulation, strategy: PinningStrategy, host: str) -> np.ndarray:
    """(T, n) identities on the remote pin list on each day (current + published ahead)."""
    T, n = sim.days, sim.table.n_ids + 1
    pub = np.zeros((T, n), dtype=bool)
    if not strategy.pins_host(host):
        return pub
    ahead = strategy.dynamic.publish_ahead_days  # type: ignore[union-attr]
    for it in sim.calendar.by_host[host]:
        lo, hi = max(0, it.day - ahead), min(T - 1, it.end_day)
        if hi < lo:
            continue
        ids = list(strategy.targets(sim.calendar, it))
        b = strategy.backup_pins(sim.calendar, it, max(it.day, 0))
        ids += list(b.leaf | b.ca)
        pub[lo : hi + 1, ids] = True
    return pub

def dynamic_tables(sim: Simulation, strategy, releases) -> StrategyTables:
    """Exact expectation over each user's pin-list refresh history.

    A user refreshes every R days at a uniformly random phase; each attempt succeeds with
    probability p. The list in force on day t is the bundled one (build day b) or the last
    successful fetch f ∈ (b, t], whichever is newer: P(f* = f) = (p/R)(1−p)^⌊(t−f)/R⌋ for
    f ∈ (b, t], the rest at b. A list older than max_age_days is stale: fail_open stops
    checking, fail_closed keeps enforcing it. Dynamic pins match any certificate of the
    built chain on every platform (custom validators, as Wultra and Approov do).
    """
    dyn = strategy.dynamic
    T = sim.days
    build_days = np.array([r.build_day for r in releases])
    V = len(releases)
    t = np.arange(T)
    lag = t[:, None] - t[None, :]  # (t, f)
    valid = lag >= 0
    q = np.where(valid, (dyn.fetch_success / dyn.refresh_days)
                 * (1 - dyn.fetch_success) ** (np.maximum(lag, 0) // dyn.refresh_days), 0.0)
    fresh = valid & (lag <= dyn.max_age_days) if dyn.on_stale == "fail_open" else valid
    seg = sim.table.seg_of_day  # (T,)
    pubs = {h: publication(sim, strategy, h) for h in sim.table.hosts}
    pinned = {h: strategy.pins_host(h) for h in sim.table.hosts}
    expiry = (
        build_days + strategy.expires_after_days
        if strategy.expires_after_days
        else np.full(V, 10**9)
    )
    checked_vt = t[None, :] < expiry[:, None]  # (V, T)
    bb = np.clip(build_days, 0, T - 1)

    def prob(event_enf: np.ndarray, event_off: np.ndarray) -> np.ndarray:
        """P(event) per (v, t): event_enf[t, f] when pins are checked, event_off[t] if not."""
        w = q * event_enf
        ss = np.cumsum(w[:, ::-1], axis=1)[:, ::-1]  # ss[t, x] = Σ_{f ≥ x} w[t, f]
        ss = np.concatenate([ss, np.zeros((T, 1))], axis=1)
        nxt = np.clip(build_days + 1, 0, T)
        tail = ss[t[None, :], nxt[:, None]]  # Σ_{f ∈ (b, t]}
        mass = q.cumsum(axis=1)  # Σ_{f ≤ x} q[t, f]
        total = np.concatenate([np.zeros((T, 1)), mass], axis=1)
        p_after = total[t[None, :], np.full((V, 1), T)] - total[t[None, :], nxt[:, None]]
        p0 = 1.0 - p_after
        at_b = event_enf[t[None, :], bb[:, None]]
        p = tail + p0 * at_b
        p = np.where(build_days[:, None] > t[None, :], 0.0, p)  # not built yet
        return np.where(checked_vt, p, event_off[None, :])

    lock, violate, protect, lock_host, events = {}, {}, {}, {}, {}
    for c in sim.clients:
        lk_enf = np.zeros((T, T), dtype=bool)
        lk_off = np.zeros(T, dtype=bool)
        vi = np.zeros((T, T), dtype=bool)
        rej_enf = {a: np.ones((T, T), dtype=bool) for a in sim.attack_labels}
        rej_off = {a: np.ones(T, dtype=bool) for a in sim.attack_labels}
        lock_host[c.name] = {}
        for h in sim.table.hosts:
            ch = sim.table.legit[(h, c.name)]
            pub = pubs[h]
            acc = (pub[:, ch.leaf].any(-1) | pub[:, ch.ca].any(-1)).T  # (S, T over f)
            acc_tf = acc[seg]  # (t, f)
            trusted = ch.trusted[seg]  # (t,)
            enf = fresh & pinned[h] & strategy.enforce
            chk = fresh & pinned[h]
            lk_h = ~trusted[:, None] | (enf & ~acc_tf)
            lk_enf |= lk_h
            lk_off |= ~trusted
            vi |= trusted[:, None] & chk & ~acc_tf
            lock_host[c.name][h] = None
            for a in sim.attack_labels:
                if h not in targets_of(sim, a):
                    continue
                ach = sim.table.attack[(a, h, c.name)]
                acc_a = (pub[:, ach.leaf].any(-1) | pub[:, ach.ca].any(-1)).T[seg]
                at = ach.trusted[seg]
                rej_enf[a] &= ~at[:, None] | (enf & ~acc_a)
                rej_off[a] &= ~at
        ev = {"lock": (lk_enf, lk_off), "violation": (vi, np.zeros(T, dtype=bool))}
        ev |= {f"protected:{a}": (~lk_enf & rej_enf[a], ~lk_off & rej_off[a]) for a in sim.attack_labels}
        events[c.name] = ev
        lock[c.name] = prob(*ev["lock"])
        violate[c.name] = prob(*ev["violation"])
        protect[c.name] = {a: prob(*ev[f"protected:{a}"]) for a in sim.attack_labels}
    return StrategyTables(
        strategy, releases, np.arange(T), np.arange(T), lock, violate, protect, lock_host,
        per_day=True, events=events,
    )
