"""Sweep files: a base scenario, axes over scenario fields, and how to run each point.

A sweep file is validated like a scenario, at the boundary: the schema (:class:`SweepSpec`,
unknown keys refused), the base scenario, the distributions, and then *every* point's scenario
(up to :data:`VALIDATE_ALL` points; larger sweeps validate every grid value, the extremes of
every random column and an evenly spaced sample), so that a bad value at point 57 fails before
any run starts. Errors are :class:`simlib.errors.ScenarioError` and render as one line, e.g.::

    lifetime.yaml: axes.grid.hosts[0].validity_days: value 0: must be ≥ 1

:func:`load_sweep` returns a :class:`SweepPlan`: the resolved base scenario, the lazily computed
list of points and the identity of every run (its seed stream and run id), which
:mod:`simlib.batch.run` executes and :mod:`simlib.batch.store` records.

Example file::

    name: lifetime-vs-update-speed
    base: ../scenarios/quickstart.yaml
    seed: 2025
    replications: 20
    axes:
      grid:
        hosts[0].validity_days: [47, 90, 200]
        fleet.adoption.components[1].mean_lag_days: [10, 29, 60]
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from simlib._version import __version__
from simlib.batch import points as pts
from simlib.batch.identity import (
    BuiltPoint,
    apply_point,
    build_point,
    canonical_json,
)
from simlib.batch.pointcheck import axis_where, check_path, validate_point
from simlib.batch.sweepfile import MAX_POINTS, SweepSpec
from simlib.errors import ScenarioError
from simlib.model import (
    Scenario,
    describe_validation_error,
    load_scenario,
    pick_validation_error,
    read_yaml,
    scenario_from_dict,
)

#: Sweeps of up to this many points validate every point's scenario before anything runs.
VALIDATE_ALL = 10_000
#: Larger sweeps validate each grid value, each random column's extremes and this many more points.
VALIDATE_SAMPLE = 1_000


@dataclass(frozen=True)
class Axis:
    """One swept parameter: its dotted path, axis kind and Parquet column type."""

    path: str
    kind: str
    type: str


@dataclass(frozen=True)
class PointRuns:
    """The runs of one point: its resolved scenario and one run id per replication."""

    point: int
    scenario: dict[str, Any]
    server_draws: str
    run_ids: list[str]


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep: resolved base scenario, the lazy list of points and run identities.

    ``points[i]`` maps each axis path to point *i*'s value; points are computed on demand
    (:class:`~simlib.batch.points.PointList`), so a plan of 10^7 points is small. Run *j* is
    (point ``j // replications``, replication ``j % replications``). Nothing here depends on
    how the sweep is executed (``batch_size`` is only a hint), so the same plan gives the same
    runs everywhere.
    """

    spec: SweepSpec
    source: str
    base: Scenario
    axes: tuple[Axis, ...]
    points: pts.PointList
    mode: str
    replications: int
    spec_hash: str
    base_dict: dict[str, Any] = field(repr=False)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def seed(self) -> int:
        return self.spec.seed

    @property
    def n_points(self) -> int:
        return len(self.points)

    @property
    def n_runs(self) -> int:
        return len(self.points) * self.replications

    @property
    def param_paths(self) -> list[str]:
        return [a.path for a in self.axes]

    def scenario(self, i: int) -> Scenario:
        """Point *i*'s validated scenario."""
        return scenario_from_dict(apply_point(self.base_dict, self.points[i]), source=self.source)

    def point_runs(self, i: int) -> PointRuns:
        """Point *i*'s resolved scenario dict, server draws and run ids (replication order)."""
        built = self._build(i)
        if built.error is not None:
            raise built.error
        ids = built.run_ids(self.mode, range(self.replications), i, self.seed)
        return PointRuns(i, built.scenario.to_dict(), built.server_draws, ids)

    def iter_point_runs(self) -> Iterator[PointRuns]:
        """Every point's runs, validating each point (for inspection and tests; O(points))."""
        for i in range(len(self.points)):
            yield self.point_runs(i)

    def run_ids(self, point: int, replications: Iterable[int]) -> list[str]:
        """Run ids of some replications of a point, computed here (workers compute their own)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            built = self._build(point)
        return built.run_ids(self.mode, replications, point, self.seed)

    def _build(self, i: int) -> BuiltPoint:
        return build_point(
            self.base_dict,
            self.points[i],
            i,
            source=self.source,
            server_draws=self.spec.server_draws,
        )

    def params_json(self, i: int) -> str:
        """Point *i*'s parameters as a JSON object (manifest column ``params``)."""
        return json.dumps(self.points[i], ensure_ascii=False, default=str)

    def describe(self) -> dict[str, Any]:
        """The resolved sweep as plain data (written to ``sweep.json``)."""
        return {
            "name": self.spec.name,
            "description": self.spec.description,
            "source": self.source,
            "spec_hash": self.spec_hash,
            "seed": self.seed,
            "mode": self.mode,
            "replications": self.replications,
            "server_draws": self.spec.server_draws,
            "store_timeseries": self.spec.store_timeseries,
            "points": self.n_points,
            "runs": self.n_runs,
            "axes": [{"path": a.path, "kind": a.kind, "type": a.type} for a in self.axes],
            "spec": _identity(self.spec, self.base_dict, self._axis_order()),
            "simlib_version": __version__,
        }

    def _axis_order(self) -> list[str]:
        return list(dict.fromkeys(a.kind for a in self.axes))


