"""Certificate tooling defaults by date (``data/world/tooling-defaults.csv``).

One row per (tool, parameter, effective date): ``reuses_key`` (does a renewal keep the leaf
key?), ``renew_before_days`` or ``renew_at_fraction`` (when renewal happens; the most recent
of the two wins) and ``ari`` (ACME Renewal Information). An empty ``effective_date`` means
"since the tool's first release" (its start is not dated in the sources).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from simlib.errors import ScenarioError
from simlib.world.data import parse_bool, parse_date, parse_float, read_csv, world_dir

__all__ = [
    "ALIASES",
    "PARAMETERS",
    "TOOLS",
    "ToolDefaults",
    "ToolFact",
    "canonical_tool",
    "defaults_on",
    "load_tooling",
    "tools",
]

FILE = "tooling-defaults.csv"
PARAMETERS = ("reuses_key", "renew_before_days", "renew_at_fraction", "ari")
#: The one list of tool names users write: a scenario host's ``tool:`` and ``simlib forecast
#: --tool`` offer exactly these (each is a tool of the file or one of its ALIASES).
TOOLS = ("certbot", "cert-manager", "caddy", "acm")
#: Other spellings of a tool -> its name in ``tooling-defaults.csv``.
ALIASES = {"certmagic": "caddy", "acm": "aws-acm"}


@dataclass(frozen=True)
class ToolFact:
    """One dated default of one tool."""

    tool: str
    parameter: str
    effective_date: date | None  # None: since the first release
    version: str
    value: bool | int | float
    source: str
    confidence: str
    note: str = ""


@dataclass(frozen=True)
class ToolDefaults:
    """A tool's defaults in force on ``on``; ``facts`` maps each parameter to its row."""

    tool: str
    on: date
    reuses_key: bool | None
    renew_before_days: int | None
    renew_at_fraction: float | None
    ari: bool | None
    facts: dict[str, ToolFact] = field(default_factory=dict)

    @property
    def unconfirmed(self) -> tuple[str, ...]:
        """Parameters whose value is an assumption."""
        return tuple(p for p, f in self.facts.items() if f.confidence == "unconfirmed")


def _value(parameter: str, text: str, file: str, where: str) -> bool | int | float:
    if parameter in ("reuses_key", "ari"):
        return parse_bool(text, file, where, "value")
    if parameter == "renew_before_days":
        if not text.isdigit() or int(text) < 1:
            raise ScenarioError(
                file, where, f"renew_before_days {text!r} is not a positive integer"
            )
        return int(text)
    fraction = parse_float(text, file, where, "value")
    if not 0 < fraction < 1:
        raise ScenarioError(file, where, f"renew_at_fraction {fraction:g} is not between 0 and 1")
    return fraction


@functools.cache
def _load(path: Path) -> dict[str, tuple[ToolFact, ...]]:
    facts: dict[str, list[ToolFact]] = {}
    seen: set[tuple[str, str, date | None]] = set()
    for row in read_csv(path, ("tool", "parameter", "effective_date", "version", "value")):
        f, w = row.source_file, row.where
        tool = row.text("tool") or ""
        parameter = row.text("parameter") or ""
        if parameter not in PARAMETERS:
            raise row.error(f"parameter {parameter!r} is not one of {', '.join(PARAMETERS)}")
        raw_day = row.text("effective_date", required=False)
        day = None if raw_day is None else parse_date(raw_day, f, w, "effective_date")
        key = (tool, parameter, day)
        if key in seen:
            raise row.error(f"{tool} {parameter}: two rows for the same date")
        seen.add(key)
        value = _value(parameter, row.text("value") or "", f, w)
        facts.setdefault(tool, []).append(
            ToolFact(
                tool,
                parameter,
                day,
                row.get("version", ""),
                value,
                row["source"],
                row["confidence"],
                row.get("note", ""),
            )
        )
    return {
        tool: tuple(sorted(items, key=lambda x: x.effective_date or date.min))
        for tool, items in facts.items()
    }


def load_tooling(directory: Path | None = None) -> dict[str, tuple[ToolFact, ...]]:
    """Every tool's dated facts (cached per folder)."""
    return _load(((directory or world_dir()) / FILE).resolve())


def tools() -> tuple[str, ...]:
    """Names of the known tools (``certmagic`` and ``acm`` are accepted as aliases)."""
    return tuple(load_tooling())


def canonical_tool(tool: str) -> str:
    """The file's name of ``tool`` (``acm`` -> ``aws-acm``); a one-line error if unknown."""
    table = load_tooling()
    name = ALIASES.get(tool, tool)
    if name not in table:
        raise ScenarioError(FILE, "tool", f"unknown tool {tool!r}; valid: {', '.join(table)}")
    return name


def defaults_on(tool: str, day: date) -> ToolDefaults:
    """The defaults of ``tool`` (a name or alias) for a renewal on ``day`` (None where the
    sources say nothing)."""
    table = load_tooling()
    name = canonical_tool(tool)
    current: dict[str, ToolFact] = {}
    for fact in table[name]:
        if fact.effective_date is None or fact.effective_date <= day:
            current[fact.parameter] = fact
    # The renewal rule is whichever of the two renewal parameters changed last.
    before, fraction = current.get("renew_before_days"), current.get("renew_at_fraction")
    if before is not None and fraction is not None:
        newer_fraction = (fraction.effective_date or date.min) > (before.effective_date or date.min)
        current.pop("renew_before_days" if newer_fraction else "renew_at_fraction")

    def get(parameter: str) -> bool | int | float | None:
        fact = current.get(parameter)
        return None if fact is None else fact.value

    reuses, ari = get("reuses_key"), get("ari")
    days, frac = get("renew_before_days"), get("renew_at_fraction")
    return ToolDefaults(
        tool=name,
        on=day,
        reuses_key=None if reuses is None else bool(reuses),
        renew_before_days=None if days is None else int(days),
        renew_at_fraction=None if frac is None else float(frac),
        ari=None if ari is None else bool(ari),
        facts=current,
    )
