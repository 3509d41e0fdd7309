"""Atomic file output: write to a temporary name in the same folder, fsync, then rename.

A reader (or a resumed sweep) therefore sees either the old file or the complete new one, never a
half-written file, even if the process is killed mid-write.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` and move the result to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; results are ordinary files
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """CSV through Arrow's writer: ~10× faster than ``DataFrame.to_csv`` on long daily tables,
    same values (dates as YYYY-MM-DD, booleans as true/false, strings quoted), read back
    unchanged by ``pandas.read_csv``."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = pa.Table.from_pandas(frame, preserve_index=False)
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.date32()))
    pacsv.write_csv(table, str(path), pacsv.WriteOptions(quoting_style="needed"))


def atomic_write_frame(frame: pd.DataFrame, path: str | Path, fmt: str | None = None) -> Path:
    fmt = fmt or Path(path).suffix.lstrip(".")
    if fmt == "csv":
        return atomic_write(path, lambda p: write_csv(frame, p))
    if fmt == "parquet":
        return atomic_write(path, lambda p: frame.to_parquet(p, index=False))
    raise ValueError(f"unknown format '{fmt}' (csv or parquet)")


def write_results(
    out_dir: str | Path, tables: dict[str, pd.DataFrame], formats: tuple[str, ...], scenario_yaml: str
) -> list[Path]:
    """Write result tables (one file per table and format) and the resolved scenario."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [
        atomic_write_frame(frame, out / f"{name}.{fmt}", fmt)
        for name, frame in tables.items()
        for fmt in formats
    ]
    written.append(atomic_write_text(out / "scenario.yaml", scenario_yaml))
    return written


def clean_stale_temps(folder: str | Path) -> int:
    """Remove temporary files left by a killed writer; returns how many were removed."""
    n = 0
    for p in Path(folder).glob(".*.tmp"):
        p.unlink(missing_ok=True)
        n += 1
    return n
