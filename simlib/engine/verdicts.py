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
    needs_day = strategy.intermediates == "all" or any(
        b.startswith("intermediates:") for b in strategy.backup
    )
    state = served * (sim.days + 1) + (build_days if needs_day else 0)
    _, first, inverse = np.unique(state, return_index=True, return_inverse=True)
    n = sim.table.n_ids + 1
    PL = np.zeros((len(first), n), dtype=bool)
    PC = np.zeros((len(first), n), dtype=bool)
    for u, v in enumerate(first):
        ps = strategy.pins(sim.calendar, host, int(build_days[v]))
        PL[u, list(ps.leaf)] = True
        PC[u, list(ps.ca)] = True
    return PL, PC, inverse

def refine(sim: Simulation, strategy: PinningStrategy, build_days: np.ndarray):
    """Segments refined by the days on which some version's pins expire."""
    T = sim.days
    starts = set(sim.table.seg_start.tolist())
    if strategy.expires_after_days:
        starts |= {int(b) + strategy.expires_after_days for b in build_days}
    seg_start = np.array(sorted(s for s in starts if 0 <= s < T))
    seg_of_day = np.searchsorted(seg_start, np.arange(T), side="right") - 1
    return seg_start, seg_of_day

def enforcement(sim: Simulation, strategy, build_days, seg_start):
    """(V, S) pins checked (not expired) and enforced (checked and enforce=True)."""
    V, S = len(build_days), len(seg_start)
    checked = np.ones((V, S), dtype=bool)
    if strategy.expires_after_days:
        checked = seg_start[None, :] < (build_days[:, None] + strategy.expires_after_days)
    return checked, checked & strategy.enforce

def accept(PL, PC, leaf, ca, matcher: str) -> np.ndarray:
    """(V, S): does each version's pin set accept each segment's chain?"""
    if matcher == "any":
        P = PL | PC
        return P[:, leaf].any(-1) | P[:, ca].any(-1)
    has_l = PL.any(1)[:, None]
    has_c = PC.any(1)[:, None]
    return (~has_l | PL[:, leaf].any(-1)) & (~has_c | PC[:, ca].any(-1))

def accept_unique(sim: Simulation, pins, chains: Chains, glob: np.ndarray, matcher: str):
    """``_accept`` evaluated once per distinct pin set and distinct chain, then spread to
    (versions × segments); also returns whether each segment's chain validates."""
    PL, PC, inverse = pins
    acc = accept(PL, PC, chains.rows_leaf, chains.rows_ca, matcher)
    rows = chains.spread[glob]
    return acc[inverse][:, rows], chains.rows_trusted[rows]

def targets_of(sim: Simulation, attack_label: str) -> list[str]:
    spec = next(a for a in sim.scenario.attacks if a.label == attack_label)
    return [spec.host] if spec.host else sim.table.hosts

def static_tables(sim: Simulation, strategy, releases) -> StrategyTables:
    build_days = np.array([r.build_day for r in releases])
    seg_start, seg_of_day = refine(sim, strategy, build_days)
    glob = sim.table.seg_of_day[seg_start]
    checked, enforced = enforcement(sim, strategy, build_days, seg_start)
    V, S = len(releases), len(seg_start)
    lock, violate, protect, lock_host = {}, {}, {}, {}
    pins = {}
    for h in sim.table.hosts:
        PL, PC, inverse = pin_matrices(sim, strategy, h, build_days)
        pinned = (PL.any(axis=1) | PC.any(axis=1))[inverse][:, None]
        pins[h] = ((PL, PC, inverse), pinned)
    targets = {a: targets_of(sim, a) for a in sim.attack_labels}
    for c in sim.clients:
        lk = np.zeros((V, S), dtype=bool)
        vi = np.zeros((V, S), dtype=bool)
        rejects = {a: np.ones((V, S), dtype=bool) for a in sim.attack_labels}
        lock_host[c.name] = {}
        for h in sim.table.hosts:
            upins, pinned = pins[h]
            acc, trusted = accept_unique(sim, upins, sim.table.legit[(h, c.name)], glob, c.matcher)
            trusted = trusted[None, :]
            lk_h = ~trusted | (enforced & pinned & ~acc)
            lock_host[c.name][h] = lk_h
            lk |= lk_h
            vi |= trusted & checked & pinned & ~acc
            for a in sim.attack_labels:
                if h not in targets[a]:
                    continue
                acc_a, a_trusted = accept_unique(sim,
                    upins, sim.table.attack[(a, h, c.name)], glob, c.matcher
                )
                rejects[a] &= ~a_trusted[None, :] | (enforced & pinned & ~acc_a)
        lock[c.name] = lk
        violate[c.name] = vi
        protect[c.name] = {a: ~lk & r for a, r in rejects.items()}
    return StrategyTables(strategy, releases, seg_start, seg_of_day, lock, violate, protect, lock_host)

