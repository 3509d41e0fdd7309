"""Cutting a sweep into tasks (simlib.batch.tasks): the lazy run stream skips done runs and keeps
run order, every task shares one context, run ids and part names, and the pilot's batch size."""

from __future__ import annotations

import functools
import math
import os
import threading
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simlib.batch.executors import Runner
from simlib.batch.parts import RunIdSet
from simlib.batch.spec import SweepPlan, load_sweep
from simlib.batch.tasks import (
    MAX_BATCH_SIZE,
    RunStream,
    choose_batch_size,
    part_id,
    task_context,
    task_runs,
)
from simlib.batch.worker import Task, TaskPoint

from . import small_sweep

POINTS, REPS = 5, 3


@functools.cache
def _plan() -> SweepPlan:
    """5 points × 3 replications (15 runs), built once for the module and the property tests."""
    grid = {"hosts[0].validity_days": [47, 90, 120, 200, 397]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_sweep(small_sweep(replications=REPS, axes={"grid": grid}))


class _LocalPool(Runner):
    local_processes = True


def _drain(stream: RunStream, sizes: list[int]) -> list[Task]:
    tasks = []
    for i in range(10 * POINTS * REPS):
        task = stream.take(sizes[i % len(sizes)])
        if task is None:
            return tasks
        tasks.append(task)
    raise AssertionError("the stream never ran dry")


def _runs(task: Task) -> list[int]:
    return [tp.point * REPS + r for tp in task.points for r in tp.replications]


def test_stream_skips_done_runs_and_keeps_run_order() -> None:
    plan = _plan()
    assert plan.n_runs == POINTS * REPS
    stream = RunStream(plan, task_context(plan, Runner()), RunIdSet(np.array([1, 2, 7])))
    assert stream.remaining == 12
    first = stream.take(4)
    assert first is not None and stream.remaining == 8
    # runs 0, 3, 4, 5: point 0 replication 0, then point 1 whole
    assert [(tp.point, tp.replications) for tp in first.points] == [
        (0, range(0, 1)),
        (1, range(0, 3)),
    ]
    assert first.n_runs == 4 and first.points[1].params == {"hosts[0].validity_days": 90}
    second = stream.take(2)
    assert second is not None
    # runs 6, 8: point 2 without replication 1, as a tuple (not a range that would include it)
    assert [(tp.point, tp.replications) for tp in second.points] == [(2, (0, 2))]
    rest = _drain(stream, [100])
    assert [r for t in rest for r in _runs(t)] == list(range(9, 15))
    assert stream.remaining == 0 and stream.take(5) is None


def test_done_ids_past_the_sweep_do_not_count() -> None:
    plan = _plan()
    done = RunIdSet(np.array([0, plan.n_runs, plan.n_runs + 7]))  # from a larger earlier sweep
    stream = RunStream(plan, task_context(plan, Runner()), done)
    assert stream.remaining == plan.n_runs - 1
    assert [r for t in _drain(stream, [4]) for r in _runs(t)] == list(range(1, plan.n_runs))


def test_a_fully_done_sweep_yields_nothing() -> None:
    plan = _plan()
    stream = RunStream(plan, task_context(plan, Runner()), RunIdSet(np.arange(plan.n_runs)))
    assert stream.remaining == 0 and stream.take(10) is None


@settings(max_examples=60, deadline=None)
@given(
    done=st.sets(st.integers(0, POINTS * REPS - 1)),
    sizes=st.lists(st.integers(1, 7), min_size=1, max_size=4),
    window=st.integers(1, 20),
)
def test_stream_property_every_run_to_do_once_in_order(
    done: set[int], sizes: list[int], window: int
) -> None:
    """Whatever the window and task sizes: each run not done exactly once, in run order, tasks
    no larger than asked, replications within a point, and ``remaining`` counts down to 0."""
    plan = _plan()
    stream = RunStream(plan, task_context(plan, Runner()), RunIdSet(np.array(sorted(done))))
    stream.WINDOW = window  # read when the first window is taken
    todo = [j for j in range(plan.n_runs) if j not in done]
    assert stream.remaining == len(todo)
    seen: list[int] = []
    for i in range(plan.n_runs + 1):
        task = stream.take(sizes[i % len(sizes)])
        if task is None:
            break
        assert 1 <= task.n_runs <= sizes[i % len(sizes)]
        assert [tp.point for tp in task.points] == sorted({tp.point for tp in task.points})
        for tp in task.points:
            assert all(0 <= r < REPS for r in tp.replications)
            assert tp.params == plan.points[tp.point]
        seen += _runs(task)
        assert stream.remaining == len(todo) - len(seen)
    assert seen == todo and stream.take(1) is None


def test_task_context_is_the_plan_and_the_guard() -> None:
    plan = _plan()
    ctx = task_context(plan, Runner())
    assert (ctx.key, ctx.mode, ctx.seed) == (plan.spec_hash, plan.mode, plan.seed)
    assert ctx.base == plan.base_dict and ctx.store_timeseries == plan.spec.store_timeseries
    assert (ctx.parent_pid, ctx.pdeathsig) == (0, False)  # nothing local to guard
    local = task_context(plan, _LocalPool())
    assert (local.parent_pid, local.pdeathsig) == (os.getpid(), True)
    # PR_SET_PDEATHSIG follows the thread that started the pool: only the main thread's.
    from_thread = []
    thread = threading.Thread(target=lambda: from_thread.append(task_context(plan, _LocalPool())))
    thread.start()
    thread.join()
    assert (from_thread[0].parent_pid, from_thread[0].pdeathsig) == (os.getpid(), False)


def test_task_runs_are_the_plans_run_ids() -> None:
    plan = _plan()
    ctx = task_context(plan, Runner())
    task = Task(
        ctx, (TaskPoint(1, plan.points[1], range(1, 3)), TaskPoint(2, plan.points[2], (0, 2)))
    )
    rows = task_runs(plan, task)
    expected = [(1, 1), (1, 2), (2, 0), (2, 2)]
    assert [(r["point"], r["replication"]) for r in rows] == expected
    ids = {i: plan.point_runs(i).run_ids for i in (1, 2)}
    assert [r["run_id"] for r in rows] == [ids[p][r] for p, r in expected]
    assert len({r["run_id"] for r in rows}) == 4


def test_part_id_names_the_run_set() -> None:
    plan = _plan()
    ctx = task_context(plan, Runner())

    def task(*points: tuple[int, range | tuple[int, ...]], key: str | None = None) -> Task:
        c = ctx if key is None else type(ctx)(**{**ctx.__dict__, "key": key})
        return Task(c, tuple(TaskPoint(p, plan.points[p], r) for p, r in points))

    a = part_id(task((0, range(0, 3)), (1, range(0, 1))))
    assert len(a) == 16 and int(a, 16) >= 0
    assert a == part_id(task((0, (0, 1, 2)), (1, (0,))))  # the same runs, however written
    others = {
        part_id(task((0, range(0, 3)))),
        part_id(task((0, range(0, 3)), (1, range(0, 2)))),
        part_id(task((0, range(0, 3)), (2, range(0, 1)))),
        part_id(task((0, range(0, 3)), (1, range(0, 1)), key="another sweep")),
    }
    assert a not in others and len(others) == 4


def _meta(point: int, seconds: float, status: str = "done") -> dict:
    return {"status": status, "point": point, "duration_s": seconds}


def test_choose_batch_size() -> None:
    # Monte Carlo: 0.1 s setup + 5 ms per replication -> ~180 replications per ~1 s task
    assert choose_batch_size([_meta(0, 0.105), _meta(0, 0.005)], 100_000, 2) == 180
    # never fewer than 4 tasks per worker
    assert choose_batch_size([_meta(0, 0.105), _meta(0, 0.005)], 200, 2) == 25
    # expected mode: one run per point, 20 ms each
    assert choose_batch_size([_meta(0, 0.02), _meta(1, 0.02)], 10_000, 1) == 50
    assert choose_batch_size([_meta(0, 1.0, "failed")], 10, 1) == 1
    # runs of microseconds: capped, not millions per task
    assert choose_batch_size([_meta(0, 1e-7), _meta(1, 1e-7)], 10**9, 1) == MAX_BATCH_SIZE


@given(
    durations=st.lists(st.floats(0.0, 100.0), min_size=1, max_size=6),
    same_point=st.booleans(),
    remaining=st.integers(1, 10**8),
    workers=st.integers(1, 64),
)
def test_choose_batch_size_property_bounds(
    durations: list[float], same_point: bool, remaining: int, workers: int
) -> None:
    meta = [_meta(0 if same_point else i, d) for i, d in enumerate(durations)]
    size = choose_batch_size(meta, remaining, workers)
    assert 1 <= size <= MAX_BATCH_SIZE
    assert size <= max(1, math.ceil(remaining / (4 * workers)))  # ≥ 4 tasks per worker
    # slower runs never get larger tasks
    slower = [dict(m, duration_s=2 * m["duration_s"]) for m in meta]
    assert choose_batch_size(slower, remaining, workers) <= size


@pytest.mark.parametrize("status", ["failed", "skipped"])
def test_choose_batch_size_ignores_runs_that_did_not_finish(status: str) -> None:
    meta = [_meta(0, 50.0, status), _meta(1, 0.02), _meta(2, 0.02)]
    assert choose_batch_size(meta, 10_000, 1) == choose_batch_size(meta[1:], 10_000, 1) == 50
