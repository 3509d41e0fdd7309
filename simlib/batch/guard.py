"""Workers of a local process pool exit when the process that runs the sweep dies.

A killed parent (SIGKILL, OOM killer) cannot shut its pool down, and its workers would compute,
or wait for work, forever: a ``multiprocessing`` queue never reports end-of-file to a worker,
because every worker holds a copy of the queue's write end. :func:`guard_parent` makes a worker
follow its parent: as a pool ``initializer`` (``simlib sweep --workers`` passes it) it is armed
before the worker takes any task; :func:`simlib.batch.worker.run_task` also arms it for pools that
were created without it.

This module imports only the standard library, so arming it costs nothing at worker start.
"""

from __future__ import annotations

import os
import signal
import threading
import time

#: How often the watchdog thread looks at the parent.
WATCHDOG_SECONDS = 0.5

_guarded: int | None = None
_lock = threading.Lock()


def guard_parent(parent_pid: int, pdeathsig: bool = False) -> None:
    """Make this worker process exit when the sweep's process ``parent_pid`` dies.

    A daemon thread checks every :data:`WATCHDOG_SECONDS` that the parent is still there (this
    process was not re-parented, the pid still exists) and ends this process otherwise. With
    ``pdeathsig`` — Linux, and the worker was started by the parent's *main* thread — the kernel
    also sends SIGTERM the moment the parent dies (``prctl(PR_SET_PDEATHSIG)``; the kernel tracks
    the thread that started the worker, hence the condition). If the parent died before this is
    armed, the process exits at once. Idempotent per process.
    """
    global _guarded
    with _lock:
        if _guarded == parent_pid:
            return
        _guarded = parent_pid
    ppid = os.getppid()
    if ppid == parent_pid:  # the usual case: a spawned (or forked) child of the sweep's process
        if pdeathsig:
            _set_pdeathsig()
        if os.getppid() != parent_pid:  # died before the signal was armed
            os._exit(1)
    elif not _alive(parent_pid):  # not our direct parent (a fork server?) and already gone
        os._exit(1)
    threading.Thread(
        target=_watch, args=(parent_pid, ppid), name="simlib-parent-watchdog", daemon=True
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


def _watch(parent_pid: int, ppid: int) -> None:
    while True:
        time.sleep(WATCHDOG_SECONDS)
        if os.getppid() != ppid or not _alive(parent_pid):
            os._exit(1)
