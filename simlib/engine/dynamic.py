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
times a closed-form mass, so only the pieces within span = min(K, max_age) days of t are summed, and every version built
more than span + 1 days before t has one common value: cost days × (pieces in the window) +
versions × span. The tables hold exactly that (:class:`simlib.engine.dynamic_views.DynamicView`),
never a (versions × days) array unless a consumer asks for one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simlib.engine.dynamic_views import DynamicView
from simlib.engine.tables import StrategyTables
from simlib.engine.verdicts import targets_of
from simlib.strategies.strategy import PinningStrategy

if TYPE_CHECKING:
    # a protocol, not simulation.py (which imports this module): imports stay one-way
    from simlib.engine.state import SimulationState as Simulation


def publication(
    sim: Simulation, strategy: PinningStrategy, host: str
) -> tuple[np.ndarray, np.ndarray]:
    """The remote pin list as pieces: (starts (P,), codes) — identity i is on the list (current
    certificate + those published ahead) from ``starts[j]`` until the next start iff j·n + i is
    in the sorted ``codes`` (n = identities + 1): no (pieces × identities) table."""
    T, n = sim.days, sim.table.n_ids + 1
    spans = []
    if strategy.pins_host(host):
        ahead = strategy.dynamic.publish_ahead_days  # type: ignore[union-attr]
        for it in sim.calendar.by_host[host]:
            lo, hi = max(0, it.day - ahead), min(T - 1, it.end_day)
            if hi < lo:
                continue
            ids = list(strategy.targets(sim.calendar, it, max(it.day, 0)))
            b = strategy.backup_pins(sim.calendar, it, max(it.day, 0))
            spans.append((lo, hi, ids + list(b.leaf | b.ca)))
    starts = np.unique([0, *[s[0] for s in spans], *[s[1] + 1 for s in spans if s[1] + 1 < T]])
    codes = [np.zeros(0, dtype=np.int64)]
    for lo, hi, ids in spans:
        a, z = np.searchsorted(starts, lo), np.searchsorted(starts, hi, side="right")
        codes.append(
            (np.arange(a, z)[:, None] * n + np.asarray(ids, dtype=np.int64)[None, :]).ravel()
        )
    return starts, np.unique(np.concatenate(codes))


