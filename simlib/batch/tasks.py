"""Cutting a sweep into tasks: the lazy stream of runs still to do, what every task shares, and
how many runs a task gets (from a timed pilot)."""

from __future__ import annotations

import hashlib
import math
import os
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from simlib.batch.executors import Runner
from simlib.batch.parts import RunIdSet
from simlib.batch.spec import SweepPlan
from simlib.batch.worker import Task, TaskContext, TaskPoint

__all__ = ["RunStream", "choose_batch_size", "part_id", "task_context", "task_runs"]

#: Aim for tasks of about this many seconds when choosing the batch size from the pilot.
TARGET_TASK_SECONDS = 1.0
MAX_BATCH_SIZE = 5_000


class RunStream:
    """Lazily yields the runs still to do, in run order, and cuts them into tasks.

    Run *j* is (point ``j // replications``, replication ``j % replications``). The stream walks
    run indices in windows, skipping those in ``done`` (a sorted uint64 array), so neither the
    runs nor the points of the sweep are ever listed in memory.
    """

    WINDOW = 1 << 16

    def __init__(self, plan: SweepPlan, context: TaskContext, done: RunIdSet) -> None:
        self.plan = plan
        self.context = context
        self.remaining = plan.n_runs - int(np.count_nonzero(done.ids < plan.n_runs))
        self._todo = self._iter(done.ids)
        self._buffer = np.zeros(0, dtype=np.int64)

    def _iter(self, done: np.ndarray) -> Iterator[np.ndarray]:
        n = self.plan.n_runs
        for lo in range(0, n, self.WINDOW):
            hi = min(lo + self.WINDOW, n)
            skip = done[np.searchsorted(done, lo) : np.searchsorted(done, hi)].astype(np.int64)
            todo = np.setdiff1d(np.arange(lo, hi, dtype=np.int64), skip, assume_unique=True)
            if len(todo):
                yield todo

    def take(self, n: int) -> Task | None:
        """The next task of up to ``n`` runs (None when nothing is left)."""
        while len(self._buffer) < n:
            chunk = next(self._todo, None)
            if chunk is None:
                break
            self._buffer = np.concatenate([self._buffer, chunk])
        runs, self._buffer = self._buffer[:n], self._buffer[n:]
        if not len(runs):
            return None
        self.remaining -= len(runs)
        reps = self.plan.replications
        points = runs // reps
        cuts = np.flatnonzero(np.diff(points)) + 1
        groups = []
        for sel in np.split(np.arange(len(runs)), cuts):
            point = int(points[sel[0]])
            r = (runs[sel] - point * reps).tolist()
            contiguous = r == list(range(r[0], r[-1] + 1))
            groups.append(
                TaskPoint(
                    point,
                    self.plan.points[point],
                    range(r[0], r[-1] + 1) if contiguous else tuple(r),
                )
            )
        return Task(self.context, tuple(groups))


def task_context(plan: SweepPlan, runner: Runner) -> TaskContext:
    """The part of every task that is the same for the whole sweep."""
    local = runner.local_processes
    return TaskContext(
        key=plan.spec_hash,
        mode=plan.mode,
        seed=plan.seed,
        server_draws=plan.spec.server_draws,
        store_timeseries=plan.spec.store_timeseries,
        base=plan.base_dict,
        parent_pid=os.getpid() if local else 0,
        pdeathsig=local and threading.current_thread() is threading.main_thread(),
    )


def task_runs(plan: SweepPlan, task: Task) -> list[dict[str, Any]]:
    """Identity of every run of a task (run ids computed here: only for tasks that failed whole)."""
    return [
        {"run_id": rid, "point": tp.point, "replication": r}
        for tp in task.points
        for r, rid in zip(tp.replications, plan.run_ids(tp.point, tp.replications), strict=True)
    ]


def part_id(task: Task) -> str:
    """Name of a task's parts: a hash of the sweep and its runs (deterministic, unique per run set)."""
    h = hashlib.sha256(task.context.key.encode())
    for tp in task.points:
        h.update(f";{tp.point}:{','.join(map(str, tp.replications))}".encode())
    return h.hexdigest()[:16]


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
