"""Both modes' results answer one protocol: summary, timeseries, write."""

from __future__ import annotations

import pandas as pd

from simlib.api import simulate
from simlib.results.protocol import Result
from tests.conftest import make


def test_both_modes_are_results(tmp_path):
    sc = make(strategies=[{"name": "leaf", "pin": "leaf_spki"}])
    for res in (simulate(sc), simulate(sc, mode="monte_carlo", replications=3)):
        assert isinstance(res, Result)
        assert isinstance(res.summary, pd.DataFrame) and len(res.summary)
        assert res.timeseries["date"].dtype == "datetime64[ns]"
        out = tmp_path / res.__class__.__name__
        written = res.write(out)
        assert written and all(p.exists() for p in written)
        assert (out / "scenario.yaml").exists()
