"""Executing a sweep: tasks, workers, executors, progress and the Python entry point.

A *run* is (point *i*, replication *r*). Its randomness comes only from
``SeedSequence(sweep_seed, spawn_key=(i,))`` and, in Monte Carlo mode,
``simlib.engine.montecarlo.child(point_root, r)``, so a run computes the same numbers wherever and
whenever it executes. Runs are grouped into *tasks* of ``batch_size`` runs, in run order; a task
holds the runs of one point, or of several consecutive points when points have fewer runs than a
task (expected mode), and the worker builds each point's :class:`~simlib.engine.montecarlo.MonteCarlo`
once and reuses its cached tables across the point's replications.

The main process streams: it submits tasks from a lazy run stream, keeps at most
``2 × workers`` tasks in flight and writes each finished task to disk (:mod:`simlib.batch.store`)
before taking more, so memory does not grow with the number of runs.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import hashlib
import math
import os
import socket
import sys
import tempfile
import time
import warnings
from collections.abc import Container, Iterator, Mapping
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from simlib.batch.spec import PointRuns, SweepPlan, point_seed, sweep_from_dict
from simlib.batch.store import (
    SweepStore,
    load_results,
    manifest_table,
    results_table,
    timeseries_table,
)
from simlib.errors import SimlibError
from simlib.model import Scenario

#: Aim for tasks of about this many seconds when choosing the batch size from the pilot.
TARGET_TASK_SECONDS = 1.0
MAX_BATCH_SIZE = 5_000


class SweepError(SimlibError, RuntimeError):
    """The sweep could not continue (a worker process died, a cluster mismatch, ...)."""


# ===================================================================================== worker


class TaskOutput(NamedTuple):
    """What a worker returns for one task (plain, picklable data)."""

    rows: pd.DataFrame  # result rows of the successful runs (deterministic values only)
    meta: list[dict[str, Any]]  # one dict per run: status, error, timings, host, pid
    timeseries: pd.DataFrame | None  # daily lockout rate per run and strategy, if requested


def run_task(task: Mapping[str, Any]) -> TaskOutput:
    """Run every run of a task; failures are recorded per run and never raised.

    ``task`` is plain data: ``mode``, ``seed``, ``store_timeseries``, ``base`` (the resolved base
    scenario dict) and ``groups``, each one point's ``params`` (``{dotted path: value}``),
    ``server_draws``, ``replications`` and ``run_ids``. The point's scenario is rebuilt here from
    base + params exactly as :meth:`SweepPlan.scenario` builds it (sending the base once per task
    instead of a full scenario per point keeps tasks, and the in-flight window, small).
    Top-level and import-cheap so process pools (spawn) and Dask workers can call it.
    """
    from simlib.api import simulate
    from simlib.batch.spec import apply_point
    from simlib.engine.montecarlo import MonteCarlo, child
    from simlib.model import scenario_from_dict

    mode, seed, keep = task["mode"], int(task["seed"]), bool(task["store_timeseries"])
    host, pid = socket.gethostname(), os.getpid()
    rows: list[dict[str, Any]] = []
    meta: list[dict[str, Any]] = []
    series: list[pd.DataFrame] = []
    for group in task["groups"]:
        point = int(group["point"])
        t0, started = time.perf_counter(), _now()
        setup_error = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                data = apply_point(task["base"], group["params"])
                scenario = scenario_from_dict(data, source=f"point {point}")
            mc = MonteCarlo(scenario, server_draws=group["server_draws"]) if mode == "monte_carlo" else None
            root = point_seed(seed, point)
        except Exception as exc:  # a bad point fails its runs, not the sweep
            setup_error = _one_line(exc)
        for r, rid in zip(group["replications"], group["run_ids"], strict=True):
            ids = {"run_id": rid, "point": point, "replication": int(r)}
            error = setup_error
            if error is None:
                try:
                    if mc is None:
                        result = simulate(scenario)
                        out = result.summary.to_dict("records")
                        if keep:
                            ts = result.timeseries[["strategy", "date", "lockout_rate"]]
                            series.append(_series_frame(ids, ts))
                    else:
                        out, daily = mc.replicate(child(root, int(r)), keep_series=keep)
                        if keep:
                            series.append(_daily_frame(ids, scenario, daily))
                    rows.extend({**ids, **row} for row in out)
                except Exception as exc:
                    error = _one_line(exc)
            finished = _now()
            meta.append(
                {
                    **ids,
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


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _one_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".replace("\r", " ").replace("\n", " ")
    return text if len(text) <= 500 else text[:497] + "..."


def _simlib_version() -> str:
    from simlib._version import __version__

    return __version__


# =================================================================================== executors


class _Runner:
    """Submits tasks somewhere and waits for them (uniform over executor kinds)."""

    workers: int = 1

    @property
    def window(self) -> int:
        """Tasks kept in flight: enough to keep every worker busy while results are written."""
        return max(1, 2 * self.workers)

    def submit(self, task: dict[str, Any]) -> Any:
        raise NotImplementedError

    def wait(self, handles: set[Any]) -> tuple[set[Any], set[Any]]:
        done, pending = cf.wait(handles, return_when=cf.FIRST_COMPLETED)
        return set(done), set(pending)

    def result(self, handle: Any) -> TaskOutput:
        return handle.result()

    def cancel(self, handles: set[Any]) -> None:
        for h in handles:
            h.cancel()


class _InProcess(_Runner):
    """Runs each task immediately in this process (the default; no pickling, no startup)."""

    workers = 1

    @property
    def window(self) -> int:
        return 1

    def submit(self, task: dict[str, Any]) -> cf.Future:
        fut: cf.Future = cf.Future()
        try:
            fut.set_result(run_task(task))
        except Exception as exc:
            fut.set_exception(exc)
        return fut


class _Futures(_Runner):
    """Any ``concurrent.futures``-shaped executor (``submit(fn, *args) -> Future``)."""

    def __init__(self, executor: Any) -> None:
        self.executor = executor
        self.workers = int(getattr(executor, "_max_workers", None) or os.cpu_count() or 1)

    def submit(self, task: dict[str, Any]) -> cf.Future:
        return self.executor.submit(run_task, task)


class _Dask(_Runner):
    """A ``dask.distributed.Client``: one Dask task per sweep task, ``pure=False``."""

    def __init__(self, client: Any) -> None:
        import distributed

        self.client = client
        self.distributed = distributed
        try:
            versions = set(client.run(_simlib_version).values())
        except Exception as exc:
            raise SweepError(f"Dask workers cannot run simlib ({_one_line(exc)}): install it there") from None
        if versions - {_simlib_version()}:
            raise SweepError(
                f"Dask workers run simlib {', '.join(sorted(versions))}, this is "
                f"{_simlib_version()}: install the same version on the workers"
            )

    @property
    def workers(self) -> int:  # type: ignore[override]
        """Worker threads now (re-read: an adaptive cluster may scale while the sweep runs)."""
        return max(1, sum(self.client.nthreads().values()))

    def submit(self, task: dict[str, Any]) -> Any:
        return self.client.submit(run_task, task, pure=False)

    def wait(self, handles: set[Any]) -> tuple[set[Any], set[Any]]:
        res = self.distributed.wait(list(handles), return_when="FIRST_COMPLETED")
        return set(res.done), set(res.not_done)


def is_dask_client(executor: Any) -> bool:
    """Duck-typed check that does not import distributed unless the caller already did."""
    mod = sys.modules.get("distributed")
    if mod is not None and isinstance(executor, mod.Client):
        return True
    return type(executor).__module__.startswith("distributed") and hasattr(executor, "nthreads")


def make_runner(executor: Any) -> _Runner:
    if executor is None:
        return _InProcess()
    if is_dask_client(executor):
        return _Dask(executor)
    if callable(getattr(executor, "submit", None)):
        return _Futures(executor)
    raise TypeError(
        "executor must be None, a concurrent.futures executor or a dask.distributed.Client"
    )


# ================================================================================= the run loop


@dataclass
class SweepReport:
    """What one invocation did."""

    out: Path
    total: int
    done: int = 0
    skipped: int = 0
    failed: int = 0
    tasks: int = 0
    batch_size: int = 0
    wall_s: float = 0.0
    first_error: str | None = None
    interrupted: bool = False

    def summary_line(self, name: str) -> str:
        text = (
            f"sweep '{name}': {self.done} runs done, {self.skipped} skipped, {self.failed} failed "
            f"of {self.total} in {self.wall_s:.1f} s → {self.out}"
        )
        if self.failed:
            text += f" (first error: {self.first_error}; rerun to retry failed runs)"
        return text


class _RunStream:
    """Lazily yields the runs still to do, in run order, and cuts them into tasks."""

    def __init__(self, plan: SweepPlan, done: Container[str]) -> None:
        self.plan = plan
        self._runs = self._iter(done)

    def _iter(self, done: Container[str]) -> Iterator[tuple[PointRuns, int]]:
        for pr in self.plan.iter_point_runs():
            for r, rid in enumerate(pr.run_ids):
                if rid not in done:
                    yield pr, r

    def take(self, n: int) -> dict[str, Any] | None:
        """The next task of up to ``n`` runs (None when nothing is left)."""
        groups: list[dict[str, Any]] = []
        for _ in range(n):
            item = next(self._runs, None)
            if item is None:
                break
            pr, r = item
            if not groups or groups[-1]["point"] != pr.point:
                groups.append(
                    {
                        "point": pr.point,
                        "params": self.plan.points[pr.point],
                        "server_draws": pr.server_draws,
                        "replications": [],
                        "run_ids": [],
                    }
                )
            groups[-1]["replications"].append(r)
            groups[-1]["run_ids"].append(pr.run_ids[r])
        if not groups:
            return None
        return {
            "mode": self.plan.mode,
            "seed": self.plan.seed,
            "store_timeseries": self.plan.spec.store_timeseries,
            "base": self.plan.base_dict,
            "groups": groups,
        }


def task_runs(task: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {"run_id": rid, "point": g["point"], "replication": r}
        for g in task["groups"]
        for r, rid in zip(g["replications"], g["run_ids"], strict=True)
    ]


def part_id(task: Mapping[str, Any]) -> str:
    """Name of a task's parts: a hash of its run ids (deterministic, unique per run set)."""
    ids = "\n".join(rid for g in task["groups"] for rid in g["run_ids"])
    return hashlib.sha256(ids.encode()).hexdigest()[:16]


