"""Reading a stored sweep (``simlib sweep FILE --out DIR``) and cutting it into tables.

:func:`load_stats` reads a results folder into a tidy frame (one row per point × strategy ×
metric with ``mean``, ``p5``, ``p50``, ``p95``; parameter columns named by their dotted override
paths); :func:`sweep_axes`, :func:`fixed_values` and :func:`at` pick a slice; :func:`pivot` and
:func:`effect_table` tabulate it. Override paths and metrics have words (:func:`axis_label`,
:func:`metric_label`). The figures drawn from these tables are in
:mod:`simlib.report.sensitivity`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from simlib.errors import ScenarioError
from simlib.model.overrides import parse_path
from simlib.report.plots import readable, text_label

if TYPE_CHECKING:
    from simlib.model import Scenario

__all__ = [
    "AXIS_LABELS",
    "METRIC_LABELS",
    "STAT_COLUMNS",
    "at",
    "axis_label",
    "base_scenario",
    "check_one_row_each",
    "effect_table",
    "fixed_values",
    "is_share",
    "load_stats",
    "metric_label",
    "pivot",
    "strategies_of",
    "sweep_axes",
    "sweep_meta",
    "sweep_order",
    "varying",
]

#: Words for the override paths the bundled sweeps use.
AXIS_LABELS: dict[str, str] = {
    "hosts[0].validity_days": "leaf certificate lifetime (days)",
    "fleet.adoption.components[0].mean_lag_days": "fast adopters' mean update lag (days)",
    "fleet.adoption.components[1].mean_lag_days": "slow adopters' mean update lag (days)",
    "fleet.adoption.never_update_share": "users who never update",
    "fleet.release_every_days": "days between app releases",
    "incident_response.review_days": "fix review delay (days)",
    "incident_response.detect_days": "days to detect a lockout",
    "validity_cap": "validity cap",
}
#: Words for summary metrics.
METRIC_LABELS: dict[str, str] = {
    "mean_lockout_rate": "mean share of users locked out",
    "peak_lockout_rate": "peak share of users locked out",
    "locked_user_days": "locked user-days",
    "users_ever_locked": "users ever locked out",
    "lockout_events": "lockout events",
    "p50_outage_days": "median outage (days)",
    "p95_outage_days": "95th-percentile outage (days)",
    "mean_outage_days": "mean outage (days)",
    "longest_outage_days": "longest outage (days)",
    "fix_releases": "fix releases",
}
#: Columns of an aggregated frame that are statistics, not identifiers.
STAT_COLUMNS = ("replications", "mean", "sd", "se", "p5", "p50", "p95")


# ----------------------------------------------------------------------------- reading
def sweep_meta(path: str | Path) -> dict[str, Any]:
    """``sweep.json`` of a results folder (mode, replications, axes, the resolved base); a
    folder without one is a one-line ``ScenarioError``."""
    from simlib.batch.store import read_meta

    return read_meta(path)


def base_scenario(path: str | Path) -> Scenario:
    """The resolved base scenario a stored sweep varies (from its ``sweep.json``)."""
    from simlib.model import scenario_from_dict

    spec = sweep_meta(path).get("spec")
    base = spec.get("base") if isinstance(spec, dict) else None
    return scenario_from_dict(base, source=str(Path(path) / "sweep.json"))


def sweep_axes(path: str | Path) -> list[str]:
    """The swept override paths of a results folder, in the sweep file's order."""
    return [a["path"] for a in sweep_meta(path).get("axes", [])]


def load_stats(path: str | Path, metric: str | Sequence[str] | None = None) -> pd.DataFrame:
    """The stored sweep at ``path`` aggregated over replications (``simlib.load_results(path,
    aggregate=True)``): one row per point × strategy × metric with ``mean, sd, se, p5, p50, p95``
    (in expected mode all equal the single value), optionally only ``metric`` (one or several)."""
    from simlib.batch.reading import load_results

    stats = load_results(path, aggregate=True)
    if metric is not None:
        wanted = [metric] if isinstance(metric, str) else list(metric)
        stats = stats[stats["metric"].isin(wanted)].reset_index(drop=True)
    return stats


def strategies_of(frame: pd.DataFrame) -> list[str]:
    """Strategy names in the order the results list them (the scenario's order)."""
    return [str(s) for s in pd.unique(frame["strategy"])]


def varying(frame: pd.DataFrame, axes: Iterable[str]) -> list[str]:
    """The ``axes`` that take more than one value in ``frame``."""
    return [a for a in axes if a in frame and frame[a].nunique(dropna=False) > 1]


