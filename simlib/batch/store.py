"""On-disk layout of a sweep folder, the manifest, resume and loading results.

Layout of ``--out DIR``::

    DIR/
      sweep.json                      resolved spec, spec hash, root seed, simlib version, counts
      results/part-<16hex>.parquet    result rows of one finished task (the commit point)
      manifest/part-<16hex>.parquet   per-run status and timings of the same task
      timeseries/part-<16hex>.parquet daily lockout rate per run and strategy (opt-in)
      manifest.parquet                one row per run, consolidated at the end of each invocation
      .lock                           held while a sweep writes here (a second writer is refused)

Every file is written atomically (temporary name in the same folder, fsync, rename), so a killed
sweep leaves complete parts or nothing. A task's timeseries part is written first, then its
results part, then its manifest part: a run is *done* exactly when its id appears in a results
part; a missing manifest part is regenerated (without timings) when the manifest is consolidated,
and a timeseries part without a results part is an orphan and is deleted on the next start.

A folder holding a *different* sweep (another spec hash, or another simlib version) is refused
unless ``force`` (``simlib sweep --force``); :meth:`SweepStore.replace` then removes that sweep's
files (its parts, manifest and temporary files: never a file of another name) under the folder
lock, result parts first and ``sweep.json`` last, so a crash half-way leaves either the old sweep,
resumable, or the new one with nothing done yet. A folder of this very sweep is always resumed.

Results parts hold only deterministic values (ids, parameters, metrics) so that a sweep gives
byte-identical frames on one worker, many workers or a Dask cluster; timings, hosts and pids live
in the manifest.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from simlib._version import __version__
from simlib.batch.parts import (
    ID_COLUMNS,
    MANIFEST_SCHEMA,
    RunIdSet,
    conform,
    manifest_row,
    run_index,
)
from simlib.errors import ScenarioError
from simlib.results.io import atomic_write, atomic_write_text, clean_stale_temps

if TYPE_CHECKING:
    from simlib.batch.spec import SweepPlan

SWEEP_JSON = "sweep.json"
RESULTS = "results"
MANIFEST = "manifest"
TIMESERIES = "timeseries"
MANIFEST_FILE = "manifest.parquet"
LOCK_FILE = ".lock"
FORMAT = 1


class SweepStore:
    """A sweep folder: compatibility check, locking, atomic commits and resume bookkeeping."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.results = self.root / RESULTS
        self.manifest = self.root / MANIFEST
        self.timeseries = self.root / TIMESERIES

    # ------------------------------------------------------------------------ opening
    def check(self, plan: SweepPlan, *, force: bool = False) -> bool:
        """Refuse (``ScenarioError``) a folder that holds another sweep, unless ``force``; creates
        nothing. Returns whether ``force`` was needed, so the folder must be claimed for ``plan``
        with :meth:`replace` first (a different sweep removed, or files simlib did not write
        kept); ``False``: new, empty, or this sweep's, which is resumed."""
        where = str(self.root)
        if not self.root.exists():
            return False
        if not self.root.is_dir():
            raise ScenarioError(where, "", "exists and is not a folder")
        meta_path = self.root / SWEEP_JSON
        if not meta_path.exists():
            layout = [n for n in (RESULTS, MANIFEST, TIMESERIES, MANIFEST_FILE) if self._used(n)]
            if layout:  # a sweep's files without the file that says which sweep: never mixed in
                raise ScenarioError(
                    where,
                    "",
                    f"holds {layout[0]} but no sweep.json, so not a sweep simlib can resume or "
                    "replace: delete it or choose another --out",
                )
            junk = [
                p.name
                for p in self.root.iterdir()
                if not p.name.startswith(".") and p.name not in (RESULTS, MANIFEST, TIMESERIES)
            ]
            if junk and not force:
                raise ScenarioError(
                    where,
                    "",
                    "folder is not empty and holds no sweep.json: add --force to write into it "
                    "(its files stay), or choose another --out",
                )
            return bool(junk)
        meta = read_meta(self.root)
        if meta.get("spec_hash") == plan.spec_hash and meta.get("simlib_version") == __version__:
            return False
        if force:
            return True
        if meta.get("spec_hash") != plan.spec_hash:
            raise ScenarioError(
                where,
                "",
                f"holds a different sweep ('{meta.get('name')}', spec hash {meta.get('spec_hash')}; "
                f"this one is '{plan.name}', {plan.spec_hash}): add --force to replace it, or "
                "choose another --out folder",
            )
        raise ScenarioError(
            where,
            "",
            f"was written by simlib {meta.get('simlib_version')} (this is {__version__}); "
            "results would not be comparable: add --force to replace it, or choose another "
            "--out folder",
        )

    def _used(self, name: str) -> bool:
        """``name`` exists in the folder and is not an empty layout folder (one a sweep killed
        before it wrote ``sweep.json`` leaves behind)."""
        path = self.root / name
        if path.is_symlink() or path.is_file():
            return True
        return path.is_dir() and any(path.iterdir())

    def replace(self, plan: SweepPlan) -> str | None:
        """Claim the folder for ``plan`` after :meth:`check` with ``force`` said it was needed:
        remove the different sweep stored here (if any) and write ``sweep.json``; returns the
        replaced sweep's name.

        Under the folder lock; only the sweep's own files go (``manifest.parquet``, then the
        ``part-*.parquet`` and temporary files of its subfolders, result parts first): a crash
        half-way leaves the old sweep with fewer runs done, and ``sweep.json`` is replaced last.
        """
        with self._locked():
            if not self.check(plan, force=True):  # became this sweep meanwhile: resume it
                return None
            if not (self.root / SWEEP_JSON).exists():  # files simlib did not write: they stay
                self._write_meta(plan)
                return None
            old = read_meta(self.root).get("name")
            (self.root / MANIFEST_FILE).unlink(missing_ok=True)
            for folder in (self.results, self.timeseries, self.manifest):
                if folder.is_dir() and not folder.is_symlink():
                    for p in [*folder.glob("part-*.parquet"), *folder.glob(".*.tmp")]:
                        p.unlink(missing_ok=True)  # a link goes, never its target
            clean_stale_temps(self.root)
            self._write_meta(plan)
        return old if isinstance(old, str) else None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK_FILE, "a+") as lock:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ScenarioError(
                    str(self.root), "", "another sweep is writing to this folder right now"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _write_meta(self, plan: SweepPlan) -> None:
        meta = {"format": FORMAT, **plan.describe()}
        atomic_write_text(
            self.root / SWEEP_JSON,
            json.dumps(meta, indent=2, ensure_ascii=False, default=str) + "\n",
        )

    @contextlib.contextmanager
    def open(self, plan: SweepPlan) -> Iterator[SweepStore]:
        """Create the layout, take the folder lock, write ``sweep.json`` and clean up a crash."""
        self.check(plan)
        for d in (self.root, self.results, self.manifest, self.timeseries):
            d.mkdir(parents=True, exist_ok=True)
        with self._locked():
            for d in (self.root, self.results, self.manifest, self.timeseries):
                clean_stale_temps(d)
            if not (self.root / SWEEP_JSON).exists():
                self._write_meta(plan)
            done_parts = {p.name for p in self.results.glob("part-*.parquet")}
            for p in self.timeseries.glob("part-*.parquet"):
                if p.name not in done_parts:
                    p.unlink(missing_ok=True)  # written before a kill, results never committed
            yield self

    # ------------------------------------------------------------------------- resume
    def result_parts(self) -> list[Path]:
        return sorted(self.results.glob("part-*.parquet"))

    def done_runs(self, replications: int) -> RunIdSet:
        """Indices of the runs present in a results part (a run is done exactly when it is there).

        Run *j* is (point ``j // replications``, replication ``j % replications``); ``sweep.json``
        guarantees that the folder holds this very sweep, so indices identify runs as well as
        run ids do, and they come from two integer columns (8 bytes per run in memory).
        """
        chunks = [
            run_index(read_part(p, ["point", "replication"]), replications)
            for p in self.result_parts()
        ]
        return RunIdSet(np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.uint64))

    # ------------------------------------------------------------------------ writing
    def commit(
        self,
        part_id: str,
        results: pa.Table | None,
        manifest: pa.Table,
        timeseries: pa.Table | None = None,
    ) -> None:
        """Write one finished task: timeseries, then results (the commit point), then manifest."""
        name = f"part-{part_id}.parquet"
        if timeseries is not None and timeseries.num_rows:
            _write_table(timeseries, self.timeseries / name)
        if results is not None and results.num_rows:
            _write_table(results, self.results / name)
        _write_table(manifest, self.manifest / name)

    def consolidate_manifest(self, plan: SweepPlan) -> Path:
        """Rewrite ``manifest.parquet``: one row per finished or failed run.

        A run in a results part is ``done`` (its latest done entry, or a regenerated one without
        timings when the kill landed between the results and the manifest part); any other run
        keeps its latest ``failed`` entry; runs never attempted are not listed. Rows are written
        part by part (parts in run order, rows in run order within a part; a retried run comes
        with its retry), streaming: memory is a few numbers per run, not a table of every run.
        :func:`load_manifest` returns them sorted by point and replication.
        """
        reps = plan.replications
        done = self.done_runs(reps)
        parts = sorted(self.manifest.glob("part-*.parquet"))
        cols: dict[str, list[np.ndarray]] = {"run": [], "fin": [], "part": [], "row": []}
        for k, p in enumerate(parts):
            t = read_part(p, ["point", "replication", "status", "finished_at"])
            runs = run_index(t, reps, unique=False)
            ok = pc.equal(t.column("status"), "done").to_numpy(zero_copy_only=False)
            keep = np.flatnonzero(done.contains(runs) == ok)  # drop superseded failures
            fin = t.column("finished_at").cast(pa.int64()).fill_null(-1).to_numpy()
            cols["run"].append(runs[keep])
            cols["fin"].append(fin[keep])
            cols["part"].append(np.full(len(keep), k, dtype=np.int32))
            cols["row"].append(keep.astype(np.int32))
        dtypes = {"run": np.uint64, "fin": np.int64, "part": np.int32, "row": np.int32}
        c = {k: np.concatenate(v) if v else np.zeros(0, dtype=dtypes[k]) for k, v in cols.items()}
        del cols
        # latest entry per run: sort by (run, finished_at, part, row) and keep the last of each run
        order = np.lexsort((c["row"], c["part"], c["fin"], c["run"]))
        runs_sorted = c["run"][order]
        last = order[np.r_[runs_sorted[1:] != runs_sorted[:-1], True]] if len(order) else order
        del order, runs_sorted
        missing = np.setdiff1d(done.ids, c["run"][last], assume_unique=True)
        # ``last`` is in run order: parts in order of their first run, rows of a part in row order
        part_of, row_of = c["part"][last], c["row"][last]
        del c, last
        uniq, first = np.unique(part_of, return_index=True)
        by_part = np.argsort(part_of, kind="stable")
        bounds = np.searchsorted(part_of[by_part], uniq, side="right")
        rows = dict(zip(uniq.tolist(), np.split(row_of[by_part], bounds[:-1]), strict=True))
        part_order = uniq[np.argsort(first)].tolist()
        del part_of, row_of, by_part

        def write(tmp: Path) -> None:
            with pq.ParquetWriter(tmp, MANIFEST_SCHEMA) as writer:
                for k in part_order:
                    writer.write_table(conform(read_part(parts[k])).take(np.sort(rows[k])))
                if len(missing):
                    writer.write_table(self._regenerated(plan, RunIdSet(missing)))

        return atomic_write(self.root / MANIFEST_FILE, write)

    def _regenerated(self, plan: SweepPlan, missing: RunIdSet) -> pa.Table:
        """Minimal manifest rows (no timings) for done runs whose manifest part was never written."""
        out = []
        seen: set[int] = set()
        for p in self.result_parts():
            t = read_part(p, list(ID_COLUMNS))
            runs = run_index(t, plan.replications, unique=False)
            for j in np.flatnonzero(missing.contains(runs)):
                if int(runs[j]) not in seen:
                    seen.add(int(runs[j]))
                    meta = {
                        "run_id": t.column("run_id")[int(j)].as_py(),
                        "point": t.column("point")[int(j)].as_py(),
                        "replication": t.column("replication")[int(j)].as_py(),
                        "status": "done",
                    }
                    out.append(manifest_row(plan, meta, p.stem.removeprefix("part-")))
        return pa.Table.from_pylist(out, schema=MANIFEST_SCHEMA)


def _write_table(table: pa.Table, path: Path) -> Path:
    return atomic_write(path, lambda p: pq.write_table(table, p))


def read_part(path: Path, columns: list[str] | None = None) -> pa.Table:
    try:
        return pq.read_table(path, columns=columns)
    except (OSError, pa.ArrowException) as exc:
        raise ScenarioError(
            str(path), "", f"unreadable part ({exc}); delete it and rerun"
        ) from None


# ------------------------------------------------------------------------------------ loading


def read_meta(path: str | Path) -> dict[str, Any]:
    """``sweep.json`` of a sweep folder; one-line ``ScenarioError`` if there is none."""
    meta_path = Path(path) / SWEEP_JSON
    try:
        return json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(str(path), "", "not a sweep folder (no sweep.json)") from None
    except (OSError, ValueError) as exc:
        raise ScenarioError(str(meta_path), "", f"cannot read ({exc})") from None