class PinList:
    """One host's remote list (:func:`publication`) seen through the strategy's combined pieces
    (``piece[j]``: this host's piece during combined piece j)."""

    def __init__(self, codes: np.ndarray, n: int, piece: np.ndarray) -> None:
        self.codes, self.n, self.piece = codes, n, piece
        self.pieces = int(piece.max()) + 1

    def accepts(self, ch, s: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Whether the list of combined piece j holds an identity of the chain in segment s,
        evaluated once per distinct (chain row, own piece)."""
        if not len(self.codes):
            return np.zeros(len(s), dtype=bool)
        key, inv = np.unique(ch.spread[s] * self.pieces + self.piece[j], return_inverse=True)
        row, own = key // self.pieces, key % self.pieces
        c = own[:, None] * self.n + np.concatenate([ch.rows_leaf[row], ch.rows_ca[row]], axis=1)
        pos = np.minimum(np.searchsorted(self.codes, c), len(self.codes) - 1)
        return (self.codes[pos] == c).any(-1)[inv.ravel()]


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


class ClientEvents:
    """Every event of one client kind for (chain segment s, publication piece j) pairs, with
    the list fresh, evaluated on demand (only the pairs within the window of each day are ever
    needed, so no segments × pieces table is built)."""

    def __init__(self, sim: Simulation, strategy, client, pubs: dict[str, PinList], P: int) -> None:
        self.hosts = []
        for h, pub in pubs.items():
            attacks = [
                (a, sim.table.attack[(a, h, client.name)])
                for a in sim.attack_labels
                if h in targets_of(sim, a)
            ]
            self.hosts.append(
                (sim.table.legit[(h, client.name)], pub, strategy.pins_host(h), attacks)
            )
        self.enforce = strategy.enforce
        self.labels = sim.attack_labels
        self.P = P  # combined pieces
        S = len(self.hosts[0][0].trusted)
        self.off = self._values(np.arange(S), None)

    def _values(self, s: np.ndarray, j: np.ndarray | None) -> dict[str, np.ndarray]:
        """Events for pairs (s, j) (``j`` None: pins not checked)."""

        def accepts(ch, pub: PinList):
            return pub.accepts(ch, s, j)

        lk = np.zeros(len(s), dtype=bool)
        vi = np.zeros(len(s), dtype=bool)
        rej = {a: np.ones(len(s), dtype=bool) for a in self.labels}
        for ch, pub, pinned, attacks in self.hosts:
            trusted = ch.trusted[s]
            checked = pinned and j is not None
            acc = accepts(ch, pub) if checked else np.ones(len(s), dtype=bool)
            lk |= ~trusted | (self.enforce & ~acc)
            vi |= trusted & ~acc
            for a, ach in attacks:
                acc_a = accepts(ach, pub) if checked else np.ones(len(s), dtype=bool)
                rej[a] &= ~ach.trusted[s] | (self.enforce & ~acc_a)
        out = {"lock": lk, "violation": vi}
        return out | {f"protected:{a}": ~lk & rej[a] for a in self.labels}

    def values(self, s: np.ndarray, j: np.ndarray) -> dict[str, np.ndarray]:
        s, j = np.broadcast_arrays(np.asarray(s), np.asarray(j))
        code, inverse = np.unique(s.ravel() * self.P + j.ravel(), return_inverse=True)
        vals = self._values(code // self.P, code % self.P)
        return {k: v[inverse].reshape(s.shape) for k, v in vals.items()}


class EventOn:
    """e(t, f): the event's value on day t with the list fetched on day f (pins checked), for
    arrays of (t, f) pairs — what the Monte Carlo panel evaluates per user."""

    def __init__(
        self,
        events: ClientEvents,
        key: str,
        seg: np.ndarray,
        starts: np.ndarray,
        window: int | None,
    ) -> None:
        self.events, self.key, self.seg, self.starts, self.window = events, key, seg, starts, window

    def piece(self, f: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.starts, f, side="right") - 1

    def g(self, s: np.ndarray, j: np.ndarray) -> np.ndarray:
        """The event in chain segment s with the fresh list of piece j."""
        return self.events.values(s, j)[self.key]

    def __call__(self, t: np.ndarray, f: np.ndarray) -> np.ndarray:
        t, f = np.broadcast_arrays(np.asarray(t), np.asarray(f))
        s = self.seg[t]
        val = self.g(s, self.piece(f))
        if self.window is not None:
            val = np.where(t - f <= self.window, val, self.events.off[self.key][s])
        return val


#: work per chunk of days in :func:`_probs` (elements of its largest arrays): bounds memory
CHUNK = 1 << 17


def _probs(
    cev: ClientEvents,
    ons: dict[str, EventOn],
    kernel: RefreshKernel,
    build_days: np.ndarray,
    expiry: np.ndarray,
    T: int,
) -> dict[str, DynamicView]:
    """P(event) for every event, version and day, as :class:`DynamicView` (module docstring):
    one value per day for versions built more than span + 1 days earlier, one per (version, day)
    for the band of the span + 2 days from each build day on. Computed by chunks of days."""
    on = next(iter(ons.values()))
    W = on.window
    span = kernel.K if W is None else min(kernel.K, W)  # older fetches: 0 or off(t)
    width = min(span + 2, T)
    V = len(build_days)
    t = np.arange(T)
    lo_f = np.maximum(t - span, 0)
    m = int((on.piece(t) - on.piece(lo_f)).max()) + 1
    off = {k: ons[k].events.off[k][on.seg].astype(np.float64) for k in ons}
    old = {k: np.zeros(T) for k in ons}
    band = {k: np.zeros((V, width)) for k in ons}
    step = max(1, CHUNK // (m + 1 + V * width // T))
    for t0 in range(0, T, step):
        _days(
            cev, on, kernel, build_days, expiry, span, width, t0, min(T, t0 + step), off, old, band
        )
    return {k: DynamicView(build_days, expiry, old[k], off[k], band[k]) for k in ons}


def _days(
    cev: ClientEvents,
    on: EventOn,
    kernel: RefreshKernel,
    build_days: np.ndarray,
    expiry: np.ndarray,
    span: int,
    width: int,
    t0: int,
    t1: int,
    off: dict,
    old: dict,
    band: dict,
) -> None:
    """Fill ``old[key][t0:t1]`` and the band entries of days t0 … t1 − 1."""
    T = len(on.seg)
    seg = on.seg
    W = on.window
    t = np.arange(t0, t1)
    lo_f = np.maximum(t - span, 0)
    j_lo, j_t = on.piece(lo_f), on.piece(t)
    m = int((j_t - j_lo).max()) + 1
    J = j_lo[:, None] + np.arange(m)[None, :]  # (days, m) pieces within the window of day t
    valid = j_t[:, None] >= J
    Jc = np.minimum(J, len(on.starts) - 1)
    ends = np.append(on.starts[1:], T) - 1
    mass = np.where(
        valid,
        kernel.mass(
            t[:, None], np.maximum(on.starts[Jc], lo_f[:, None]), np.minimum(ends[Jc], t[:, None])
        ),
        0.0,
    )
    g_window = cev.values(seg[t][:, None], Jc)
    # the band of recent versions, b ≤ tt ≤ b + span + 1 with t0 ≤ tt < t1, pair by pair
    vs = np.flatnonzero((build_days > t0 - width) & (build_days < t1))
    d_lo = np.maximum(0, t0 - build_days[vs])
    n = np.minimum(width, t1 - build_days[vs]) - d_lo
    v = np.repeat(vs, n)
    d = np.repeat(d_lo, n) + np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    b = build_days[v]
    tt = b + d
    checked = tt < expiry[v]
    x = np.clip(b + 1, lo_f[tt - t0], tt + 1)  # first fetch day counted in the window sum
    jx = on.piece(np.minimum(x, T - 1))
    inside = x <= tt
    part_mass = np.where(inside, kernel.mass(tt, x, np.minimum(ends[jx], tt)), 0.0)
    g_band = cev.values(seg[tt], jx)
    bb = np.minimum(b, T - 1)
    g_b = cev.values(seg[tt], on.piece(bb))
    fresh_b = np.ones(len(tt), dtype=bool) if W is None else tt - bb <= W
    rem_b = kernel.rem(tt - b - 1)
    stale = (
        0.0 if W is None else np.where(tt - b - 1 > W, kernel.rem(W) - kernel.rem(tt - b - 1), 0.0)
    )
    col = np.clip(jx - j_lo[tt - t0] + 1, 0, m)
    for key in old:
        off_t = off[key]
        # C[t, i] = Σ over window pieces i.. of day t (suffix sums), C[t, m] = 0
        contrib = g_window[key] * mass
        C = np.concatenate(
            [np.cumsum(contrib[:, ::-1], axis=1)[:, ::-1], np.zeros((len(t), 1))], axis=1
        )
        # Versions built more than span + 1 days before t share one value: every fetch they
        # could use is in the window (summed in C[t, 0]) or counts as off(t).
        old[key][t0:t1] = C[:, 0] + (off_t[t] * kernel.rem(W) if W is not None else 0.0)
        tail = g_band[key] * part_mass + np.where(inside, C[tt - t0, col], 0.0)
        tail = tail + off_t[tt] * stale  # fetches older than max_age count as unchecked
        at_b = np.where(fresh_b, g_b[key], off_t[tt])
        band[key][v, d] = np.where(checked, tail + rem_b * at_b, off_t[tt])


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
    kernel = RefreshKernel(dyn.refresh_days, dyn.fetch_success, T)
    window = dyn.max_age_days if dyn.on_stale == "fail_open" else None
    seg = sim.table.seg_of_day  # (T,) chain segments
    hosts = sim.table.hosts
    pieces = {h: publication(sim, strategy, h) for h in hosts}
    starts = np.unique(np.concatenate([pieces[h][0] for h in hosts]))
    n = sim.table.n_ids + 1
    pubs = {
        h: PinList(codes, n, np.searchsorted(st, starts, side="right") - 1)
        for h, (st, codes) in pieces.items()
    }
    expiry = (
        build_days + strategy.expires_after_days
        if strategy.expires_after_days
        else np.full(V, 10**9)
    )  # pins checked on days t < expiry

    lock, violate, protect, lock_host, events = {}, {}, {}, {}, {}
    for c in sim.clients:
        cev = ClientEvents(sim, strategy, c, pubs, len(starts))
        ev = {k: (EventOn(cev, k, seg, starts, window), off[seg]) for k, off in cev.off.items()}
        events[c.name] = ev
        p = _probs(cev, {k: on for k, (on, _off) in ev.items()}, kernel, build_days, expiry, T)
        lock[c.name] = p["lock"]
        violate[c.name] = p["violation"]
        protect[c.name] = {a: p[f"protected:{a}"] for a in sim.attack_labels}
        lock_host[c.name] = dict.fromkeys(hosts)
    return StrategyTables(
        strategy,
        releases,
        np.arange(T),
        np.arange(T),
        lock,
        violate,
        protect,
        lock_host,
        per_day=True,
        events=events,
    )