def choose_batch_size(meta: list[dict[str, Any]], remaining: int, workers: int) -> int:
    """Runs per task from a timed pilot: tasks of ~1 s, setup ≤ 1/3, ≥ 4 tasks per worker."""
    ok = [m for m in meta if m["status"] == "done"]
    if not ok:
        return 1
    d = [float(m["duration_s"]) for m in ok]
    same_point = len(ok) >= 2 and ok[0]["point"] == ok[1]["point"]
    steady = max(d[1] if same_point else sum(d) / len(d), 1e-4)
    setup = max(d[0] - d[1], 0.0) if same_point else 0.0
    size = max(TARGET_TASK_SECONDS - setup, 2 * setup) / steady
    size = min(size, math.ceil(remaining / (4 * workers)), MAX_BATCH_SIZE)
    return max(1, int(size))


def run_sweep(
    plan: SweepPlan,
    out: str | Path,
    *,
    executor: Any = None,
    batch_size: int | None = None,
    progress: bool = True,
) -> SweepReport:
    """Run the runs of ``plan`` not yet stored in ``out`` and record them there.

    Re-running skips finished runs and retries failed ones. ``executor``: None (in-process), a
    ``concurrent.futures`` executor, or a ``dask.distributed.Client``; it is not shut down here.
    """
    from tqdm.auto import tqdm

    t_start = time.perf_counter()
    store = SweepStore(out)
    store.check(plan)
    runner = make_runner(executor)
    report = SweepReport(Path(out), plan.n_runs)
    with store.open(plan):
        done_ids = store.done_run_ids()
        todo = sum(1 for pr in plan.iter_point_runs() for rid in pr.run_ids if rid not in done_ids)
        report.skipped = plan.n_runs - todo
        size = batch_size or plan.spec.batch_size
        stream = _RunStream(plan, done_ids)
        del done_ids  # the stream keeps what it needs; don't hold a second reference
        bar = tqdm(total=todo, disable=not progress, desc=plan.name, unit="run", dynamic_ncols=True)
        try:
            if size is None and todo:
                pilot = stream.take(2)
                if pilot is not None:
                    output = _run_local(pilot)
                    _record(store, plan, pilot, output, report, bar)
                    meta = output.meta if isinstance(output, TaskOutput) else []
                    size = choose_batch_size(meta, todo - 2, runner.workers)
            report.batch_size = size or 1
            _loop(runner, stream, report.batch_size, store, plan, report, bar)
        except KeyboardInterrupt:
            report.interrupted = True
            raise
        finally:
            bar.close()
            report.wall_s = time.perf_counter() - t_start
            if report.tasks or not (store.root / "manifest.parquet").exists():
                store.consolidate_manifest(plan)
    return report