# --------------------------------------------------------------------------------- loading


def load_sweep(
    source: str | Path | Mapping[str, Any], *, base_dir: str | Path | None = None
) -> SweepPlan:
    """Read and validate a sweep file (or mapping) and every point's scenario.

    Raises :class:`ScenarioError` (one line, naming file and field) on any problem.
    """
    if isinstance(source, Mapping):
        return sweep_from_dict(source, source="<sweep>", base_dir=base_dir or Path.cwd())
    path = Path(source)
    return sweep_from_dict(read_yaml(path, "sweep file"), source=str(path), base_dir=path.parent)


def sweep_from_dict(
    data: Any, *, source: str = "<sweep>", base_dir: str | Path | None = None
) -> SweepPlan:
    """Validate a sweep mapping; see :func:`load_sweep`."""
    if not isinstance(data, Mapping):
        raise ScenarioError(source, "", "a sweep file must be a YAML mapping")
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        where, message = describe_validation_error(pick_validation_error(exc.errors()))
        raise ScenarioError(source, where, message) from None

    base = _load_base(spec.base, source, Path(base_dir) if base_dir is not None else Path.cwd())
    mode = spec.mode or ("monte_carlo" if spec.replications > 1 else "expected")
    if mode == "expected" and spec.replications != 1:
        raise ScenarioError(
            source, "replications", "expected mode is deterministic: use 1 (or mode: monte_carlo)"
        )

    raw_axes = data["axes"] if isinstance(data.get("axes"), Mapping) else {}
    order = [k for k in raw_axes if k in pts.AXIS_KINDS and getattr(spec.axes, k) is not None]
    dists = _distributions(spec, source)
    kinds: dict[str, str] = {}
    sizes = []
    for kind in order:
        paths = list(spec.axes.grid) if kind == "grid" else list(dists[kind])
        for path in paths:
            if path in kinds:
                raise ScenarioError(
                    source, axis_where(kind, path), f"already swept by axes.{kinds[path]}"
                )
            kinds[path] = kind
        sizes.append(
            pts.count_points([len(v) for v in spec.axes.grid.values()])
            if kind == "grid"
            else getattr(spec.axes, kind).n
        )
    total = pts.count_points(sizes)
    if total > MAX_POINTS:
        raise ScenarioError(
            source, "axes", f"{total:,} points is more than the limit {MAX_POINTS:,}"
        )

    blocks: list[pts.Block] = []
    for kind in order:
        if kind == "grid":
            blocks.append(pts.GridBlock(spec.axes.grid))
        elif kind == "random":
            rng = pts.axis_rng(spec.seed, kind)
            blocks.append(pts.random_block(spec.axes.random.n, dists[kind], rng))
        else:
            rng = pts.axis_rng(spec.seed, kind)
            blocks.append(pts.latin_hypercube_block(spec.axes.latin_hypercube.n, dists[kind], rng))
    points = pts.PointList(blocks)

    base_dict = base.to_dict()
    for path, kind in kinds.items():
        check_path(path, kind, source)
    for i in validation_sample(points):
        validate_point(base_dict, points[i], i, kinds, source)

    axes = tuple(Axis(path, kind, points.column_type(path)) for path, kind in kinds.items())
    spec_hash = hashlib.sha256(
        canonical_json(_identity(spec, base_dict, order)).encode()
    ).hexdigest()[:16]
    return SweepPlan(
        spec=spec,
        source=source,
        base=base,
        axes=axes,
        points=points,
        mode=mode,
        replications=spec.replications,
        spec_hash=spec_hash,
        base_dict=base_dict,
    )


