"""The worker side of a sweep: typed tasks, :func:`run_task`, and the parent-death guard.

A *task* is a few consecutive runs. It carries the sweep's :class:`TaskContext` (the resolved
base scenario and how to run it, a few kB, the same object for every task of a sweep) and, per
point, the point's index, its parameter values and the replications to run. The worker rebuilds
and validates each point's scenario from base + parameters once, computes its run ids, and runs
the replications; a Monte Carlo point's scenario and tables are kept for the next task of the
same point that lands in the same process (the last few points), so tasks of one point do not
rebuild them.

This module imports no Parquet or progress-bar code: spawned worker processes import only what
running a task needs. Everything here is plain data or top-level so that process pools (spawn)
and Dask can pickle it.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import threading
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from simlib.batch.spec import BuiltPoint, build_point, point_seed
from simlib.model import Scenario

#: Monte Carlo points (scenario and tables) kept per process between tasks.
POINT_CACHE_SIZE = 4
#: How often the parent-death watchdog looks at the parent process id.
WATCHDOG_SECONDS = 0.5


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


_points: OrderedDict[tuple[str, int], _Point] = OrderedDict()


def _point(ctx: TaskContext, tp: TaskPoint) -> _Point:
    """A point's scenario (validated once) and, in Monte Carlo mode, its cached tables."""
    key = (ctx.key, tp.point)
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
        _points[key] = entry
        while len(_points) > POINT_CACHE_SIZE:
            _points.popitem(last=False)
    return entry


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


def _daily_frame(ids: dict[str, Any], scenario: Scenario, daily: dict[str, np.ndarray]) -> pd.DataFrame:
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


def simlib_version() -> str:
    from simlib._version import __version__

    return __version__


# ============================================================================ parent-death guard

_guarded: int | None = None
_guard_lock = threading.Lock()


def worker_ready(parent_pid: int, pdeathsig: bool) -> int:
    """Submitted once per local worker when a sweep starts: imports this module, arms the guard.

    Returns the worker's pid.
    """
    guard_parent(parent_pid, pdeathsig)
    return os.getpid()


def guard_parent(parent_pid: int, pdeathsig: bool = False) -> None:
    """Make this worker process exit when the sweep's process ``parent_pid`` dies.

    A killed parent cannot shut its pool down, and its workers would otherwise compute (or wait)
    forever. A daemon thread checks every :data:`WATCHDOG_SECONDS` that the sweep's process and
    this worker's own parent (the same process, or a fork server) are still there, and ends this
    process otherwise. With ``pdeathsig`` (Linux, worker started by the parent's main thread) the
    kernel also sends SIGTERM the moment the parent dies (``prctl(PR_SET_PDEATHSIG)``; it tracks
    the thread that started the worker, hence the condition). Idempotent per process.
    """
    global _guarded
    with _guard_lock:
        if _guarded == parent_pid:
            return
        _guarded = parent_pid
    ppid = os.getppid()
    if pdeathsig and ppid == parent_pid:
        _set_pdeathsig()
    if not _alive(parent_pid) or os.getppid() != ppid:  # died before the guard was armed
        os._exit(1)
    threading.Thread(
        target=_watchdog, args=(parent_pid, ppid), name="simlib-parent-watchdog", daemon=True
    ).start()


def _set_pdeathsig() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG = 1 (Linux only)
    except (OSError, AttributeError):
        pass  # not Linux: the watchdog does the job


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watchdog(parent_pid: int, ppid: int) -> None:
    while True:
        time.sleep(WATCHDOG_SECONDS)
        if os.getppid() != ppid or not _alive(parent_pid):
            os._exit(1)
