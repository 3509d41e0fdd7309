"""Dotted-path overrides: variants of a scenario for sweeps and interactive exploration."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from simlib.errors import ScenarioError
from simlib.model.loading import scenario_from_dict
from simlib.model.scenario import Scenario

_PATH_RE = re.compile(r"([A-Za-z_][\w\-]*)|\[(\d+)\]")


def parse_path(path: str) -> list[str | int]:
    """Split ``fleet.adoption.components[1].mean_lag_days`` into keys and list indexes."""
    parts: list[str | int] = []
    for segment in path.split("."):
        if not segment:
            raise ValueError(f"empty segment in '{path}'")
        pos = 0
        for m in _PATH_RE.finditer(segment):
            if m.start() != pos:
                raise ValueError(f"cannot parse '{segment}' in '{path}'")
            parts.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
            pos = m.end()
        if pos != len(segment):
            raise ValueError(f"cannot parse '{segment}' in '{path}'")
    return parts


def set_path(data: Any, path: str, value: Any) -> Any:
    """Return a copy of nested dict/list ``data`` with ``path`` set to ``value``.

    Raises ``KeyError`` naming the first missing part, so sweep files can report bad axes. A
    strategy or host may also be addressed by name: ``strategies[leaf key].expires_after_days``
    is not supported on purpose (names contain spaces); use indexes.
    """
    parts = parse_path(path)
    return _set(data, parts, value, path)


def _set(node: Any, parts: list[str | int], value: Any, path: str) -> Any:
    if not parts:
        return value
    head, rest = parts[0], parts[1:]
    if isinstance(head, int):
        if not isinstance(node, list) or not (-len(node) <= head < len(node)):
            raise KeyError(f"{path}: index [{head}] does not exist")
        out = list(node)
        out[head] = _set(node[head], rest, value, path)
        return out
    if node is None:
        node = {}  # an absent optional section (e.g. incident_response: null) is created
    if not isinstance(node, Mapping):
        raise KeyError(f"{path}: '{head}' is not inside a mapping")
    out = dict(node)
    out[head] = _set(node.get(head), rest, value, path)
    return out


def apply_overrides(base: Scenario | Mapping[str, Any], overrides: Mapping[str, Any]) -> Scenario:
    """A new validated scenario: ``base`` with dotted-path ``overrides`` applied.

    A bad path or value is a :class:`ScenarioError` naming the path; ``TypeError`` only for a
    ``base`` or ``overrides`` that is not a mapping or a path that is not a string (programming
    errors)."""
    if not isinstance(base, (Scenario, Mapping)) or not isinstance(overrides, Mapping):
        wrong = overrides if isinstance(base, (Scenario, Mapping)) else base
        raise TypeError(f"expected a Scenario or mapping and a mapping, not {type(wrong).__name__}")
    if bad := [p for p in overrides if not isinstance(p, str)]:
        raise TypeError(f"override paths are strings, not {type(bad[0]).__name__}")
    data: Any = base.to_dict() if isinstance(base, Scenario) else dict(base)
    for path, value in overrides.items():
        try:
            data = set_path(data, path, value)
        except (KeyError, ValueError) as exc:
            raise ScenarioError("<overrides>", path, str(exc.args[0]).split(": ", 1)[-1]) from None
    return scenario_from_dict(data, source="<overrides>")


def lifetime_overrides(scenario: Scenario, days: int) -> dict[str, Any]:
    """The dotted-path overrides of "certificates of ``days`` days" (the one rule of the what-if
    question and the explorer's lifetime control).

    Every host requests ``days``-day certificates (still capped by ``validity_cap``) and renews at
    most a third of the lifetime before expiry (at least 1 day): a host's own
    ``renew_before_days`` is kept when it is shorter, and so is each of its ``policy_schedule``
    steps'. ``renew_at_fraction`` is relative to the lifetime already and stays.
    """
    cap = max(1, days // 3)
    out: dict[str, Any] = {}
    for i, host in enumerate(scenario.hosts):
        out[f"hosts[{i}].validity_days"] = days
        if host.renew_before_days is not None and host.renew_before_days > cap:
            out[f"hosts[{i}].renew_before_days"] = cap
        for j, step in enumerate(host.policy_schedule):
            if step.renew_before_days is not None and step.renew_before_days > cap:
                out[f"hosts[{i}].policy_schedule[{j}].renew_before_days"] = cap
    return out
