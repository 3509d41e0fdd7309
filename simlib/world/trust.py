"""Which devices trust a root, by platform and date (``data/world/trust-store-coverage.csv``).

A row states the first platform version whose store has the root (``min_version``), a measured
share of devices/traffic/requests that trust it on a date, or both.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from simlib.world.data import parse_date, parse_float, read_csv, world_dir

__all__ = ["Coverage", "coverage", "load_coverage"]

FILE = "trust-store-coverage.csv"
BASES = ("devices", "traffic", "requests")


@dataclass(frozen=True)
class Coverage:
    root: str
    platform: str
    date: date | None
    min_version: str | None
    share: float | None
    basis: str | None
    source: str
    confidence: str
    note: str = ""


@functools.cache
def _load(path: Path) -> tuple[Coverage, ...]:
    out = []
    for row in read_csv(path, ("root", "platform", "date", "min_version", "share", "basis")):
        f, w = row.source_file, row.where
        raw_day, raw_share = row.text("date", required=False), row.text("share", required=False)
        version = row.text("min_version", required=False)
        basis = row.text("basis", required=False)
        if raw_share is None and version is None:
            raise row.error("give a share, a min_version or both")
        share = None
        if raw_share is not None:
            share = parse_float(raw_share, f, w, "share")
            if not 0 <= share <= 1:
                raise row.error(f"share {share:g} is not in [0, 1]")
            if raw_day is None or basis not in BASES:
                raise row.error(f"a share needs a date and a basis ({', '.join(BASES)})")
        day = None if raw_day is None else parse_date(raw_day, f, w, "date")
        out.append(
            Coverage(
                row.text("root") or "",
                row.text("platform") or "",
                day,
                version,
                share,
                basis,
                row["source"],
                row["confidence"],
                row.get("note", ""),
            )
        )
    return tuple(out)


def load_coverage(directory: Path | None = None) -> tuple[Coverage, ...]:
    """Every coverage row (cached per folder)."""
    return _load(((directory or world_dir()) / FILE).resolve())


def coverage(root: str | None = None, platform: str | None = None) -> tuple[Coverage, ...]:
    """Coverage rows, optionally for one root and/or platform, in file order."""
    return tuple(
        c
        for c in load_coverage()
        if (root is None or c.root == root) and (platform is None or c.platform == platform)
    )
