"""Every input of a scenario, with where it came from: the report's assumptions table.

A resolved scenario (defaults filled, host shorthands expanded) is flattened into one row per
leaf value and compared with the file as written:

* ``given`` — the value is in the scenario file (for a preset: see the preset's sources);
* ``derived`` — expanded from a shorthand written in the file (a host's ``profile:``/``tool:``/
  ``key_type:`` from ``data/world/``, or a list item given as a bare name; a bare attack name
  gives its class and label only, its ``key_age_days`` is a ``default``). A catalogue CA the
  host shorthand brings in (its root, intermediates and their dates, active-set events,
  validity schedule) is ``derived`` too, its source the catalogue row: a fact, not an assumption,
  unless that row is ``unconfirmed``;
* ``default`` — not in the file: simlib's default, an **assumption** the reader should check;
* ``unknown`` — the scenario was built in Python or changed since it was read: its values are
  listed, but which were chosen and which are defaults is not known.

An input naming (or describing) an intermediate extrapolated past its CA's published roadmap
(``simlib.world.extrapolation``) says so in its source, whatever its origin: an assumption.

:func:`is_assumption` is the one rule for what the report counts as an assumption: a
``default``, or any row whose source says "assumption" (unconfirmed world rows, extrapolated
intermediates). :func:`assumption_count` counts them.

A preset's own comment header (``Sources:``, ``Assumptions (unconfirmed):``) is quoted verbatim by
:func:`stated_notes`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from simlib.model import Scenario

__all__ = ["COLUMNS", "assumption_count", "is_assumption", "scenario_inputs", "stated_notes"]

COLUMNS = ["section", "input", "value", "origin", "source"]
#: Keys of a host entry that expand into several inputs from ``data/world/``.
_SHORTHANDS = ("profile", "tool", "key_type")
#: Notes of a preset header quoted by the report.
_NOTE_HEADS = ("sources", "assumptions", "documented outcome")
#: First line :mod:`simlib.report.render` gives a resolved scenario it writes out.
RESOLVED_MARK = "# simlib: resolved scenario"


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf paths in the dotted/indexed syntax of overrides (``fleet.adoption.components[1].weight``)."""
    if isinstance(value, dict):
        if not value:
            return {prefix: "{}"} if prefix else {}
        out: dict[str, Any] = {}
        for k, v in value.items():
            out |= _flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(value, list):
        if not value:
            return {prefix: "[]"}
        out = {}
        for i, v in enumerate(value):
            out |= _flatten(v, f"{prefix}[{i}]")
        return out
    return {prefix: value}


def _raw(scenario: Scenario) -> dict[str, Any] | None:
    """The scenario file as written, or ``None`` when it did not come from a readable file."""
    from simlib.model.yamlio import parse_yaml, read_text_file, read_yaml_file

    source = scenario.source
    try:
        if Path(source).is_file() and read_text_file(source).startswith(RESOLVED_MARK):
            return None  # every default written out: given and default cannot be told apart
        if source == "quickstart.yaml":
            from importlib.resources import files

            text = files("simlib").joinpath("scenarios/quickstart.yaml").read_text(encoding="utf-8")
            data = parse_yaml(text, source)
        elif Path(source).is_file():
            data = read_yaml_file(source)
        else:
            return None
    except Exception:  # the scenario validated already; an unreadable copy only loses origins
        return None
    return data if isinstance(data, dict) else None


def _prefixes(path: str) -> list[str]:
    """``a.b[1].c`` → ``["a", "a.b", "a.b[1]"]`` (the enclosing values, outermost first)."""
    out, i = [], 0
    while i < len(path):
        if path[i] in ".[" and i:
            out.append(path[:i])
        i += 1
    return out


def _origin(path: str, raw_leaves: dict[str, Any], raw_nodes: dict[str, Any]) -> tuple[str, str]:
    if path in raw_leaves:
        return "given", ""
    for pre in reversed(_prefixes(path)):
        if pre in raw_leaves:
            if pre.startswith("attacks[") and path.rpartition(".")[2] not in ("name", "label"):
                break  # a bare attack name sets its class and label; the rest are defaults
            return "derived", f"from {pre}: {raw_leaves[pre]}"
        node = raw_nodes.get(pre)
        if isinstance(node, dict) and any(k in node for k in _SHORTHANDS):
            keys = ", ".join(f"{k}: {node[k]}" for k in _SHORTHANDS if k in node)
            return "derived", f"from {keys} (data/world)"
    return "default", "simlib default (docs/scenario.md) — an assumption"


