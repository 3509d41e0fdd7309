"""Static verdict tables: for one strategy, per (version, segment, client kind), whether users are
locked out, see a pin violation, or are protected against each attack.

Segments are the chain table's periods (no chain changes inside one), refined by the days on
which some version's pins expire. Pins are evaluated once per *distinct* pin set and distinct
chain, then spread to versions × segments.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from simlib.clients.chains import Chains
from simlib.engine.tables import StrategyTables
from simlib.engine.views import VerdictView, builds_in_order, first_applying
from simlib.strategies.strategy import PinningStrategy

if TYPE_CHECKING:
    # a protocol, not simulation.py (which imports this module): imports stay one-way
    from simlib.engine.state import SimulationState as Simulation


def pin_matrices(sim: Simulation, strategy, host, build_days):
    """Distinct pin sets as boolean rows over the id space, and which one each version uses.

    Returns (PL, PC, inverse, column): leaf-level and CA-level pins of each distinct set over the
    pinned identities, for each version the index of its set, and each identity's column. Pins depend on the certificate served on the build
    day (and, with "all intermediates" options, on the day itself), so versions built while
    the same certificate was served share a set and are evaluated once.
    """
    served = sim.calendar.served[host][np.clip(build_days, 0, sim.days - 1)]
    state = served * (sim.days + 1) + (build_days if strategy.pins_by_day else 0)
    _, first, inverse = np.unique(state, return_index=True, return_inverse=True)
    # different certificates often give the same pins (a root, an intermediate): one set each
    sets: dict[tuple[frozenset[int], frozenset[int]], int] = {}
    pins, calendar = strategy.pins, sim.calendar  # plain lists and bound names: a hot loop
    same = np.array(
        [
            sets.setdefault((ps.leaf, ps.ca), len(sets))
            for ps in (pins(calendar, host, day) for day in build_days[first].tolist())
        ],
        dtype=np.int64,
    )
    # columns: only the identities some set pins (plus one never pinned, for all the others)
    used = sorted(set().union(*(leaf | ca for leaf, ca in sets)))
    col = {ident: j for j, ident in enumerate(used)}
    column = np.full(sim.table.n_ids + 1, len(used), dtype=np.int64)
    column[used] = np.arange(len(used))
    PL = np.zeros((len(sets), len(used) + 1), dtype=bool)
    PC = np.zeros((len(sets), len(used) + 1), dtype=bool)
    for M, cells in (
        (PL, [(u, col[i]) for (leaf, _), u in sets.items() for i in leaf]),
        (PC, [(u, col[i]) for (_, ca), u in sets.items() for i in ca]),
    ):
        if cells:
            M[tuple(np.array(cells).T)] = True
    return PL, PC, same[inverse.ravel()], column


def refine(sim: Simulation, strategy: PinningStrategy, build_days: np.ndarray):
    """Segments refined by the days on which some version's pins expire."""
    T = sim.days
    starts = set(sim.table.seg_start.tolist())
    if strategy.expires_after_days:
        starts |= {int(b) + strategy.expires_after_days for b in build_days}
    seg_start = np.array(sorted(s for s in starts if 0 <= s < T))
    seg_of_day = np.searchsorted(seg_start, np.arange(T), side="right") - 1
    return seg_start, seg_of_day


def accept(PL, PC, leaf, ca, matcher: str) -> np.ndarray:
    """(pin sets, chains): does each distinct pin set accept each distinct chain?"""
    if matcher == "any":
        P = PL | PC
        return P[:, leaf].any(-1) | P[:, ca].any(-1)
    has_l = PL.any(1)[:, None]
    has_c = PC.any(1)[:, None]
    return (~has_l | PL[:, leaf].any(-1)) & (~has_c | PC[:, ca].any(-1))


def targets_of(sim: Simulation, attack_label: str) -> list[str]:
    spec = next(a for a in sim.scenario.attacks if a.label == attack_label)
    return [spec.host] if spec.host else sim.table.hosts


