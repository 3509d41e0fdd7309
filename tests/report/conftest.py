"""Fixtures of the report tests."""

from __future__ import annotations

import pytest

import simlib
from simlib.report import sweeps
from tests.conftest import make
from tests.report.hostile import hostile_report  # noqa: F401 (one report for the session)
from tests.report.stored_sweep import LAG, LIFETIME, STRATEGIES


@pytest.fixture(scope="session")
def stored(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "mc"
    grid = {LIFETIME: [90, 40, 60], LAG: [20, 5]}
    simlib.sweep(
        make(strategies=STRATEGIES),
        grid,
        replications=4,
        seed=5,
        executor=None,
        out=out,
        progress=False,
    )
    return out


@pytest.fixture(scope="session")
def stats(stored):
    return sweeps.load_stats(stored)
