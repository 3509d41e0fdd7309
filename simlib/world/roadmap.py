"""Dated CA events, past and announced (``data/world/ca-roadmap.csv``).

Root and intermediate creation, rotations of the active intermediates, cross-sign and root
expiries, distrusts, trust-store changes and incidents, each with its source and confidence;
the raw material of a risk calendar.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from simlib.world.data import parse_date, read_csv, world_dir

__all__ = ["KINDS", "RoadmapEvent", "events", "load_roadmap"]

FILE = "ca-roadmap.csv"
KINDS = (
    "chain_change",
    "cross_sign",
    "cross_sign_expiry",
    "distrust",
    "incident",
    "intermediate_creation",
    "intermediate_expiry",
    "intermediate_retirement",
    "intermediate_revocation",
    "intermediate_rotation",
    "root_creation",
    "root_expiry",
    "root_migration",
    "root_trust_end",
    "tooling_change",
    "trust_store_change",
)


@dataclass(frozen=True)
class RoadmapEvent:
    date: date
    ca: str | None  # None: not tied to one CA (e.g. a tooling change)
    kind: str
    certificates: tuple[str, ...]  # catalogue certificate names
    detail: str
    source: str
    confidence: str
    note: str = ""


@functools.cache
def _load(path: Path) -> tuple[RoadmapEvent, ...]:
    out = []
    for row in read_csv(path, ("date", "ca", "kind", "certificates", "detail")):
        day = parse_date(row.text("date"), row.source_file, row.where, "date")
        kind = row.text("kind") or ""
        if kind not in KINDS:
            raise row.error(f"kind {kind!r} is not one of {', '.join(KINDS)}")
        names = tuple(n.strip() for n in row.get("certificates", "").split(";") if n.strip())
        out.append(
            RoadmapEvent(
                day,
                row.text("ca", required=False),
                kind,
                names,
                row.text("detail") or "",
                row["source"],
                row["confidence"],
                row.get("note", ""),
            )
        )
    return tuple(sorted(out, key=lambda e: e.date))


def load_roadmap(directory: Path | None = None) -> tuple[RoadmapEvent, ...]:
    """Every event in date order (cached per folder)."""
    return _load(((directory or world_dir()) / FILE).resolve())


def events(
    ca: str | None = None, start: date | None = None, end: date | None = None
) -> tuple[RoadmapEvent, ...]:
    """Events of one CA (or all), from ``start`` to ``end`` inclusive, in date order."""
    return tuple(
        e
        for e in load_roadmap()
        if (ca is None or e.ca == ca)
        and (start is None or e.date >= start)
        and (end is None or e.date <= end)
    )
