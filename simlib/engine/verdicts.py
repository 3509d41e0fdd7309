"""Static verdict tables: for one strategy, per (version, segment, client kind), whether users are
locked out, see a pin violation, or are protected against each attack.

Segments are the chain table's periods (no chain changes inside one), refined by the days on
which some version's pins expire. Pins are evaluated once per *distinct* pin set and distinct
chain, then spread to versions × segments.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simlib.clients.chains import Chains
from simlib.engine.tables import StrategyTables
from simlib.engine.views import VerdictView, builds_in_order, first_applying
from simlib.strategies.strategy import PinningStrategy

if TYPE_CHECKING:
    from simlib.engine.simulation import Simulation


def pin_matrices(sim: Simulation, strategy, host, build_days):
    """Distinct pin sets as boolean rows over the id space, and which one each version uses.

    Returns (PL, PC, inverse): leaf-level and CA-level pins of each distinct set, and for
    each version the index of its set. Pins depend on the certificate served on the build
    day (and, with "all intermediates" options, on the day itself), so versions built while
    the same certificate was served share a set and are evaluated once.
    """
    served = sim.calendar.served[host][np.clip(build_days, 0, sim.days - 1)]
    state = served * (sim.days + 1) + (build_days if strategy.pins_by_day else 0)
    _, first, inverse = np.unique(state, return_index=True, return_inverse=True)
    # different certificates often give the same pins (a root, an intermediate): one set each
    sets: dict[tuple[frozenset[int], frozenset[int]], int] = {}
    same = np.empty(len(first), dtype=np.int64)
    for u, v in enumerate(first):
        ps = strategy.pins(sim.calendar, host, int(build_days[v]))
        same[u] = sets.setdefault((ps.leaf, ps.ca), len(sets))
    n = sim.table.n_ids + 1
    PL = np.zeros((len(sets), n), dtype=bool)
    PC = np.zeros((len(sets), n), dtype=bool)
    for (leaf, ca), u in sets.items():
        PL[u, list(leaf)] = True
        PC[u, list(ca)] = True
    return PL, PC, same[inverse.ravel()]

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

    def __init__(self, PL: np.ndarray, PC: np.ndarray, of_class: np.ndarray) -> None:
        self.PL, self.PC, self.of_class = PL, PC, of_class
        self.pinned = (PL.any(axis=1) | PC.any(axis=1))[of_class][:, None]  # (J, 1)

    def fails(self, chains: Chains, glob: np.ndarray, matcher: str) -> tuple[np.ndarray, np.ndarray]:
        """(J, S) pinned and not accepting the segment's chain; (S,) chain validates."""
        acc = accept(self.PL, self.PC, chains.rows_leaf, chains.rows_ca, matcher)
        rows = chains.spread[glob]
        return self.pinned & ~acc[self.of_class][:, rows], chains.rows_trusted[rows]


def static_tables(sim: Simulation, strategy: PinningStrategy, releases) -> StrategyTables:
    """Verdicts per (version class, segment) and client kind (see :mod:`simlib.engine.views`)."""
    build_days = np.array([r.build_day for r in releases])
    seg_start, seg_of_day = refine(sim, strategy, build_days)
    glob = sim.table.seg_of_day[seg_start]
    V, S = len(releases), len(seg_start)
    hosts = sim.table.hosts
    per_host = [pin_matrices(sim, strategy, h, build_days) for h in hosts]
    # version classes: identical pin sets on every host
    joint = np.stack([inv for _, _, inv in per_host]).reshape(len(hosts), V)
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
    pins = {h: _HostPins(PL, PC, of_class[i]) for i, (h, (PL, PC, _)) in enumerate(zip(hosts, per_host, strict=True))}
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
        lock_host[c.name] = {}
        for h in hosts:
            pf, trusted = pins[h].fails(sim.table.legit[(h, c.name)], glob, c.matcher)
            untrusted |= ~trusted
            PF |= pf
            VI |= trusted[None, :] & pf
            lock_host[c.name][h] = view(~trusted[None, :] | pf, ~trusted)
            for a in sim.attack_labels:
                if h in targets[a]:
                    pfa, a_trusted = pins[h].fails(sim.table.attack[(a, h, c.name)], glob, c.matcher)
                    rej_on[a] &= ~a_trusted[None, :] | pfa
                    rej_off[a] &= ~a_trusted
        X_lock = untrusted[None, :] | PF
        lock[c.name] = view(X_lock, untrusted)
        violate[c.name] = view(VI, np.zeros(S, dtype=bool), enforced=False)
        protect[c.name] = {
            a: view(~X_lock & rej_on[a], ~untrusted & rej_off[a]) for a in sim.attack_labels
        }
    return StrategyTables(strategy, releases, seg_start, seg_of_day, lock, violate, protect, lock_host)
