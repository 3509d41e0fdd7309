"""Fixtures of the report tests."""

from __future__ import annotations

import pytest

import simlib
from simlib.report import sweeps
from tests.conftest import make
from tests.report.hostile import (
    BUILD,
    Build,
    hostile_report,  # noqa: F401 (one report for the session)
    uses_hostile_report,
)
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


# The hostile report (tests/report/hostile.py) takes seconds to build: a child process builds it
# while the other tests run, and the tests that read it run last.
def pytest_collection_modifyitems(session, config, items):
    items[:] = [i for i in items if not uses_hostile_report(i)] + [
        i for i in items if uses_hostile_report(i)
    ]


def pytest_collection_finish(session):
    if session.config.option.collectonly or BUILD in session.config.stash:
        return
    if any(uses_hostile_report(i) for i in session.items):
        session.config.stash[BUILD] = Build()


def pytest_sessionfinish(session):
    build = session.config.stash.get(BUILD, None)
    if build is not None:
        build.close()
