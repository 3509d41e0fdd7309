"""Reading scenario files: YAML, validation at the boundary, the embedded default."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    ValidationError,
)

from simlib.errors import ScenarioError
from simlib.model.base import ScenarioWarning
from simlib.model.checks import _semantic_checks, _SemanticError
from simlib.model.messages import describe_validation_error, pick_validation_error
from simlib.model.scenario import Scenario


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
            warnings.warn(f"{source}: {w.message}", ScenarioWarning, stacklevel=2)
    except ScenarioError as exc:
        raise exc from None
    except ValidationError as exc:
        where, message = describe_validation_error(pick_validation_error(exc.errors()))
        raise ScenarioError(source, where, message) from None
    try:
        _semantic_checks(sc)
    except _SemanticError as exc:
        raise ScenarioError(source, exc.where, exc.message) from None
    sc._source = source
    return sc


def read_yaml(path: str | Path, what: str = "file") -> Any:
    """Parse a YAML file; unreadable files and syntax errors become one-line ScenarioErrors."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(path), "", f"cannot read {what} ({exc.strerror})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ScenarioError(str(path), where, f"invalid YAML: {problem}") from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a YAML scenario file."""
    path = Path(path)
    return scenario_from_dict(read_yaml(path), source=str(path), base_dir=path.parent)


def default_scenario() -> Scenario:
    """The embedded quickstart scenario (the one ``make report`` runs)."""
    from importlib.resources import files

    text = files("simlib").joinpath("scenarios/quickstart.yaml").read_text(encoding="utf-8")
    return scenario_from_dict(yaml.safe_load(text), source="quickstart.yaml")
