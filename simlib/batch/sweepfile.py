"""A sweep file's schema (pydantic at the boundary): base scenario, axes, seed, mode."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from simlib.model import (
    Scenario,
)
from simlib.model.base import Name

#: Seeds are stored as int64 in manifests.
MAX_SEED = 2**63 - 1
#: Refuse sweeps larger than this many points.
MAX_POINTS = 10_000_000
#: Largest ``batch_size`` (runs per task).
MAX_BATCH = 1_000_000_000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RandomAxes(_Model):
    """``n`` random points; ``params`` maps a dotted path to one distribution."""

    n: Annotated[int, Field(ge=1, le=MAX_POINTS)]
    params: dict[str, Any]

    @field_validator("params")
    @classmethod
    def _non_empty(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            raise ValueError("needs at least one parameter")
        return value


class LatinHypercubeAxes(RandomAxes):
    """``n`` stratified points over continuous ``uniform``/``loguniform`` parameters."""


class Axes(_Model):
    """One or more axis kinds; several kinds combine as the product of their point lists."""

    grid: dict[str, list[Any]] | None = None
    random: RandomAxes | None = None
    latin_hypercube: LatinHypercubeAxes | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_empty_kind(cls, data: Any) -> Any:
        # ``random:`` with nothing after it is YAML null: an axis the author meant to fill, not
        # "no axis" (which is leaving the key out).
        if isinstance(data, Mapping):
            for kind in ("grid", "random", "latin_hypercube"):
                if kind in data and data[kind] is None:
                    raise ValueError(f"{kind}: is empty (null): give its values or remove the key")
        return data

    @model_validator(mode="after")
    def _check(self) -> Axes:
        if self.grid is None and self.random is None and self.latin_hypercube is None:
            raise ValueError("give at least one of grid, random, latin_hypercube")
        if self.grid is not None:
            if not self.grid:
                raise ValueError("grid: needs at least one path")
            for path, values in self.grid.items():
                if not values:
                    raise ValueError(f"grid.{path}: needs at least one value")
        return self


class SweepSpec(_Model):
    """The schema of a sweep file (see ``docs/batch.md`` for every field)."""

    name: Name
    description: str = ""
    #: Path to a scenario file (relative to the sweep file) or an inline scenario mapping.
    base: Any
    #: Root seed: run (point i, replication r) draws from SeedSequence(seed, spawn_key=(i, r)).
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 0
    #: Default: monte_carlo if replications > 1, else expected.
    mode: Literal["expected", "monte_carlo"] | None = None
    replications: Annotated[int, Field(ge=1, le=10**8)] = 1
    #: Default: each point scenario's ``monte_carlo.server_draws``.
    server_draws: Literal["fixed", "resample"] | None = None
    #: Runs per task; default: chosen from a timed pilot so tasks take about a second.
    batch_size: Annotated[int, Field(ge=1, le=MAX_BATCH)] | None = None
    axes: Axes
    #: Also store each run's daily lockout rate per strategy (``timeseries/``).
    store_timeseries: bool = False

    @field_validator("base")
    @classmethod
    def _base_kind(cls, value: Any) -> Any:
        if isinstance(value, Scenario):
            return value.to_dict()
        if isinstance(value, Path):
            return str(value)
        if not isinstance(value, (str, Mapping)):
            raise ValueError("must be a scenario file path or an inline scenario mapping")
        return value
