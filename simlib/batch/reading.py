"""Reading a sweep folder back: tidy results, daily series and the manifest."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from simlib.batch.parts import ID_COLUMNS, MANIFEST_SCHEMA
from simlib.batch.store import MANIFEST_FILE, RESULTS, TIMESERIES, read_meta, read_part


def _load_parts(folder: Path) -> pa.Table | None:
    parts = sorted(folder.glob("part-*.parquet"))
    if not parts:
        return None
    table = pa.concat_tables([read_part(p) for p in parts], promote_options="default")
    # Stable sort: the rows of one run are contiguous in one part, in scenario strategy order.
    return table.sort_by([("point", "ascending"), ("replication", "ascending")])


def load_results(path: str | Path, aggregate: bool = False) -> pd.DataFrame:
    """The tidy results of a sweep folder: one row per (run, strategy), parameters as columns.

    Columns: ``run_id, point, replication, <one column per axis path>, strategy, <metrics>``,
    sorted by point, replication and strategy (in scenario order), with a fresh RangeIndex.
    Parameter columns keep their types (numbers stay numbers; lists/mappings are JSON strings).
    Only finished runs are included (see ``manifest.parquet`` for failures).

    ``aggregate=True`` returns :func:`simlib.results.montecarlo.aggregate` over replications: mean, sd,
    se, p5, p50, p95 per point × strategy × metric, with the parameter columns kept.
    """
    meta = read_meta(path)
    params = [a["path"] for a in meta.get("axes", [])]
    table = _load_parts(Path(path) / RESULTS)
    if table is None:
        frame = pd.DataFrame(
            {c: pd.Series(dtype="object") for c in [*ID_COLUMNS, *params, "strategy"]}
        )
    else:
        frame = table.to_pandas()
    if aggregate:
        from simlib.results.montecarlo import aggregate as _aggregate

        return _aggregate(frame.drop(columns=["run_id"]), by=["point", *params])
    return frame


def load_timeseries(path: str | Path) -> pd.DataFrame:
    """Daily lockout rates of a sweep run with ``store_timeseries: true``.

    Columns ``run_id, point, replication, strategy, date, lockout_rate``; join parameters from
    :func:`load_results` on ``point`` if needed.
    """
    read_meta(path)
    table = _load_parts(Path(path) / TIMESERIES)
    if table is None:
        return pd.DataFrame(
            columns=["run_id", "point", "replication", "strategy", "date", "lockout_rate"]
        )
    return table.to_pandas()


def load_manifest(path: str | Path) -> pd.DataFrame:
    """``manifest.parquet`` of a sweep folder (status, error, timings, host, pid per run)."""
    read_meta(path)
    f = Path(path) / MANIFEST_FILE
    if not f.exists():
        return MANIFEST_SCHEMA.empty_table().to_pandas()
    table = pq.read_table(f).sort_by([("point", "ascending"), ("replication", "ascending")])
    return table.to_pandas()