def _nodes(value: Any, prefix: str = "") -> dict[str, Any]:
    out = {prefix: value} if prefix else {}
    if isinstance(value, dict):
        for k, v in value.items():
            out |= _nodes(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out |= _nodes(v, f"{prefix}[{i}]")
    return out


def _extrapolated(resolved: dict[str, Any]) -> dict[str, str]:
    """Path -> assumption label of every leaf, or intermediate entry, naming an extrapolated
    intermediate."""
    from simlib.world.extrapolation import assumption_label

    out = {}
    for path, node in _nodes(resolved).items():
        name = node.get("name") if isinstance(node, dict) else node
        label = assumption_label(name) if isinstance(name, str) else None
        if label is not None:
            out[path] = label
    return out


def _cite(what: str, source: str, confidence: str) -> str:
    """A world row as an input's source; an unconfirmed row says it is an assumption."""
    tail = " — unconfirmed: an assumption" if confidence == "unconfirmed" else f" ({confidence})"
    return f"{what}: {source}{tail}"


def _validity_sources(ca: str, entry: dict[str, Any], base: str) -> dict[str, str]:
    """The validity-caps.csv step behind a made CA's ``validity_days`` and each schedule step."""
    from simlib.world.caps import PROFILES, schedule_steps

    steps = [s for name in PROFILES.get(ca, {}).values() for s in schedule_steps(name)]
    out: dict[str, str] = {}

    def cite(step: Any) -> str:
        return _cite(f"validity-caps.csv {step.schedule} {step.effective_date}", step.source,
                     step.confidence)  # fmt: skip

    days = entry.get("validity_days")
    first = next((s for s in steps if s.max_days == days), None)
    if first is not None:
        out[f"{base}.validity_days"] = cite(first)
    for k, step in enumerate(entry.get("validity_schedule") or []):
        day, value = str(step.get("from")), step.get("days")
        match = next(
            (s for s in steps if str(s.effective_date) == day and s.max_days == value), None
        )
        if match is not None:
            out[f"{base}.validity_schedule[{k}]"] = cite(match)
    return out


def _world_sources(resolved: dict[str, Any], raw: dict[str, Any]) -> tuple[dict[str, str], int]:
    """Path -> source of every value the host shorthand took from the catalogue (CA entries it
    added, their certificates, validity steps and active-set events), and how many events it
    added in front of the file's own."""
    from simlib.world import catalogue

    cat = catalogue()
    raw_cas = raw.get("cas") if isinstance(raw.get("cas"), list) else []
    declared = {c.get("name") for c in raw_cas if isinstance(c, dict)}
    made: dict[str, str] = {}  # CA name in the scenario -> catalogue CA
    out: dict[str, str] = {}
    for i, entry in enumerate(resolved.get("cas") or []):
        name = entry.get("name")
        ca = next((c for c in cat.cas if name == c or str(name).startswith(f"{c} ")), None)
        if name in declared or ca is None:
            continue
        made[str(name)] = ca
        base, info = f"cas[{i}]", cat.ca(ca)
        out[base] = _cite(f"ca-catalogue.yaml {ca}", info.source, info.confidence)
        selection = info.fact("selection")
        if selection is not None:
            out[f"{base}.selection"] = _cite(
                f"ca-catalogue.yaml {ca} practice selection", selection.source, selection.confidence
            )
        root = entry.get("root")
        if root in cat.certificates:
            cert = cat.certificate(root)
            text = _cite(f"ca-catalogue.yaml {root}", cert.source, cert.confidence)
            for key in ("key", "root", "root_not_after"):
                out[f"{base}.{key}"] = text
        for j, inter in enumerate(entry.get("intermediates") or []):
            cert = cat.certificates.get(inter.get("name"))
            if cert is not None and not cert.assumed:
                out[f"{base}.intermediates[{j}]"] = _cite(
                    f"ca-catalogue.yaml {cert.name}", cert.source, cert.confidence
                )
        out |= _validity_sources(ca, entry, base)
    events = resolved.get("events") or []
    raw_events = raw.get("events") if isinstance(raw.get("events"), list) else []
    added = max(0, len(events) - len(raw_events)) if made else 0
    for k, event in enumerate(events[:added]):
        ca = made.get(str(event.get("ca")))
        if ca is None:
            continue
        day = str(event.get("date"))
        members = set(event.get("active") or [])
        # the published set in force that day (an event at the start is clipped to it)
        found = [
            s for s in cat.ca(ca).active_sets
            if str(s.start) <= day and members <= set(s.rsa) | set(s.ecdsa)
        ]  # fmt: skip
        if found:
            row = max(found, key=lambda s: s.start)
            out[f"events[{k}]"] = _cite(
                f"ca-catalogue.yaml {ca} active set from {row.start}", row.source, row.confidence
            )
        else:  # a set continued past the published roadmap from the CA's practice
            out[f"events[{k}]"] = _cite(
                f"ca-catalogue.yaml {ca} practice, extrapolated past the published active sets",
                "simlib.world.extrapolation",
                "unconfirmed",
            )
    return out, added


def _shifted(path: str, added: int) -> str:
    """The file's own path of a resolved ``events[n]`` path, the shorthand's events before it."""
    if not added or not path.startswith("events["):
        return path
    index, rest = path[len("events[") :].split("]", 1)
    return f"events[{int(index) - added}]{rest}" if int(index) >= added else path


_NEVER_EXPIRES = re.compile(r"cas\[\d+\]\.root_not_after")


def _fallback_steps(resolved: dict[str, Any], raw: dict[str, Any]) -> dict[str, str]:
    """Path -> assumption label of each ``policy_schedule`` renewal rule the host shorthand set
    in place of a tool's rule that no longer fits the lifetime (model/tooldefaults.py)."""
    from simlib.model.tooldefaults import is_fallback

    raw_hosts = raw.get("hosts") if isinstance(raw.get("hosts"), list) else []
    out = {}
    for i, (host, given) in enumerate(zip(resolved.get("hosts") or [], raw_hosts, strict=False)):
        tool = given.get("tool") if isinstance(given, dict) else None
        if not isinstance(tool, str) or "policy_schedule" in given:
            continue
        for k, step in enumerate(host.get("policy_schedule") or []):
            if is_fallback(tool, step):
                label = (
                    f"{tool}'s renew_before_days leaves less than a third of the lifetime: "
                    "simlib renews at 2/3 instead — an assumption"
                )
                for key in ("from", "renew_at_fraction"):
                    out[f"hosts[{i}].policy_schedule[{k}].{key}"] = label
    return out


def is_assumption(origin: str, source: str) -> bool:
    """The one rule for what the report counts as an assumption: a simlib default, or a row
    whose source says so (an unconfirmed world row, an extrapolated intermediate)."""
    return origin == "default" or "assumption" in source


def assumption_count(frame: pd.DataFrame) -> int:
    """How many rows of an inputs table (``COLUMNS``) are assumptions (:func:`is_assumption`)."""
    return sum(is_assumption(o, s) for o, s in zip(frame["origin"], frame["source"], strict=True))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def scenario_inputs(scenario: Scenario) -> pd.DataFrame:
    """One row per input (``COLUMNS``): every leaf of the resolved scenario except unset
    optional values and empty defaults, with its origin (given / derived / default) and source."""
    data = scenario.to_dict()
    resolved = _flatten(data)
    raw = _raw(scenario)
    file_label = f"scenario file {Path(scenario.source).name}"
    unknown = (
        "built in Python or changed by overrides: given and default values cannot be told apart"
    )
    raw_leaves = _flatten(raw) if raw is not None else {}
    raw_nodes = _nodes(raw) if raw is not None else {}
    assumed = _extrapolated(data)
    world, added = _world_sources(data, raw) if raw is not None else ({}, 0)
    fallbacks = _fallback_steps(data, raw) if raw is not None else {}
    rows = []
    for path, value in resolved.items():
        never = value is None and _NEVER_EXPIRES.fullmatch(path) is not None
        if never:
            value = "unset (never expires)"  # how the simulator reads a missing root expiry
        elif value is None:
            continue  # an optional input left unset: nothing is assumed
        cited = world.get(path) or next(
            (world[p] for p in reversed(_prefixes(path)) if p in world), None
        )
        if raw is None:
            origin, source = "unknown", unknown
        elif cited is not None:
            origin, source = "derived", cited  # a catalogue fact the host shorthand brought in
        else:
            origin, source = _origin(_shifted(path, added), raw_leaves, raw_nodes)
            if origin == "given":
                source = file_label
            elif origin == "default" and value in ("", "[]", "{}"):
                continue  # an empty default (no events, no backups): nothing is assumed
        label = (
            assumed.get(path)
            or fallbacks.get(path)
            or next((assumed[p] for p in reversed(_prefixes(path)) if p in assumed), None)
        )
        if label is not None and origin == "default":  # made by the shorthand, not a default
            origin, source = "derived", label
        elif label is not None:
            source = f"{source}; {label}"
        if never and origin == "default":
            source = "simlib default (docs/scenario.md): the root never expires — an assumption"
        elif never:
            source = f"{source}; the root never expires — an assumption"
        section = path.split(".", 1)[0].split("[", 1)[0]
        rows.append((section, path, _text(value), origin, source))
    return pd.DataFrame(rows, columns=COLUMNS)


def stated_notes(scenario: Scenario) -> dict[str, str]:
    """The ``Sources:``, ``Assumptions …:`` and ``Documented outcome:`` notes of the scenario
    file's comment header (presets carry them); empty if there are none."""
    from simlib.analysis.presets import header_notes

    source = Path(scenario.source)
    if not source.is_file():
        return {}
    return {k: v for k, v in header_notes(source).items() if k.lower().startswith(_NOTE_HEADS)}
