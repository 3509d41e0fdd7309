"""Dynamic pin lists: exact expected verdicts over each user's pin-list refresh history.

A user refreshes every R days at a uniformly random phase; each attempt succeeds with probability
p. The list in force on day t is the bundled one (build day b) or the last successful fetch
f ∈ (b, t], whichever is newer: P(f* = f) = q(t − f) = (p/R)(1−p)^⌊(t−f)/R⌋ for f ∈ (b, t], the
rest, rem(t − b − 1) = 1 − Σ_{d ≤ t−b−1} q(d), at b. So for an event e (locked, violation,
protected against an attack) P(e | version, t) = Σ_{f=b+1}^{t} q(t−f) e(t, f) + rem(t−b−1) e(t, b).

No (days × days) table is needed: e(t, f) depends on t only through the chain segment s(t) and on
f only through the *publication piece* j(f) (the pin list is constant between issuance
boundaries) and, for ``fail_open``, through whether the list is fresh (t − f ≤ max_age: a stale
list is not checked, so e(t, f) is then the unchecked value off(t)). Per day t the sum over f is a
sum over pieces of G[s(t), j] × (mass of q over the piece), each mass a difference of the closed
form rem(d) = (1−p)^n (1 − p·r/R) for d + 1 = nR + r. Terms older than the day K on which rem
underflows to 0.0 are exactly zero, and for ``fail_open`` terms older than max_age are off(t)
times a closed-form mass, so only the pieces within min(K, max_age) days of t are summed: cost
days × (pieces in that window) plus the (versions × days) result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simlib.engine.tables import StrategyTables
from simlib.engine.verdicts import targets_of
from simlib.strategies.strategy import PinningStrategy

if TYPE_CHECKING:
    from simlib.engine.simulation import Simulation


def publication(sim: Simulation, strategy: PinningStrategy, host: str) -> tuple[np.ndarray, np.ndarray]:
    """The remote pin list as pieces: (starts (P,), ids (P, n)) — identities on the list (current
    certificate + those published ahead) from ``starts[j]`` until the next start."""
    T, n = sim.days, sim.table.n_ids + 1
    spans = []
    if strategy.pins_host(host):
        ahead = strategy.dynamic.publish_ahead_days  # type: ignore[union-attr]
        for it in sim.calendar.by_host[host]:
            lo, hi = max(0, it.day - ahead), min(T - 1, it.end_day)
            if hi < lo:
                continue
            ids = list(strategy.targets(sim.calendar, it))
            b = strategy.backup_pins(sim.calendar, it, max(it.day, 0))
            spans.append((lo, hi, ids + list(b.leaf | b.ca)))
    starts = np.unique([0, *[s[0] for s in spans], *[s[1] + 1 for s in spans if s[1] + 1 < T]])
    pub = np.zeros((len(starts), n), dtype=bool)
    for lo, hi, ids in spans:
        a, z = np.searchsorted(starts, lo), np.searchsorted(starts, hi, side="right")
        pub[a:z, ids] = True
    return starts, pub


class RefreshKernel:
    """q(d) = (p/R)(1−p)^⌊d/R⌋ and its tail rem(d) = Σ_{d' > d} q(d') (rem(d) = 1 for d < 0)."""

    def __init__(self, refresh_days: int, fetch_success: float, days: int) -> None:
        self.R, self.p = refresh_days, fetch_success
        d = np.arange(days + 2)
        self._rem = self._closed(d)
        zero = np.flatnonzero(self._rem == 0.0)
        #: lags from which every term is exactly 0.0 (days + 1: none within the horizon)
        self.K = int(zero[0]) if len(zero) else days + 1

    def _closed(self, d: np.ndarray) -> np.ndarray:
        n, r = np.divmod(d + 1, self.R)
        with np.errstate(under="ignore"):
            return (1.0 - self.p) ** n * (1.0 - self.p * r / self.R)

    def rem(self, d: np.ndarray) -> np.ndarray:
        d = np.asarray(d)
        return np.where(d < 0, 1.0, self._rem[np.clip(d, 0, len(self._rem) - 1)])

    def mass(self, t: np.ndarray, f1: np.ndarray, f2: np.ndarray) -> np.ndarray:
        """Σ_{f=f1}^{f2} q(t − f) (0 when f1 > f2)."""
        return np.where(f1 <= f2, self.rem(t - f2 - 1) - self.rem(t - f1), 0.0)


class EventOn:
    """e(t, f): the event's value on day t with the list fetched on day f (pins checked), for
    arrays of (t, f) pairs — what the Monte Carlo panel evaluates per user."""

    def __init__(self, G: np.ndarray, off_s: np.ndarray, seg: np.ndarray, starts: np.ndarray,
                 window: int | None) -> None:
        self.G, self.off_s, self.seg, self.starts, self.window = G, off_s, seg, starts, window

    def piece(self, f: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.starts, f, side="right") - 1

    def __call__(self, t: np.ndarray, f: np.ndarray) -> np.ndarray:
        t, f = np.broadcast_arrays(np.asarray(t), np.asarray(f))
        s = self.seg[t]
        val = self.G[s, self.piece(f)]
        if self.window is not None:
            val = np.where(t - f <= self.window, val, self.off_s[s])
        return val


def _prob(on: EventOn, off_t: np.ndarray, kernel: RefreshKernel, build_days: np.ndarray,
          checked: np.ndarray, T: int) -> np.ndarray:
    """(V, T) P(event) for every version and day (see the module docstring)."""
    t = np.arange(T)
    W = on.window
    span = kernel.K if W is None else min(kernel.K, W)  # older fetches: 0 or off(t)
    lo_f = np.maximum(t - span, 0)
    j_lo, j_t = on.piece(lo_f), on.piece(t)
    m = int((j_t - j_lo).max()) + 1
    J = j_lo[:, None] + np.arange(m)[None, :]  # (T, m) pieces within the window of day t
    valid = j_t[:, None] >= J
    Jc = np.minimum(J, len(on.starts) - 1)
    ends = np.append(on.starts[1:], T) - 1
    f1 = np.maximum(on.starts[Jc], lo_f[:, None])
    f2 = np.minimum(ends[Jc], t[:, None])
    contrib = np.where(valid, on.G[on.seg[t][:, None], Jc] * kernel.mass(t[:, None], f1, f2), 0.0)
    # C[t, i] = Σ over window pieces i.. of day t (suffix sums), C[t, m] = 0
    C = np.concatenate([np.cumsum(contrib[:, ::-1], axis=1)[:, ::-1], np.zeros((T, 1))], axis=1)

    b = build_days[:, None]
    tt = t[None, :]
    x = np.clip(b + 1, lo_f[None, :], tt + 1)  # first fetch day counted in the window sum
    jx = on.piece(np.minimum(x, T - 1))
    rel = jx - j_lo[None, :]
    inside = x <= tt
    part_end = np.minimum(ends[jx], tt)
    partial = np.where(inside, on.G[on.seg[t][None, :], jx] * kernel.mass(tt, x, part_end), 0.0)
    after = C[np.broadcast_to(tt, rel.shape), np.clip(rel + 1, 0, m)]
    tail = partial + np.where(inside, after, 0.0)
    stale_off = off_t[None, :]
    if W is not None:  # fetches older than max_age count as unchecked
        tail = tail + stale_off * np.where(tt - b - 1 > W, kernel.rem(W) - kernel.rem(tt - b - 1), 0.0)
    shape = (len(build_days), T)
    at_b = on(np.broadcast_to(tt, shape), np.broadcast_to(np.minimum(b, T - 1), shape))
    p = tail + kernel.rem(tt - b - 1) * at_b
    p = np.where(b > tt, 0.0, p)  # not built yet
    return np.where(checked, p, stale_off)


def dynamic_tables(sim: Simulation, strategy, releases) -> StrategyTables:
    """Exact expectation over each user's pin-list refresh history (module docstring).

    Dynamic pins match any certificate of the built chain on every platform (custom validators,
    as Wultra and Approov do). ``tables.events[client][event] = (on, off)``: ``on(t, f)`` the
    event with pins checked and the list fetched on day f, ``off[t]`` with pins not checked.
    """
    dyn = strategy.dynamic
    T = sim.days
    build_days = np.array([r.build_day for r in releases])
    V = len(releases)
    t = np.arange(T)
    kernel = RefreshKernel(dyn.refresh_days, dyn.fetch_success, T)
    window = dyn.max_age_days if dyn.on_stale == "fail_open" else None
    seg = sim.table.seg_of_day  # (T,) chain segments
    hosts = sim.table.hosts
    pieces = {h: publication(sim, strategy, h) for h in hosts}
    starts = np.unique(np.concatenate([pieces[h][0] for h in hosts]))
    pubs = {h: pub[np.searchsorted(st, starts, side="right") - 1] for h, (st, pub) in pieces.items()}
    pinned = {h: strategy.pins_host(h) for h in hosts}
    expiry = (
        build_days + strategy.expires_after_days if strategy.expires_after_days else np.full(V, 10**9)
    )
    checked = t[None, :] < expiry[:, None]  # (V, T)

    lock, violate, protect, lock_host, events = {}, {}, {}, {}, {}
    for c in sim.clients:
        # G[s, j]: the event in chain segment s with the (fresh) list of piece j
        lk_enf = lk_off = vi = None
        rej_enf: dict[str, np.ndarray] = {}
        rej_off: dict[str, np.ndarray] = {}
        lock_host[c.name] = {}
        for h in hosts:
            ch = sim.table.legit[(h, c.name)]
            pub = pubs[h]
            acc = (pub[:, ch.leaf].any(-1) | pub[:, ch.ca].any(-1)).T  # (S, P)
            trusted = ch.trusted[:, None]
            enf = pinned[h] and strategy.enforce
            lk_h = ~trusted | (enf & ~acc)
            vi_h = trusted & pinned[h] & ~acc
            lk_enf = lk_h if lk_enf is None else lk_enf | lk_h
            lk_off = ~trusted[:, 0] if lk_off is None else lk_off | ~trusted[:, 0]
            vi = vi_h if vi is None else vi | vi_h
            lock_host[c.name][h] = None
            for a in sim.attack_labels:
                if h not in targets_of(sim, a):
                    continue
                ach = sim.table.attack[(a, h, c.name)]
                acc_a = (pub[:, ach.leaf].any(-1) | pub[:, ach.ca].any(-1)).T
                at = ach.trusted[:, None]
                r_h = ~at | (enf & ~acc_a)
                rej_enf[a] = r_h if a not in rej_enf else rej_enf[a] & r_h
                rej_off[a] = ~at[:, 0] if a not in rej_off else rej_off[a] & ~at[:, 0]
        S, P = lk_enf.shape
        G = {"lock": (lk_enf, lk_off), "violation": (vi, np.zeros(S, dtype=bool))}
        for a in sim.attack_labels:
            re = rej_enf.get(a, np.ones((S, P), dtype=bool))
            ro = rej_off.get(a, np.ones(S, dtype=bool))
            G[f"protected:{a}"] = (~lk_enf & re, ~lk_off & ro)
        ev = {k: (EventOn(g, off, seg, starts, window), off[seg]) for k, (g, off) in G.items()}
        events[c.name] = ev
        prob = lambda key, ev=ev: _prob(ev[key][0], ev[key][1], kernel, build_days, checked, T)  # noqa: E731
        lock[c.name] = prob("lock")
        violate[c.name] = prob("violation")
        protect[c.name] = {a: prob(f"protected:{a}") for a in sim.attack_labels}
    return StrategyTables(
        strategy, releases, np.arange(T), np.arange(T), lock, violate, protect, lock_host,
        per_day=True, events=events,
    )
