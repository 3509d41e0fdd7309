"""Batch runs: parameter sweeps and Monte Carlo replications, stored as Parquet and resumable.

>>> import simlib
>>> frame = simlib.sweep("data/scenarios/quickstart.yaml",            # doctest: +SKIP
...                      {"hosts[0].validity_days": [47, 90, 200]},
...                      replications=50, out="results/lifetime")
>>> simlib.load_results("results/lifetime", aggregate=True)          # doctest: +SKIP

The command line equivalent is ``simlib sweep FILE --out DIR [--workers N | --dask-local N |
--scheduler ADDRESS]``; see ``docs/batch.md``.
"""

from __future__ import annotations

from simlib.batch.run import SweepError, SweepReport, run_sweep, run_task, sweep
from simlib.batch.spec import SweepPlan, SweepSpec, load_sweep, run_id
from simlib.batch.store import load_manifest, load_results, load_timeseries

__all__ = [
    "SweepError",
    "SweepPlan",
    "SweepReport",
    "SweepSpec",
    "load_manifest",
    "load_results",
    "load_sweep",
    "load_timeseries",
    "run_id",
    "run_sweep",
    "run_task",
    "sweep",
]
