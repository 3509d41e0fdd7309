"""What a run is: run ids, seed streams, and building a point's scenario from base + parameters.

A run's id is the first 16 hex digits of sha256 over the canonical JSON of everything that
defines it (resolved point scenario, mode, server draws, replication, point, root seed, simlib
version); its randomness comes from ``SeedSequence(seed, spawn_key=(point,))``. Used by the plan
(:mod:`simlib.batch.spec`) and by workers (:mod:`simlib.batch.worker`), which compute the ids of
the points they run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from simlib._version import __version__
from simlib.errors import ScenarioError
from simlib.model import Scenario, scenario_from_dict, set_path


def canonical_json(obj: Any) -> str:
    """Sorted keys, no whitespace: the form that is hashed for spec hashes and run ids."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=str
    )


def run_id(
    scenario: Mapping[str, Any],
    mode: str,
    server_draws: str,
    replication: int,
    point: int,
    seed: int,
) -> str:
    """First 16 hex digits of sha256 over the canonical JSON of everything that defines a run."""
    doc = {
        "mode": mode,
        "point": point,
        "replication": replication,
        "scenario": scenario,
        "seed": seed,
        "server_draws": server_draws,
        "version": __version__,
    }
    return hashlib.sha256(canonical_json(doc).encode()).hexdigest()[:16]


def run_id_from_json(
    scenario_json: str, mode: str, server_draws: str, replication: int, point: int, seed: int
) -> str:
    """:func:`run_id` with the scenario already serialised (one dump per point, not per run)."""
    dump = canonical_json
    text = (
        f'{{"mode":{dump(mode)},"point":{int(point)},"replication":{int(replication)},'
        f'"scenario":{scenario_json},"seed":{int(seed)},"server_draws":{dump(server_draws)},'
        f'"version":{dump(__version__)}}}'
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class BuiltPoint:
    """A point's scenario built from base + parameters (validated once), for running it.

    ``scenario_json`` is the canonical JSON that run ids hash: of the resolved scenario, or, for
    a point whose scenario is invalid (``error`` set; possible only beyond the up-front
    validation budget), of the unresolved point so its failed runs still have stable ids.
    """

    scenario: Scenario | None
    scenario_json: str
    server_draws: str
    error: Exception | None = None

    def run_ids(self, mode: str, replications: Iterable[int], point: int, seed: int) -> list[str]:
        return [
            run_id_from_json(self.scenario_json, mode, self.server_draws, r, point, seed)
            for r in replications
        ]


def build_point(
    base: Mapping[str, Any],
    params: Mapping[str, Any],
    point: int,
    *,
    source: str,
    server_draws: str | None,
) -> BuiltPoint:
    """Build and validate point *point*'s scenario; errors are returned, not raised."""
    try:
        data: Any = apply_point(base, params)
        scenario = scenario_from_dict(data, source=source)
    except (KeyError, ScenarioError) as exc:
        unresolved = {"base": dict(base), "point": dict(params)}
        return BuiltPoint(None, canonical_json(unresolved), server_draws or "fixed", exc)
    resolved = scenario.to_dict()
    draws = server_draws or resolved["monte_carlo"]["server_draws"]
    return BuiltPoint(scenario, canonical_json(resolved), draws)


def point_seed(seed: int, point: int) -> np.random.SeedSequence:
    """The root stream of point *i*: ``SeedSequence(seed, spawn_key=(i,))``."""
    return np.random.SeedSequence(seed, spawn_key=(point,))


def apply_point(base: Mapping[str, Any], point: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with every ``path: value`` of ``point`` set (copies; ``base`` is not modified).

    See :func:`simlib.model.set_path`: an optional block that is ``null`` in the resolved base
    (``incident_response``, ``economics``, ...) is created when a path goes through it. Raises
    ``KeyError`` (message ``"<path>: ..."``) for a missing list index.
    """
    data: Any = dict(base)
    for path, value in point.items():
        data = set_path(data, path, value)
    return data
