"""The worker side of a sweep: typed tasks and :func:`run_task`.

A *task* is a few consecutive runs. It carries the sweep's :class:`TaskContext` (the resolved
base scenario and how to run it, a few kB, the same object for every task of a sweep) and, per
point, the point's index, its parameter values and the replications to run. The worker rebuilds
and validates each point's scenario from base + parameters once, computes its run ids, and runs
the replications; a Monte Carlo point's scenario and tables are kept for the next task of the
same point that lands in the same process (the last few points), so tasks of one point do not
rebuild them.

This module imports no Parquet or progress-bar code: spawned worker processes import only what
running a task needs. Workers of a local process pool exit when the sweep's process dies
(:mod:`simlib.batch.guard`). Everything here is plain data or top-level so that process pools (spawn)
and Dask can pickle it.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from simlib.batch.guard import guard_parent
from simlib.batch.identity import BuiltPoint, build_point, point_seed
from simlib.model import Scenario

#: Monte Carlo points (scenario and tables) kept per process between tasks.
POINT_CACHE_SIZE = 4


@dataclass(frozen=True)
class TaskContext:
    """What every task of one sweep shares (sent with each task; a few kB)."""

    key: str  # spec hash: identifies the sweep (cache key in workers)
    mode: str
    seed: int
    server_draws: str | None  # the sweep's override, else each point's own
    store_timeseries: bool
    base: dict[str, Any] = field(repr=False)  # the resolved base scenario
    #: Local process pools: the sweep's pid, so workers exit when it dies (0: no guard).
    parent_pid: int = 0
    #: Also arm ``PR_SET_PDEATHSIG`` (the pool's workers were started by the main thread).
    pdeathsig: bool = False


class TaskPoint(NamedTuple):
    """One point's share of a task."""

    point: int
    params: dict[str, Any]  # {dotted path: value}
    replications: range | tuple[int, ...]


class Task(NamedTuple):
    """Runs to execute together: consecutive replications of one or more consecutive points."""

    context: TaskContext
    points: tuple[TaskPoint, ...]

    @property
    def n_runs(self) -> int:
        return sum(len(p.replications) for p in self.points)


class TaskOutput(NamedTuple):
    """What a worker returns for one task (plain, picklable data)."""

    rows: pd.DataFrame  # result rows of the successful runs (deterministic values only)
    meta: list[dict[str, Any]]  # one dict per run: ids, status, error, timings, host, pid
    timeseries: pd.DataFrame | None  # daily lockout rate per run and strategy, if requested


# =========================================================================================== tasks


@dataclass
class _Point:
    built: BuiltPoint
    mc: Any = None  # MonteCarlo, built on first use


_points: OrderedDict[tuple[str, int, int], _Point] = OrderedDict()
_points_lock = threading.Lock()


def _point(ctx: TaskContext, tp: TaskPoint) -> _Point:
    """A point's scenario (validated once) and, in Monte Carlo mode, its cached tables.

    The cache is per thread (thread-pool executors must not share a point's mutable tables) and
    holds the last :data:`POINT_CACHE_SIZE` points.
    """
    key = (ctx.key, tp.point, threading.get_ident())
    with _points_lock:
        hit = _points.get(key)
        if hit is not None:
            _points.move_to_end(key)
            return hit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        built = build_point(
            ctx.base, tp.params, tp.point, source=f"point {tp.point}", server_draws=ctx.server_draws
        )
    entry = _Point(built)
    if ctx.mode == "monte_carlo" and built.scenario is not None:
        with _points_lock:
            _points[key] = entry
            while len(_points) > POINT_CACHE_SIZE:
                _points.popitem(last=False)
    return entry


def forget(key: str) -> None:
    """Drop this process's cached points of the sweep ``key`` (called when a sweep ends)."""
    with _points_lock:
        for k in [k for k in _points if k[0] == key]:
            del _points[k]


