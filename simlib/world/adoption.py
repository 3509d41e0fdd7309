"""Published app-update adoption points and the fitted mixtures (``data/world/adoption-*.csv``).

:func:`curve` returns a dict in the shape of a scenario's ``fleet.adoption`` (a mixture of
exponential update lags plus a never-updating share), ready to drop into a scenario.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simlib.errors import ScenarioError
from simlib.world.data import parse_float, read_csv, weakest, world_dir

__all__ = [
    "AdoptionPoint",
    "CurveInfo",
    "curve",
    "curve_info",
    "curve_names",
    "load_curves",
    "load_points",
    "points",
]

CURVES_FILE = "adoption-curves.csv"
POINTS_FILE = "adoption-points.csv"


@dataclass(frozen=True)
class CurveInfo:
    """A fitted mixture with its provenance."""

    name: str
    components: tuple[tuple[float, float], ...]  # (weight, mean_lag_days)
    never_update_share: float
    fitted_to: str
    source: str
    confidence: str
    note: str = ""

    def as_adoption(self) -> dict[str, Any]:
        return {
            "components": [{"weight": w, "mean_lag_days": m} for w, m in self.components],
            "never_update_share": self.never_update_share,
        }


@dataclass(frozen=True)
class AdoptionPoint:
    """A published point: ``share`` of ``share_of`` (installs or updaters) after ``days``."""

    series: str
    platform: str
    days: float
    share: float
    share_of: str
    source: str
    confidence: str
    note: str = ""


def _unit(value: float, row_error: Any, field: str, *, upper_open: bool = False) -> float:
    if not 0 <= value <= 1 or (upper_open and value >= 1):
        raise row_error(f"{field} {value:g} is not a share in [0, 1{')' if upper_open else ']'}")
    return value


@functools.cache
def _load_curves(path: Path) -> dict[str, CurveInfo]:
    grouped: dict[str, list[Any]] = {}
    for row in read_csv(
        path, ("curve", "component", "weight", "mean_lag_days", "never_update_share")
    ):
        f, w = row.source_file, row.where
        weight = _unit(parse_float(row.text("weight") or "", f, w, "weight"), row.error, "weight")
        lag = parse_float(row.text("mean_lag_days") or "", f, w, "mean_lag_days")
        if lag <= 0:
            raise row.error(f"mean_lag_days {lag:g} must be positive")
        never = _unit(
            parse_float(row.text("never_update_share") or "", f, w, "never_update_share"),
            row.error,
            "never_update_share",
            upper_open=True,
        )
        grouped.setdefault(row.text("curve") or "", []).append((row, weight, lag, never))
    curves: dict[str, CurveInfo] = {}
    for name, items in grouped.items():
        first = items[0][0]
        nevers = {never for *_, never in items}
        if len(nevers) != 1:
            raise first.error(f"curve {name!r}: never_update_share differs between components")
        total = sum(weight for _, weight, _, _ in items)
        if abs(total - 1) > 1e-6:
            raise first.error(f"curve {name!r}: component weights sum to {total:g}, not 1")
        curves[name] = CurveInfo(
            name=name,
            components=tuple((weight, lag) for _, weight, lag, _ in items),
            never_update_share=nevers.pop(),
            fitted_to=first.get("fitted_to", ""),
            source="; ".join(dict.fromkeys(r["source"] for r, *_ in items)),
            confidence=weakest(*(r["confidence"] for r, *_ in items)),
            note=first.get("note", ""),
        )
    return curves


@functools.cache
def _load_points(path: Path) -> tuple[AdoptionPoint, ...]:
    out = []
    for row in read_csv(path, ("series", "platform", "days", "share", "share_of")):
        f, w = row.source_file, row.where
        days = parse_float(row.text("days") or "", f, w, "days")
        if days < 0:
            raise row.error(f"days {days:g} must not be negative")
        share = _unit(parse_float(row.text("share") or "", f, w, "share"), row.error, "share")
        share_of = row.text("share_of") or ""
        if share_of not in ("installs", "updaters"):
            raise row.error(f"share_of {share_of!r} is not installs or updaters")
        out.append(
            AdoptionPoint(
                row.text("series") or "",
                row.text("platform") or "",
                days,
                share,
                share_of,
                row["source"],
                row["confidence"],
                row.get("note", ""),
            )
        )
    return tuple(out)


def load_curves(directory: Path | None = None) -> dict[str, CurveInfo]:
    """Every fitted curve (cached per folder)."""
    return _load_curves(((directory or world_dir()) / CURVES_FILE).resolve())


def load_points(directory: Path | None = None) -> tuple[AdoptionPoint, ...]:
    """Every published point (cached per folder)."""
    return _load_points(((directory or world_dir()) / POINTS_FILE).resolve())


def curve_names() -> tuple[str, ...]:
    return tuple(load_curves())


def curve_info(name: str) -> CurveInfo:
    """A fitted curve with its source and confidence; a clear error for unknown names."""
    curves = load_curves()
    if name not in curves:
        raise ScenarioError(
            CURVES_FILE, "curve", f"unknown adoption curve {name!r}; valid: {', '.join(curves)}"
        )
    return curves[name]


def curve(name: str) -> dict[str, Any]:
    """``{"components": [{"weight", "mean_lag_days"}, ...], "never_update_share": n}``."""
    return curve_info(name).as_adoption()


def points(series: str | None = None) -> tuple[AdoptionPoint, ...]:
    """Published points, optionally of one series, in file order."""
    return tuple(p for p in load_points() if series is None or p.series == series)
