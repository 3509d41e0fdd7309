"""Reading scenario files: YAML, validation at the boundary, the embedded default."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import (
    ValidationError,
)

from simlib.errors import ScenarioError, one_line
from simlib.model.base import ScenarioWarning
from simlib.model.checks import _semantic_checks, _SemanticError
from simlib.model.messages import describe_validation_error, pick_validation_error
from simlib.model.scenario import Scenario
from simlib.model.yamlio import parse_yaml, read_yaml_file


def scenario_from_dict(
    data: Any, *, source: str = "<scenario>", base_dir: str | Path | None = None
) -> Scenario:
    """Validate a scenario mapping; raise :class:`ScenarioError` with a field path on failure."""
    if not isinstance(data, Mapping):
        raise ScenarioError(source, "", "a scenario must be a YAML mapping")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ScenarioWarning)
            sc = Scenario.model_validate(data, context={"base_dir": base_dir})
        for w in caught:
            # one bounded line, names escaped: a warning reaches terminals and report pages alike
            warnings.warn(one_line(f"{source}: {w.message}"), ScenarioWarning, stacklevel=2)
    except ScenarioError as exc:
        raise exc from None
    except ValidationError as exc:
        where, message = describe_validation_error(pick_validation_error(exc.errors()))
        raise ScenarioError(source, where, message) from None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ScenarioWarning)
            _semantic_checks(sc)
    except _SemanticError as exc:
        raise ScenarioError(source, exc.where, exc.message) from None
    for w in caught:  # the checks' warnings name the file too, as validation's do
        warnings.warn(one_line(f"{source}: {w.message}"), ScenarioWarning, stacklevel=2)
    sc._source = source
    return sc


def read_yaml(path: str | Path, what: str = "file") -> Any:
    """Parse a YAML file with the hardened loader (:mod:`simlib.model.yamlio`).

    Unreadable, oversized, non-UTF-8 or non-regular files, syntax errors, duplicate keys, alias
    bombs, deep nesting and python tags all become one-line ScenarioErrors naming file and line.
    """
    return read_yaml_file(path, what)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a YAML scenario file.

    Raises :class:`ScenarioError` (one line naming the file and field) for a missing,
    unreadable or invalid file; ``TypeError`` only if ``path`` is not a path (a programming
    error)."""
    path = Path(path)
    return scenario_from_dict(read_yaml(path), source=str(path), base_dir=path.parent)


def default_scenario() -> Scenario:
    """The embedded quickstart scenario (the one ``make report`` runs)."""
    from importlib.resources import files

    text = files("simlib").joinpath("scenarios/quickstart.yaml").read_text(encoding="utf-8")
    return scenario_from_dict(parse_yaml(text, "quickstart.yaml"), source="quickstart.yaml")