class _HostPins:
    """One host's distinct pin sets, which one each version class uses, and whether it pins."""

    def __init__(
        self, PL: np.ndarray, PC: np.ndarray, column: np.ndarray, of_class: np.ndarray
    ) -> None:
        self._n, self._packed = PL.shape[1], False
        self._PL, self._PC, self.column, self.of_class = PL, PC, column, of_class
        self._pinned_sets = (PL.any(axis=1) | PC.any(axis=1))[:, None]  # (sets, 1)
        self.pinned = self._pinned_sets[of_class]  # (J, 1)

    def pack(self) -> None:
        """(sets × pinned ids) grows with renewals²: once the tables are built, keep it packed
        (8 ids a byte) for the per-host views a result builds on demand."""
        if not self._packed:
            self._PL, self._PC = np.packbits(self._PL, axis=1), np.packbits(self._PC, axis=1)
            self._packed = True

    def fails(
        self, chains: Chains, glob: np.ndarray, matcher: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """(J, S) pinned and not accepting the segment's chain; (S,) chain validates."""
        leaf, ca = self.column[chains.rows_leaf], self.column[chains.rows_ca]
        PL, PC = self._PL, self._PC
        if self._packed:
            PL = np.unpackbits(PL, axis=1, count=self._n).view(bool)
            PC = np.unpackbits(PC, axis=1, count=self._n).view(bool)
        fail = self._pinned_sets & ~accept(PL, PC, leaf, ca, matcher)  # (sets, chains): small
        rows = chains.spread[glob]
        return fail[self.of_class][:, rows], chains.rows_trusted[rows]


class _HostViews(Mapping):
    """Per-host lock views, built on first use: only forced-update prompts (the update-check
    host) and diagnostics need them, and keeping one per host would triple the tables."""

    def __init__(self, hosts: list[str], make) -> None:
        self._hosts, self._make, self._done = hosts, make, {}

    def __getitem__(self, host: str) -> VerdictView:
        if host not in self._hosts:
            raise KeyError(host)
        if host not in self._done:
            self._done[host] = self._make(host)
        return self._done[host]

    def __iter__(self):
        return iter(self._hosts)

    def __len__(self) -> int:
        return len(self._hosts)


def _host_lock(pins, sim: Simulation, client, glob, view):
    def make(host: str) -> VerdictView:
        pf, trusted = pins[host].fails(sim.table.legit[(host, client.name)], glob, client.matcher)
        return view(~trusted[None, :] | pf, ~trusted)

    return make


def static_tables(sim: Simulation, strategy: PinningStrategy, releases) -> StrategyTables:
    """Verdicts per (version class, segment) and client kind (see :mod:`simlib.engine.views`)."""
    build_days = np.array([r.build_day for r in releases])
    seg_start, seg_of_day = refine(sim, strategy, build_days)
    glob = sim.table.seg_of_day[seg_start]
    V, S = len(releases), len(seg_start)
    hosts = sim.table.hosts
    per_host = [pin_matrices(sim, strategy, h, build_days) for h in hosts]
    # version classes: identical pin sets on every host
    joint = np.stack([inv for _, _, inv, _ in per_host]).reshape(len(hosts), V)
    E = strategy.expires_after_days
    if E and not builds_in_order(build_days):
        # expiry is not a threshold over versions: one class per version, expiry folded in
        cls, firsts = np.arange(V), None
        of_class = joint
    else:
        _, first_of, cls = np.unique(joint, axis=1, return_index=True, return_inverse=True)
        cls = cls.ravel()
        of_class = joint[:, first_of]
        firsts = first_applying(build_days, seg_start, E)
    pins = {
        h: _HostPins(PL, PC, column, of_class[i])
        for i, (h, (PL, PC, _, column)) in enumerate(zip(hosts, per_host, strict=True))
    }
    if firsts is None:
        checked = seg_start[None, :] < (build_days[:, None] + E)  # (V = classes, S)
        first_chk = np.zeros(S, dtype=np.int64)
    else:
        checked = None
        first_chk = firsts
    first_enf = first_chk if strategy.enforce else np.full(S, V, dtype=np.int64)

    def fold(X: np.ndarray, off: np.ndarray, enforced: bool) -> np.ndarray:
        if checked is None:
            return X
        on = checked & strategy.enforce if enforced else checked
        return np.where(on, X, off[None, :])

    def view(X: np.ndarray, off: np.ndarray, enforced: bool = True) -> VerdictView:
        first = first_enf if enforced else first_chk
        if checked is not None:
            first = np.zeros(S, dtype=np.int64)
        return VerdictView(cls, fold(X, off, enforced), off, first)

    targets = {a: targets_of(sim, a) for a in sim.attack_labels}
    lock, violate, protect, lock_host = {}, {}, {}, {}
    J = len(of_class[0])
    for c in sim.clients:
        untrusted = np.zeros(S, dtype=bool)
        PF = np.zeros((J, S), dtype=bool)
        VI = np.zeros((J, S), dtype=bool)
        rej_on = {a: np.ones((J, S), dtype=bool) for a in sim.attack_labels}
        rej_off = {a: np.ones(S, dtype=bool) for a in sim.attack_labels}
        lock_host[c.name] = _HostViews(hosts, _host_lock(pins, sim, c, glob, view))
        for h in hosts:
            pf, trusted = pins[h].fails(sim.table.legit[(h, c.name)], glob, c.matcher)
            untrusted |= ~trusted
            PF |= pf
            VI |= trusted[None, :] & pf
            for a in sim.attack_labels:
                if h in targets[a]:
                    pfa, a_trusted = pins[h].fails(
                        sim.table.attack[(a, h, c.name)], glob, c.matcher
                    )
                    rej_on[a] &= ~a_trusted[None, :] | pfa
                    rej_off[a] &= ~a_trusted
        X_lock = untrusted[None, :] | PF
        lock[c.name] = view(X_lock, untrusted)
        violate[c.name] = view(VI, np.zeros(S, dtype=bool), enforced=False)
        # attacks that every pinned version rejects alike share one table
        shared: dict[bytes, VerdictView] = {}
        protect[c.name] = {}
        for a in sim.attack_labels:
            key = np.packbits(rej_on[a]).tobytes() + np.packbits(rej_off[a]).tobytes()
            if key not in shared:
                shared[key] = view(~X_lock & rej_on[a], ~untrusted & rej_off[a])
            protect[c.name][a] = shared[key]
    for p in pins.values():
        p.pack()
    return StrategyTables(
        strategy, releases, seg_start, seg_of_day, lock, violate, protect, lock_host
    )