def _run_local(task: dict[str, Any]) -> TaskOutput | BaseException:
    try:
        return run_task(task)
    except Exception as exc:
        return exc


def _loop(
    runner: _Runner,
    stream: _RunStream,
    size: int,
    store: SweepStore,
    plan: SweepPlan,
    report: SweepReport,
    bar: Any,
) -> None:
    inflight: dict[Any, dict[str, Any]] = {}
    exhausted = False
    try:
        while True:
            while not exhausted and len(inflight) < runner.window:
                task = stream.take(size)
                if task is None:
                    exhausted = True
                    break
                inflight[runner.submit(task)] = task
            if not inflight:
                return
            done, _ = runner.wait(set(inflight))
            for handle in done:
                task = inflight.pop(handle)
                try:
                    output: TaskOutput | BaseException = runner.result(handle)
                except BrokenProcessPool as exc:
                    raise SweepError(
                        f"a worker process died ({exc}); finished runs are stored: rerun to resume"
                    ) from None
                except Exception as exc:
                    output = exc
                _record(store, plan, task, output, report, bar)
    except BaseException:
        runner.cancel(set(inflight))
        raise


def _record(
    store: SweepStore,
    plan: SweepPlan,
    task: dict[str, Any],
    output: TaskOutput | BaseException,
    report: SweepReport,
    bar: Any,
) -> None:
    """Commit one finished task to disk and update counters and progress."""
    pid = part_id(task)
    if isinstance(output, BaseException):
        err = _one_line(output)
        now = _now()
        metas = [
            {**run, "status": "failed", "error": err, "started_at": None, "finished_at": now}
            for run in task_runs(task)
        ]
        output = TaskOutput(pd.DataFrame(), metas, None)
    results = results_table(plan, output.rows) if len(output.rows) else None
    series = timeseries_table(output.timeseries) if output.timeseries is not None else None
    store.commit(pid, results, manifest_table(plan, output.meta, pid), series)
    report.tasks += 1
    for m in output.meta:
        if m["status"] == "done":
            report.done += 1
        else:
            report.failed += 1
            report.first_error = report.first_error or m["error"]
    bar.update(len(output.meta))


