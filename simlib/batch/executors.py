"""Where tasks run: in this process, a ``concurrent.futures`` executor, or a Dask cluster.

A runner submits :class:`~simlib.batch.worker.Task` objects and waits for them, uniformly over
executor kinds; :func:`make_runner` picks one for the ``executor=`` a sweep was given.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import sys
import threading
from typing import Any

from simlib.batch.worker import (
    Task,
    TaskOutput,
    one_line_error,
    run_task,
    simlib_version,
    worker_ready,
)
from simlib.errors import SweepError


class Runner:
    """Submits tasks somewhere and waits for them (uniform over executor kinds)."""

    workers: int = 1
    #: Workers are processes of this machine that should die with this process.
    local_processes = False

    @property
    def window(self) -> int:
        """Tasks kept in flight: enough to keep every worker busy while results are written."""
        return max(1, 2 * self.workers)

    def start(self) -> None:
        """Start the workers now (they start up while the sweep prepares and runs its pilot)."""

    def submit(self, task: Task) -> Any:
        raise NotImplementedError

    def wait(self, handles: set[Any]) -> tuple[set[Any], set[Any]]:
        done, pending = cf.wait(handles, return_when=cf.FIRST_COMPLETED)
        return set(done), set(pending)

    def result(self, handle: Any) -> TaskOutput:
        return handle.result()

    def cancel(self, handles: set[Any]) -> None:
        for h in handles:
            h.cancel()


class _InProcess(Runner):
    """Runs each task immediately in this process (the default; no pickling, no startup)."""

    workers = 1

    @property
    def window(self) -> int:
        return 1

    def submit(self, task: Task) -> cf.Future:
        fut: cf.Future = cf.Future()
        try:
            fut.set_result(run_task(task))
        except Exception as exc:
            fut.set_exception(exc)
        return fut


class _Futures(Runner):
    """Any ``concurrent.futures``-shaped executor (``submit(fn, *args) -> Future``)."""

    def __init__(self, executor: Any) -> None:
        self.executor = executor
        self.workers = int(getattr(executor, "_max_workers", None) or os.cpu_count() or 1)
        self.local_processes = isinstance(executor, cf.ProcessPoolExecutor)
        self._ready: list[cf.Future] = []

    def start(self) -> None:
        if self.local_processes:  # one call per worker: spawns them all, arms their guard
            main = threading.current_thread() is threading.main_thread()
            self._ready = [
                self.executor.submit(worker_ready, os.getpid(), main) for _ in range(self.workers)
            ]

    def submit(self, task: Task) -> cf.Future:
        return self.executor.submit(run_task, task)


class _Dask(Runner):
    """A ``dask.distributed.Client``: one Dask task per sweep task, ``pure=False``."""

    def __init__(self, client: Any) -> None:
        import distributed

        self.client = client
        self.distributed = distributed
        try:
            versions = set(client.run(simlib_version).values())
        except Exception as exc:
            raise SweepError(
                f"Dask workers cannot run simlib ({one_line_error(exc)}): install it there"
            ) from None
        if versions - {simlib_version()}:
            raise SweepError(
                f"Dask workers run simlib {', '.join(sorted(versions))}, this is "
                f"{simlib_version()}: install the same version on the workers"
            )

    @property
    def workers(self) -> int:  # type: ignore[override]
        """Worker threads now (re-read: an adaptive cluster may scale while the sweep runs)."""
        return max(1, sum(self.client.nthreads().values()))

    def submit(self, task: Task) -> Any:
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


def make_runner(executor: Any) -> Runner:
    if executor is None:
        return _InProcess()
    if is_dask_client(executor):
        return _Dask(executor)
    if callable(getattr(executor, "submit", None)):
        return _Futures(executor)
    raise TypeError(
        "executor must be None, a concurrent.futures executor or a dask.distributed.Client"
    )
