"""Certificate Transparency enforcement and revocation checking per platform
(``data/world/ct-enforcement.csv``).

Rules: ``ct_required`` (certificates issued *after* ``issued_after`` must be logged to be
trusted by every app on the platform), ``ct_opt_in`` (the app must opt in: no date applies) and
``checks_revocation`` (``value`` true/false: whether a revoked server certificate fails). Read by
``model.monitoring`` for the defaults of a scenario's ``monitoring.ct`` block.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from simlib.world.data import parse_bool, parse_date, read_csv, world_dir

__all__ = [
    "FILE",
    "RULES",
    "CtRule",
    "checks_revocation",
    "ct_required_after",
    "ct_rules",
    "load_ct",
]

FILE = "ct-enforcement.csv"
RULES = ("ct_required", "ct_opt_in", "checks_revocation")


@dataclass(frozen=True)
class CtRule:
    platform: str
    rule: str
    issued_after: date | None
    value: str
    source: str
    confidence: str
    note: str = ""


@functools.cache
def _load(path: Path) -> tuple[CtRule, ...]:
    out: list[CtRule] = []
    seen: set[tuple[str, str]] = set()
    for row in read_csv(path, ("platform", "rule", "issued_after", "value")):
        platform, rule = row.text("platform") or "", row.text("rule") or ""
        if rule not in RULES:
            raise row.error(f"rule {rule!r} is not one of {', '.join(RULES)}")
        if (platform, rule) in seen:
            raise row.error(f"a second {rule!r} row for {platform!r}")
        seen.add((platform, rule))
        after = row.text("issued_after", required=rule == "ct_required")
        value = row.text("value") or ""
        if rule == "checks_revocation":
            parse_bool(value, row.source_file, row.where, "value")
        out.append(
            CtRule(
                platform=platform,
                rule=rule,
                issued_after=None
                if after is None
                else parse_date(after, row.source_file, row.where, "issued_after"),
                value=value,
                source=row["source"],
                confidence=row["confidence"],
                note=row.get("note", ""),
            )
        )
    return tuple(out)


def load_ct(directory: Path | None = None) -> tuple[CtRule, ...]:
    """Every row of the file (``directory``: another world folder, for tests)."""
    return _load((directory or world_dir()) / FILE)


def ct_rules() -> tuple[CtRule, ...]:
    return load_ct()


@functools.cache  # the shipped file never changes within a process; called once per day
def _rule(platform: str, rule: str) -> CtRule | None:
    return next((r for r in load_ct() if r.platform == platform and r.rule == rule), None)


def ct_required_after(platform: str) -> date | None:
    """The day after which every app on ``platform`` requires logged certificates (None: CT is
    not required by the platform; on Android the app must opt in)."""
    rule = _rule(platform, "ct_required")
    return None if rule is None else rule.issued_after


def checks_revocation(platform: str) -> bool:
    """Whether a revoked server certificate fails on ``platform`` (no row: False)."""
    rule = _rule(platform, "checks_revocation")
    return rule is not None and parse_bool(rule.value, FILE, "", "value")