# ============================================================================ Python entry point


def sweep(
    base: Scenario | str | Path | Mapping[str, Any],
    grid: Mapping[str, Any] | None = None,
    *,
    axes: Mapping[str, Any] | None = None,
    replications: int = 1,
    mode: str | None = None,
    seed: int = 0,
    executor: Any = None,
    out: str | Path | None = None,
    batch_size: int | None = None,
    progress: bool = True,
    server_draws: str | None = None,
    name: str | None = None,
    store_timeseries: bool = False,
) -> pd.DataFrame:
    """Run a parameter sweep and return its tidy results (see :func:`load_results`).

    ``base``: a Scenario, a scenario file or a scenario mapping. ``grid``: ``{dotted path:
    values}`` (shorthand for ``axes={"grid": grid}``); ``axes`` may also hold ``random`` and
    ``latin_hypercube`` blocks as in a sweep file. ``executor``: None (in this process), any
    ``concurrent.futures`` executor, or a ``dask.distributed.Client``. With ``out`` the results
    persist there and an interrupted call resumes when repeated; without, a temporary folder is
    used and removed. Results do not depend on the executor or the batch size.
    """
    all_axes: dict[str, Any] = {k: _plain(v) for k, v in (axes or {}).items()}
    if grid is not None:
        if "grid" in all_axes:
            raise ValueError("give the grid either as `grid` or inside `axes`, not both")
        all_axes = {"grid": {p: list(_plain(v)) for p, v in grid.items()}, **all_axes}
    if not all_axes:
        raise ValueError("give `grid` or `axes`")
    if isinstance(base, Scenario):
        base_data: Any = base.to_dict()
        default_name = base.name
    elif isinstance(base, (str, Path)):
        base_data, default_name = str(Path(base).resolve()), Path(base).stem
    else:
        base_data, default_name = dict(base), str(base.get("name", "sweep"))
    data = {
        "name": name or f"{default_name} sweep",
        "base": base_data,
        "seed": seed,
        "replications": replications,
        "axes": all_axes,
        "store_timeseries": store_timeseries,
    }
    for key, value in (("mode", mode), ("server_draws", server_draws), ("batch_size", batch_size)):
        if value is not None:
            data[key] = value
    plan = sweep_from_dict(data, source="<sweep>", base_dir=Path.cwd())
    if out is not None:
        report = run_sweep(plan, out, executor=executor, progress=progress)
        _warn_failures(report)
        return load_results(out)
    with tempfile.TemporaryDirectory(prefix="simlib-sweep-") as tmp:
        report = run_sweep(plan, Path(tmp) / "sweep", executor=executor, progress=progress)
        _warn_failures(report)
        return load_results(Path(tmp) / "sweep")


def _warn_failures(report: SweepReport) -> None:
    if report.failed:
        warnings.warn(
            f"{report.failed} of {report.total} runs failed (first: {report.first_error})",
            RuntimeWarning,
            stacklevel=3,
        )


def _plain(value: Any) -> Any:
    """numpy arrays/scalars → lists/Python scalars; mappings recursively."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
