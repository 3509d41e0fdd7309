"""Batch runs: parameter sweeps and Monte Carlo replications, stored as Parquet and resumable.

>>> import simlib
>>> frame = simlib.sweep("data/scenarios/quickstart.yaml",            # doctest: +SKIP
...                      {"hosts[0].validity_days": [47, 90, 200]},
...                      replications=50, out="results/lifetime")
>>> simlib.load_results("results/lifetime", aggregate=True)          # doctest: +SKIP

The command line equivalent is ``simlib sweep FILE --out DIR [--workers N | --dask-local N |
--scheduler ADDRESS]``; see ``docs/batch.md``.

Names load on first use, so that worker processes, which import only
:mod:`simlib.batch.worker`, do not load Parquet and executor code.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "SweepError": "executors",
    "SweepReport": "run",
    "run_sweep": "run",
    "run_task": "worker",
    "sweep": "run",
    "SweepPlan": "spec",
    "SweepSpec": "spec",
    "load_sweep": "spec",
    "run_id": "identity",
    "load_manifest": "reading",
    "load_results": "reading",
    "load_timeseries": "reading",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"simlib.batch.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'simlib.batch' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])


__all__ = sorted(_WHERE)
