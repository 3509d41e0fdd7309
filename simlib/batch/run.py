"""Executing a sweep: tasks, workers, executors, progress and the Python entry point.

A *run* is (point *i*, replication *r*). Its randomness comes only from
``SeedSequence(sweep_seed, spawn_key=(i,))`` and, in Monte Carlo mode,
``simlib.engine.montecarlo.child(point_root, r)``, so a run computes the same numbers wherever and
whenever it executes. Runs are grouped into *tasks* of ``batch_size`` runs, in run order; a task
holds the runs of one point, or of several consecutive points when points have fewer runs than a
task (expected mode); a worker builds each point's :class:`~simlib.engine.montecarlo.MonteCarlo`
once and reuses its cached tables across the point's replications and tasks.

The main process streams: it submits tasks from a lazy run stream, keeps at most
``2 × workers`` tasks in flight (:mod:`simlib.batch.executors`) and writes each finished task to
disk (:mod:`simlib.batch.store`) before taking more, so memory does not grow with the number of
runs. Workers run tasks with :func:`simlib.batch.worker.run_task`.
"""

from __future__ import annotations

import math
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simlib.batch.executors import Runner, SweepError, make_runner
from simlib.batch.parts import manifest_table, results_table, timeseries_table
from simlib.batch.reading import load_results
from simlib.batch.spec import SweepPlan, sweep_from_dict
from simlib.batch.store import SweepStore
from simlib.batch.tasks import RunStream, choose_batch_size, part_id, task_context, task_runs
from simlib.batch.worker import Task, TaskOutput, forget, now, one_line_error, run_task
from simlib.errors import ScenarioError, escape_controls, one_line
from simlib.model import Scenario

# Only what this module defines: tasks live in batch.tasks and batch.worker, SweepError in
# batch.executors.
__all__ = ["SweepReport", "run_sweep", "sweep"]

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
        """One line for the terminal: names, paths and errors with control and bidi characters
        shown as escapes (they come from files and from exceptions simlib did not write)."""
        text = (
            f"sweep '{escape_controls(name)}': {self.done} runs done, {self.skipped} skipped, "
            f"{self.failed} failed of {self.total} in {self.wall_s:.1f} s → "
            f"{escape_controls(str(self.out))}"
        )
        if self.failed:
            text += f" (first error: {one_line(self.first_error)}; rerun to retry failed runs)"
        return text


def run_sweep(
    plan: SweepPlan,
    out: str | Path,
    *,
    executor: Any = None,
    batch_size: int | None = None,
    progress: bool = True,
    force: bool = False,
) -> SweepReport:
    """Run the runs of ``plan`` not yet stored in ``out`` and record them there.

    Re-running skips finished runs and retries failed ones. ``executor``: None (in-process), a
    ``concurrent.futures`` executor, or a ``dask.distributed.Client``; it is not shut down here.
    A folder holding a different sweep is refused unless ``force`` (``simlib sweep --force``),
    which replaces that sweep; this sweep's own folder is resumed either way.
    """
    from tqdm.auto import tqdm

    t_start = time.perf_counter()
    store = SweepStore(out)
    if store.check(plan, force=force):
        store.replace(plan)
    runner = make_runner(executor)
    report = SweepReport(Path(out), plan.n_runs)
    with store.open(plan):
        stream = RunStream(plan, task_context(plan, runner), store.done_runs(plan.replications))
        todo = stream.remaining
        report.skipped = plan.n_runs - todo
        size = batch_size or plan.spec.batch_size
        if todo:
            runner.start()
        bar = tqdm(total=todo, disable=not progress, desc=plan.name, unit="run", dynamic_ncols=True)
        try:
            if size is None and todo:
                pilot = stream.take(2)
                if pilot is not None:
                    output = _run_local(pilot)
                    _record(store, plan, pilot, output, report, bar)
                    meta = output.meta if isinstance(output, TaskOutput) else []
                    size = choose_batch_size(meta, todo - 2, runner.workers)
                guided = runner.workers > 1
            else:
                guided = False
            report.batch_size = size or 1
            _loop(runner, stream, report.batch_size, guided, store, plan, report, bar)
        except KeyboardInterrupt:
            report.interrupted = True
            raise
        finally:
            bar.close()
            forget(plan.spec_hash)  # this process's cached Monte Carlo points (pilot, in-process)
            report.wall_s = time.perf_counter() - t_start
            if report.tasks or not (store.root / "manifest.parquet").exists():
                store.consolidate_manifest(plan)
    return report


def _run_local(task: Task) -> TaskOutput | BaseException:
    try:
        return run_task(task)
    except Exception as exc:
        return exc


def _loop(
    runner: Runner,
    stream: RunStream,
    size: int,
    guided: bool,
    store: SweepStore,
    plan: SweepPlan,
    report: SweepReport,
    bar: Any,
) -> None:
    """Keep ``runner.window`` tasks in flight; record each finished one.

    ``guided``: tasks shrink towards the end (to a third of each worker's share of what is
    left) so that the workers finish together instead of one waiting for the other's last task.
    """
    inflight: dict[Any, Task] = {}
    exhausted = False
    try:
        while True:
            while not exhausted and len(inflight) < runner.window:
                n = size
                if guided:
                    n = min(size, max(1, math.ceil(stream.remaining / (3 * runner.workers))))
                task = stream.take(n)
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
    task: Task,
    output: TaskOutput | BaseException,
    report: SweepReport,
    bar: Any,
) -> None:
    """Commit one finished task to disk and update counters and progress."""
    pid = part_id(task)
    if isinstance(output, BaseException):
        err = one_line_error(output)
        at = now()
        metas = [
            {**run, "status": "failed", "error": err, "started_at": None, "finished_at": at}
            for run in task_runs(plan, task)
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
    force: bool = False,
) -> pd.DataFrame:
    """Run a parameter sweep and return its tidy results (see :func:`load_results`).

    ``base``: a Scenario, a scenario file or a scenario mapping. ``grid``: ``{dotted path:
    values}`` (shorthand for ``axes={"grid": grid}``); ``axes`` may also hold ``random`` and
    ``latin_hypercube`` blocks as in a sweep file. ``executor``: None (in this process), any
    ``concurrent.futures`` executor, or a ``dask.distributed.Client``. With ``out`` the results
    persist there and an interrupted call resumes when repeated (a different sweep stored there
    is refused unless ``force``, which replaces it); without, a temporary folder is used and
    removed. Results do not depend on the executor or the batch size.
    """
    all_axes: dict[str, Any] = {k: _plain(v) for k, v in (axes or {}).items()}
    if grid is not None:
        if "grid" in all_axes:
            raise ScenarioError(
                "sweep()", "grid", "give the grid either as `grid` or inside `axes`, not both"
            )
        # a range or generator of values becomes a list; a lone value is named by validation
        listed = {p: list(v) if isinstance(v, (range, Iterator)) else v for p, v in grid.items()}
        all_axes = {"grid": _plain(listed), **all_axes}
    if not all_axes:
        raise ScenarioError("sweep()", "axes", "give `grid` or `axes`")
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
        report = run_sweep(plan, out, executor=executor, progress=progress, force=force)
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
