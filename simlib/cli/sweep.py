"""``simlib sweep``: run a sweep file into a results folder, resumably.

::

    simlib sweep data/sweeps/lifetime-vs-update-speed.yaml --out results/sweep1 --workers 2
    simlib sweep ... --out results/sweep1            # after a crash or Ctrl-C: resumes
    simlib sweep ... --scheduler tcp://host:8786     # the same sweep on a Dask cluster
    simlib sweep other.yaml --out results/sweep1 --force   # replaces the sweep stored there

``simlib/cli/main.py`` registers the subcommand with :func:`add_parser`; bad input raises
:class:`~simlib.errors.SimlibError`, which the top-level CLI prints as one line with exit code 2.

Exit codes: 0 all runs finished; 1 some runs failed (rerun to retry) or the sweep could not
continue; 2 bad input (nothing is written); 130 interrupted (rerun to resume).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from simlib.errors import OutputError, SimlibError, escape_controls, one_line

DASK_MISSING = "Dask is not installed: pip install 'simlib[dask]'"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{one_line(text, 40)}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be ≥ 1")
    return value


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``sweep`` on an ``argparse`` subparsers object (sets ``func=main``)."""
    p = subparsers.add_parser(
        "sweep",
        help="run a parameter sweep / Monte Carlo batch into a resumable Parquet folder",
        description=(
            "Run every point × replication of a sweep file and store the results as Parquet "
            "in DIR. Re-running the same command skips finished runs and retries failed ones."
        ),
    )
    p.add_argument(
        "file", type=Path, help="sweep file (YAML), e.g. data/sweeps/lifetime-vs-update-speed.yaml"
    )
    p.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="DIR",
        help="results folder: new, empty, or this sweep's (then it resumes); never a symbolic link",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace the results of a different sweep (another sweep file or simlib version) "
        "stored in DIR, or write into a folder of files simlib did not write (they stay); "
        "a folder of this very sweep is resumed, with or without --force",
    )
    ex = p.add_mutually_exclusive_group()
    ex.add_argument("--workers", type=_positive_int, metavar="N", help="N local worker processes")
    ex.add_argument(
        "--dask-local",
        type=_positive_int,
        metavar="N",
        help="start a local Dask cluster of N workers",
    )
    ex.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. tcp://host:8786")
    p.add_argument(
        "--batch-size", type=_positive_int, metavar="N", help="runs per task (default: ~1 s tasks)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=main)
    return p


@contextlib.contextmanager
def _executor(args: argparse.Namespace) -> Iterator[Any]:
    workers = getattr(args, "workers", None)
    dask_local = getattr(args, "dask_local", None)
    scheduler = getattr(args, "scheduler", None)
    if dask_local or scheduler:
        from distributed import Client, LocalCluster

        if scheduler:
            with Client(scheduler) as client:
                yield client
        else:
            with (
                LocalCluster(
                    n_workers=dask_local,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                ) as cluster,
                Client(cluster) as client,
            ):
                yield client
    elif workers:
        from simlib.batch.guard import guard_parent  # workers exit when this process dies

        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=guard_parent,
            initargs=(os.getpid(), True),
        ) as pool:
            yield pool
    else:
        yield None


def main(args: argparse.Namespace) -> int:
    """Run ``simlib sweep``; returns the exit code (see module docstring)."""
    from simlib._outputs import check_no_links, check_output_folder
    from simlib.batch import store
    from simlib.batch.run import SweepError, run_sweep
    from simlib.batch.spec import load_sweep
    from simlib.batch.store import SweepStore

    out = Path(args.out)
    plan = load_sweep(args.file)
    # Kind checks, and no link among the entries the store opens by name (a planted ``.lock`` or
    # ``results`` link would otherwise send writes outside the folder).
    check_output_folder(out)
    check_no_links(
        out,
        [
            store.SWEEP_JSON,
            store.RESULTS,
            store.MANIFEST,
            store.TIMESERIES,
            store.MANIFEST_FILE,
            store.LOCK_FILE,
        ],
    )
    force = bool(getattr(args, "force", False))
    claim = SweepStore(out).check(plan, force=force)  # before anything is created
    if getattr(args, "dask_local", None) or getattr(args, "scheduler", None):
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise SimlibError(DASK_MISSING) from None
    quiet = bool(getattr(args, "quiet", False))
    if claim:
        try:
            replaced = SweepStore(out).replace(plan)
        except OSError as exc:
            raise OutputError(out, f"cannot write ({exc.strerror or exc})") from None
        if replaced is not None and not quiet:
            print(
                f"replaced the sweep '{escape_controls(replaced)}' stored in "
                f"{escape_controls(str(out))}",
                file=sys.stderr,
            )
    report = None
    try:
        with _executor(args) as executor:
            report = run_sweep(
                plan,
                out,
                executor=executor,
                batch_size=getattr(args, "batch_size", None),
                progress=not quiet,
            )
    except KeyboardInterrupt:
        print(
            f"interrupted: finished runs are stored in {out}; run the same command to resume",
            file=sys.stderr,
        )
        return 130
    except (SweepError, OSError, TimeoutError) as exc:
        print(f"error: {one_line(exc) if str(exc) else type(exc).__name__}", file=sys.stderr)
        return 1
    print(report.summary_line(plan.name))
    print(f"load with: simlib.load_results({escape_controls(repr(str(out)))})")
    return 1 if report.failed else 0
