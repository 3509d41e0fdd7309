"""Sums over versions (engine/sums.py): every way of taking them against the dense product."""

from __future__ import annotations

import numpy as np
import pytest

from simlib.engine import sums
from simlib.engine.aggregate import fleet_counts, verdict_columns_of
from simlib.engine.montecarlo import MonteCarlo, child
from simlib.engine.sums import SumPlan
from tests.conftest import make

RANDOM = {
    "end": "2026-06-30",
    "fleet.users": 20000,
    "fleet.platforms": {"android": 0.6, "ios": 0.4},
    "fleet.new_installs": {"per_day": 30},
    "cas[0].intermediates": [{"name": "I1"}, {"name": "I2"}, {"name": "I3"}],
    "cas[0].selection": "random",
    "hosts[0].validity_days": 40,
    "hosts[0].renew_before_days": 12,
}
STRATEGIES = [
    {"name": "int", "pin": "intermediate_spki"},
    {"name": "all", "pin": "intermediate_spki", "intermediates": "all"},
    {"name": "root", "pin": "root_spki"},
    {"name": "report", "pin": "intermediate_spki", "enforce": False},
]


def dense(plan: SumPlan, counts) -> tuple[np.ndarray, list[np.ndarray]]:
    """Σ_k m[k, seg(t)] · users_k(t) from the full (V, T) tables."""
    users = counts.table()
    seg = plan.seg_of_day
    cols = np.stack(
        [(np.asarray(v, dtype=float)[:, seg] * users).sum(axis=0) for v in plan.cols], 1
    )
    newly = []
    for lock in plan.flip_views:
        m = np.asarray(lock, dtype=bool)
        flip = np.zeros(users.shape)
        starts = plan.seg_start[1:]
        s = seg[starts]
        flip[:, starts] = m[:, s] & ~m[:, s - 1]
        newly.append((flip * users).sum(axis=0))
    return cols, newly


@pytest.fixture(scope="module")
def sampled():
    """Plans of a random-intermediate scenario and one replication's sampled counts."""
    sc = make(RANDOM, strategies=STRATEGIES, attacks=["rogue_ca"])
    mc = MonteCarlo(sc)
    prep = mc.prepared(child(np.random.SeedSequence(7), 0))
    sim = prep.sim
    cohorts = mc.sample_cohorts(sim, np.random.default_rng(3))
    tables = [prep.tables[st.name] for st in sim.strategies]
    counts = fleet_counts(sim, tables[0], cohorts)
    names = [c.name for c in sim.clients]
    return sim, tables, counts, names


def test_saturating_classes_equal_breakpoints_and_dense_product(sampled, monkeypatch):
    """Sampled (integer) counts: users per class carried day by day give the very numbers of
    the breakpoint sums, and both equal the dense product."""
    sim, tables, counts, names = sampled
    taken = 0
    for tb in tables:
        for name in names:
            plan = SumPlan(sim, tb, verdict_columns_of(sim, tb, [name]), [name])
            A = counts[name]
            got, got_newly = plan.evaluate(A, sim.days)
            if plan.class_ok:
                taken += plan._cls.saturating(plan, A) is not None
            with monkeypatch.context() as m:
                m.setattr(sums._Classes, "saturating", lambda self, plan, counts: None)
                ref_plan = SumPlan(sim, tb, verdict_columns_of(sim, tb, [name]), [name])
                ref, ref_newly = ref_plan.evaluate(A, sim.days)
            np.testing.assert_array_equal(got, ref)
            for g, r in zip(got_newly, ref_newly, strict=True):
                np.testing.assert_array_equal(g, r)
            want, want_newly = dense(plan, A)
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
            for g, w in zip(got_newly, want_newly, strict=True):
                np.testing.assert_allclose(g, w, rtol=0, atol=1e-6)
    assert taken >= 2 * len(names)  # random and "all" intermediates, root: few classes


def test_saturating_classes_refuse_non_integer_counts(sampled):
    """Expected weights are not integers: float sums would depend on their order, so the class
    recurrence over days is not taken (expected mode keeps its own ways)."""
    sim, tables, _, names = sampled
    counts = fleet_counts(sim, tables[0], sim.cohorts_expected())
    tb = tables[0]
    plan = SumPlan(sim, tb, verdict_columns_of(sim, tb, names[:1]), names[:1])
    assert plan.class_ok
    assert sums._Classes(plan).saturating(plan, counts[names[0]]) is None


def test_young_boundaries_in_chunks(sampled, monkeypatch):
    """Boundaries looked up a few at a time give the same sums."""
    sim, tables, counts, names = sampled
    tb = tables[0]
    cols = verdict_columns_of(sim, tb, names[:1])
    whole = SumPlan(sim, tb, cols, names[:1]).evaluate(counts[names[0]], sim.days)
    monkeypatch.setattr(sums, "CHUNK", 50)
    chunked = SumPlan(sim, tb, cols, names[:1]).evaluate(counts[names[0]], sim.days)
    np.testing.assert_array_equal(whole[0], chunked[0])