def _base_value(base: Any, path: str) -> Any:
    node = base
    for part in parse_path(path):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def fixed_values(path: str | Path, frame: pd.DataFrame | None = None) -> dict[str, Any]:
    """Per swept path, the value a one-axis-at-a-time slice holds it at: the base scenario's
    value when the sweep visits it, else the middle of the visited values (in sweep order)."""
    meta = sweep_meta(path)
    base = meta.get("spec", {}).get("base", {})
    out: dict[str, Any] = {}
    for axis in (a["path"] for a in meta.get("axes", [])):
        values = list(pd.unique(frame[axis])) if frame is not None and axis in frame else []
        value = _base_value(base, axis)
        same = [v for v in values if _same(value, v)]
        if values:
            value = same[0] if same else values[len(values) // 2]
        out[axis] = value
    return out


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def at(frame: pd.DataFrame, fixed: Mapping[str, Any], *, keep: Iterable[str] = ()) -> pd.DataFrame:
    """Rows of ``frame`` where every path in ``fixed`` (except those in ``keep``) has its value."""
    keep = set(keep)
    mask = pd.Series(True, index=frame.index)
    for path, value in fixed.items():
        if path in keep or path not in frame:
            continue
        mask &= frame[path] == value
    return frame[mask]


# ----------------------------------------------------------------------------- words
def axis_label(path: str) -> str:
    """An override path as words: ``hosts[0].validity_days`` → "leaf certificate lifetime
    (days)"; unknown paths become their last field in words (``_days`` → "(days)")."""
    if path in AXIS_LABELS:
        return AXIS_LABELS[path]
    if path in ("strategy", "metric"):
        return path
    last = str(parse_path(path)[-1])
    if last.endswith("_days"):
        return text_label(last.removesuffix("_days").replace("_", " ") + " (days)")
    return readable(last)


def metric_label(metric: str) -> str:
    """A summary metric as words."""
    if metric in METRIC_LABELS:
        return METRIC_LABELS[metric]
    if metric.startswith("mean_protected_"):
        return f"users protected against {readable(metric)} (mean over days)"
    if metric.startswith("mean_exposed_"):
        return f"users exposed to {readable(metric.removeprefix('mean_exposed_'))} (mean over days)"
    return readable(metric)


def is_share(metric: str) -> bool:
    """Whether a metric is a share of users (drawn on a percent axis)."""
    return metric.endswith("_rate") or metric.startswith(("mean_protected_", "mean_exposed_"))


# ----------------------------------------------------------------------------- tables
def check_one_row_each(frame: pd.DataFrame, keys: list[str]) -> None:
    """Raise :class:`~simlib.errors.ScenarioError` (a ``ValueError``) unless ``frame`` holds
    one row per value of ``keys`` (naming the columns still to fix with :func:`at`)."""
    dup = frame.duplicated(subset=keys, keep=False)
    if dup.any():
        ids = [c for c in frame.columns if c not in (*STAT_COLUMNS, *keys, "point")]
        still = [c for c in ids if frame.loc[dup, c].nunique(dropna=False) > 1]
        raise ScenarioError(
            "<sweep>",
            "",
            f"several rows per ({', '.join(keys)}): fix {', '.join(still) or 'the other axes'} "
            "first (sweeps.at)",
        )


def sweep_order(frame: pd.DataFrame, column: str) -> list[Any]:
    """Values of ``column`` in the order the sweep visits them (grid order: the file's)."""
    return list(
        pd.unique(frame.sort_values("point")[column] if "point" in frame else frame[column])
    )


def pivot(frame: pd.DataFrame, x: str, y: str, value: str = "mean") -> pd.DataFrame:
    """``value`` with ``y`` down and ``x`` across, both in sweep order. ``frame`` must hold one
    row per (x, y): one strategy and metric, every other axis fixed (see :func:`at`)."""
    check_one_row_each(frame, [x, y])
    table = frame.pivot(index=y, columns=x, values=value)
    return table.reindex(index=sweep_order(frame, y), columns=sweep_order(frame, x))


def effect_table(
    stats: pd.DataFrame,
    axes: Sequence[str],
    fixed: Mapping[str, Any],
    metric: str = "mean_lockout_rate",
) -> pd.DataFrame:
    """One axis at a time, the others at ``fixed``: per (axis, strategy) the mean of ``metric`` at
    the axis' first and last value and the change between them (rows sorted by the size of the
    change, largest first)."""
    rows = []
    sel = stats[stats["metric"] == metric]
    for axis in axes:
        part = at(sel, fixed, keep=[axis])
        order = sweep_order(part, axis)
        if len(order) < 2:
            continue
        for name, g in part.groupby("strategy", sort=False):
            g = g.set_index(axis)["mean"]
            first, last = float(g.loc[order[0]]), float(g.loc[order[-1]])
            rows.append(
                {
                    "factor": axis_label(axis),
                    "strategy": name,
                    "from": order[0],
                    "to": order[-1],
                    "at first value": first,
                    "at last value": last,
                    "change": last - first,
                }
            )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    return table.reindex(table["change"].abs().sort_values(ascending=False).index).reset_index(
        drop=True
    )