def validation_sample(points: pts.PointList) -> list[int]:
    """The points validated before a sweep starts: all of them up to :data:`VALIDATE_ALL`.

    A larger sweep validates, in this order, the points that use each grid value and each
    random column's extremes (:meth:`PointList.probe_indices`), then :data:`VALIDATE_SAMPLE`
    evenly spaced points; any other bad combination fails its own runs when they execute.
    """
    n = len(points)
    if n <= VALIDATE_ALL:
        return list(range(n))
    probes = points.probe_indices()
    spaced = np.linspace(0, n - 1, VALIDATE_SAMPLE).astype(np.int64).tolist()
    return list(dict.fromkeys([*probes, *spaced]))


def _identity(spec: SweepSpec, base_dict: dict[str, Any], order: list[str]) -> dict[str, Any]:
    """What defines a sweep's runs (hashed into ``spec_hash``); name and batch size do not."""
    axes: list[Any] = []
    for kind in order:
        if kind == "grid":
            axes.append(["grid", [[p, v] for p, v in spec.axes.grid.items()]])
        else:
            block = getattr(spec.axes, kind)
            axes.append([kind, block.n, [[p, d] for p, d in block.params.items()]])
    return {
        "base": base_dict,
        "seed": spec.seed,
        "mode": spec.mode or ("monte_carlo" if spec.replications > 1 else "expected"),
        "replications": spec.replications,
        "server_draws": spec.server_draws,
        "axes": axes,
        "store_timeseries": spec.store_timeseries,
    }


def _load_base(base: Any, source: str, base_dir: Path) -> Scenario:
    if isinstance(base, Mapping):
        try:
            return scenario_from_dict(base, source=source, base_dir=base_dir)
        except ScenarioError as exc:
            raise ScenarioError(
                source, ".".join(p for p in ("base", exc.where) if p), exc.message
            ) from None
    path = Path(base)
    if not path.is_absolute():
        path = base_dir / path
    if not path.is_file():
        raise ScenarioError(source, "base", f"scenario file not found: {path}")
    return load_scenario(path)


def _distributions(spec: SweepSpec, source: str) -> dict[str, dict[str, pts.Dist]]:
    out: dict[str, dict[str, pts.Dist]] = {}
    for kind in ("random", "latin_hypercube"):
        block = getattr(spec.axes, kind)
        if block is None:
            continue
        out[kind] = {}
        for path, raw in block.params.items():
            where = f"axes.{kind}.params.{path}"
            try:
                dist = pts.parse_dist(raw)
            except ValueError as exc:
                raise ScenarioError(source, where, str(exc)) from None
            if kind == "latin_hypercube" and dist.kind not in pts.CONTINUOUS:
                raise ScenarioError(
                    source, where, f"latin_hypercube takes uniform or loguniform, not {dist.kind}"
                )
            out[kind][path] = dist
    return out
