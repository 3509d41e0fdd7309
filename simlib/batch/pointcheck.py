"""Checking a sweep's points before they run: every axis path parses, and a point applied to the
base scenario validates — or one line names the axis and value to blame."""

from __future__ import annotations

import json
from typing import Any

from simlib.batch.identity import apply_point
from simlib.errors import ScenarioError, clip
from simlib.model import parse_path, scenario_from_dict

__all__ = ["axis_where", "check_path", "validate_point"]


def axis_where(kind: str, path: str) -> str:
    return f"axes.{kind}.{path}" if kind == "grid" else f"axes.{kind}.params.{path}"


def check_path(path: str, kind: str, source: str) -> None:
    try:
        parse_path(path)
    except ValueError as exc:
        raise ScenarioError(source, axis_where(kind, path), f"bad path: {exc}") from None


def validate_point(
    base_dict: dict[str, Any], point: dict[str, Any], i: int, kinds: dict[str, str], source: str
) -> None:
    """Refuse point ``i`` (``kinds``: axis path -> grid / random / latin_hypercube) when the base
    scenario with it applied is not valid, naming the axis most likely to blame."""
    try:
        data = apply_point(base_dict, point)
    except KeyError as exc:
        path = str(exc.args[0]).split(": ", 1)[0]
        path = path if path in kinds else next(iter(kinds))
        message = str(exc.args[0]).split(": ", 1)[-1]
        raise ScenarioError(
            source, axis_where(kinds[path], path), f"no such field ({message})"
        ) from None
    try:
        scenario_from_dict(data, source=source)
    except ScenarioError as exc:
        path = _blame(exc.where, list(point))
        if path is None:
            values = ", ".join(f"{p}={_fmt(v)}" for p, v in point.items())
            raise ScenarioError(
                source, "axes", f"point {i} ({values}): {exc.where}: {exc.message}"
            ) from None
        message = exc.message
        if message == "unknown field" and exc.where == path:
            raise ScenarioError(
                source, axis_where(kinds[path], path), "not a scenario field"
            ) from None
        detail = message if exc.where == path else f"{exc.where}: {message}"
        raise ScenarioError(
            source, axis_where(kinds[path], path), f"value {_fmt(point[path])}: {detail}"
        ) from None


def _blame(where: str, paths: list[str]) -> str | None:
    """The axis path most related to an error at ``where`` (longest common field prefix).

    The base scenario is valid, so some axis value of the point caused the error: with one axis
    it is that one; with several, the one sharing most of the error's field path (None if none
    shares even the first field).
    """
    if where in paths:
        return where
    try:
        target = parse_path(where)
    except ValueError:
        target = []
    best, score = None, 0
    for p in paths:
        parts = parse_path(p)
        common = 0
        for a, b in zip(parts, target, strict=False):
            if a != b:
                break
            common += 1
        if common > score:
            best, score = p, common
    if best is None and len(paths) == 1:
        return paths[0]
    return best


def _fmt(value: Any) -> str:
    """A swept value for a message: short enough that the problem after it stays on the line."""
    text = (
        repr(value)
        if isinstance(value, str)
        else json.dumps(value, ensure_ascii=False, default=str)
    )
    return clip(text, 60)
