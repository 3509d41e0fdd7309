"""The tables a sweep stores: the manifest schema, results and timeseries parts, run-id sets.

Building a part is pure (plan + rows -> an Arrow table with fixed types, so that one worker, many
workers or a Dask cluster write byte-identical results); :mod:`simlib.batch.store` owns where the
parts go on disk and reads them back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

if TYPE_CHECKING:
    from simlib.batch.spec import SweepPlan

#: Leading columns of every results part, before the parameter columns.
ID_COLUMNS = ("run_id", "point", "replication")

MANIFEST_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("point", pa.int64()),
        ("replication", pa.int64()),
        ("params", pa.string()),
        ("seed_entropy", pa.int64()),
        ("spawn_key", pa.list_(pa.int64())),
        ("status", pa.string()),
        ("error", pa.string()),
        ("started_at", pa.timestamp("us", tz="UTC")),
        ("finished_at", pa.timestamp("us", tz="UTC")),
        ("duration_s", pa.float64()),
        ("hostname", pa.string()),
        ("pid", pa.int64()),
        ("part", pa.string()),
    ]
)

_ARROW_TYPES = {
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "str": pa.string(),
    "json": pa.string(),
}


def run_index(table: pa.Table, replications: int, *, unique: bool = True) -> np.ndarray:
    """Run indices ``point × replications + replication`` of a part's rows (``uint64``)."""
    point = table.column("point").to_numpy().astype(np.uint64)
    rep = table.column("replication").to_numpy().astype(np.uint64)
    runs = point * np.uint64(replications) + rep
    return np.unique(runs) if unique else runs


class RunIdSet:
    """A set of runs held as a sorted ``uint64`` array (8 bytes per run, not ~100).

    Holds run indices (:meth:`SweepStore.done_runs`) or run ids (16 hex digits are exactly 64
    bits; ``in`` accepts them as strings). Resuming a sweep of 10^7 runs holds 80 MB.
    """

    def __init__(self, ids: np.ndarray) -> None:
        self.ids = np.unique(np.asarray(ids, dtype=np.uint64))

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            v = np.uint64(int(item, 16))
        elif (
            isinstance(item, (int, np.integer)) and not isinstance(item, bool) and 0 <= item < 2**64
        ):
            v = np.uint64(item)
        else:
            return False
        i = int(np.searchsorted(self.ids, v))
        return i < len(self.ids) and self.ids[i] == v

    def contains(self, ids: np.ndarray) -> np.ndarray:
        """Vectorised membership of ``uint64`` values."""
        if not len(self.ids):
            return np.zeros(len(ids), dtype=bool)
        i = np.minimum(np.searchsorted(self.ids, ids), len(self.ids) - 1)
        return self.ids[i] == ids


def ids_u64(column: pa.ChunkedArray | pa.Array | list[str]) -> np.ndarray:
    """Hex run ids → ``uint64``."""
    values = column.to_pylist() if hasattr(column, "to_pylist") else column
    return np.fromiter((int(v, 16) for v in values), dtype=np.uint64, count=len(values))


def conform(table: pa.Table) -> pa.Table:
    return table if table.schema == MANIFEST_SCHEMA else table.cast(MANIFEST_SCHEMA)


# ------------------------------------------------------------------------------ building parts


def manifest_row(plan: SweepPlan, meta: Mapping[str, Any], part_id: str) -> dict[str, Any]:
    """One manifest row from a worker's per-run metadata plus the run's identity."""
    point, rep = int(meta["point"]), int(meta["replication"])
    return {
        "run_id": meta["run_id"],
        "point": point,
        "replication": rep,
        "params": plan.params_json(point),
        "seed_entropy": plan.seed,
        "spawn_key": [point, rep] if plan.mode == "monte_carlo" else [point],
        "status": meta.get("status", "done"),
        "error": meta.get("error"),
        "started_at": meta.get("started_at"),
        "finished_at": meta.get("finished_at"),
        "duration_s": meta.get("duration_s"),
        "hostname": meta.get("hostname"),
        "pid": meta.get("pid"),
        "part": part_id,
    }


def manifest_table(plan: SweepPlan, metas: Sequence[Mapping[str, Any]], part_id: str) -> pa.Table:
    return pa.Table.from_pylist(
        [manifest_row(plan, m, part_id) for m in metas], schema=MANIFEST_SCHEMA
    )


def results_table(plan: SweepPlan, rows: pd.DataFrame) -> pa.Table:
    """A results part: ids, one typed column per axis path (from the plan), then the metrics."""
    table = pa.Table.from_pandas(rows, preserve_index=False).replace_schema_metadata(None)
    uniq, inverse = np.unique(rows["point"].to_numpy(), return_inverse=True)
    points = [plan.points[int(i)] for i in uniq]
    for k, axis in enumerate(plan.axes):
        values = [p[axis.path] for p in points]
        if axis.type == "json":
            values = [
                None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                for v in values
            ]
        elif axis.type == "float":
            values = [None if v is None else float(v) for v in values]
        column = pa.array(values, _ARROW_TYPES[axis.type]).take(pa.array(inverse))
        table = table.add_column(len(ID_COLUMNS) + k, axis.path, column)
    return _normalise(table)


def _normalise(table: pa.Table) -> pa.Table:
    """Fixed types where pandas inference varies with the values of one task.

    An all-``None`` date column (no lockout in any run of the task) would be ``null``-typed.
    """
    for k, f in enumerate(table.schema):
        if pa.types.is_null(f.type) and f.name.endswith("_date"):
            table = table.set_column(k, f.name, table.column(k).cast(pa.date32()))
        elif pa.types.is_large_string(f.type):
            table = table.set_column(k, f.name, table.column(k).cast(pa.string()))
    return table


def timeseries_table(frame: pd.DataFrame) -> pa.Table:
    return _normalise(
        pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    )
