"""The one shape both modes' results have, so the CLI, reports and batch never branch on mode."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import pandas as pd

    from simlib.model import Scenario


@runtime_checkable
class Result(Protocol):
    """What :func:`simlib.simulate` returns in either mode."""

    scenario: Scenario

    @property
    def summary(self) -> pd.DataFrame:
        """One row per strategy (expected) or per (strategy, metric) with mean, se, p5, p50, p95."""
        ...

    @property
    def timeseries(self) -> pd.DataFrame:
        """Daily figures per strategy, ``date`` as ``datetime64[ns]``."""
        ...

    def write(self, out_dir: str | Path, formats: tuple[str, ...] = ("csv",)) -> list[Path]:
        """Every table and the resolved scenario, each file written atomically."""
        ...