def run_task(task: Task) -> TaskOutput:
    """Run every run of a task; failures are recorded per run and never raised.

    Top-level and import-cheap so process pools (spawn) and Dask workers can call it.
    """
    from simlib.api import simulate
    from simlib.engine.montecarlo import MonteCarlo, child

    ctx = task.context
    if ctx.parent_pid:
        guard_parent(ctx.parent_pid, ctx.pdeathsig)
    keep = ctx.store_timeseries
    host, pid = socket.gethostname(), os.getpid()
    rows: list[dict[str, Any]] = []
    meta: list[dict[str, Any]] = []
    series: list[pd.DataFrame] = []
    for tp in task.points:
        t0, started = time.perf_counter(), now()
        entry = _point(ctx, tp)
        built, scenario = entry.built, entry.built.scenario
        ids = built.run_ids(ctx.mode, tp.replications, tp.point, ctx.seed)
        setup_error = None if built.error is None else one_line_error(built.error)
        if setup_error is None and ctx.mode == "monte_carlo":
            try:
                if entry.mc is None:
                    entry.mc = MonteCarlo(scenario, server_draws=built.server_draws)
                root = point_seed(ctx.seed, tp.point)
            except Exception as exc:  # a bad point fails its runs, not the sweep
                setup_error = one_line_error(exc)
        for r, rid in zip(tp.replications, ids, strict=True):
            run = {"run_id": rid, "point": tp.point, "replication": int(r)}
            error = setup_error
            if error is None:
                try:
                    if ctx.mode == "monte_carlo":
                        out, daily = entry.mc.replicate(child(root, int(r)), keep_series=keep)
                        if keep:
                            series.append(_daily_frame(run, scenario, daily))
                    else:
                        result = simulate(scenario)
                        out = result.summary.to_dict("records")
                        if keep:
                            ts = result.timeseries[["strategy", "date", "lockout_rate"]]
                            series.append(_series_frame(run, ts))
                    rows.extend({**run, **row} for row in out)
                except Exception as exc:
                    error = one_line_error(exc)
            finished = now()
            meta.append(
                {
                    **run,
                    "status": "failed" if error else "done",
                    "error": error,
                    "started_at": started,
                    "finished_at": finished,
                    "duration_s": time.perf_counter() - t0,
                    "hostname": host,
                    "pid": pid,
                }
            )
            t0, started = time.perf_counter(), finished
    frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=["run_id", "point", "replication"])
    ts_frame = pd.concat(series, ignore_index=True) if series else None
    return TaskOutput(frame, meta, ts_frame)


def _series_frame(ids: dict[str, Any], ts: pd.DataFrame) -> pd.DataFrame:
    out = ts.reset_index(drop=True)
    for k, (name, value) in enumerate(ids.items()):
        out.insert(k, name, value)
    return out


def _daily_frame(
    ids: dict[str, Any], scenario: Scenario, daily: dict[str, np.ndarray]
) -> pd.DataFrame:
    dates = pd.date_range(scenario.start, scenario.end, freq="D").date
    return pd.DataFrame(
        {
            **ids,
            "strategy": np.repeat(list(daily), len(dates)),
            "date": np.tile(dates, len(daily)),
            "lockout_rate": np.concatenate(list(daily.values())) if daily else [],
        }
    )


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def one_line_error(exc: BaseException) -> str:
    """``Type: message`` on one line of at most 500 characters (manifest ``error`` column)."""
    text = f"{type(exc).__name__}: {exc}".replace("\r", " ").replace("\n", " ")
    return text if len(text) <= 500 else text[:497] + "..."


def worker_ready(parent_pid: int, pdeathsig: bool) -> int:
    """Submitted once per local worker when a sweep starts: starts the worker, arms its guard.

    Returns the worker's pid.
    """
    guard_parent(parent_pid, pdeathsig)
    return os.getpid()


def simlib_version() -> str:
    from simlib._version import __version__

    return __version__
