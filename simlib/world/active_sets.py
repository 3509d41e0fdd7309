"""Which intermediates issue leaves, by date, key type and profile (a CA's ``active_sets``).

Each set applies from its ``from`` day to the day before the next set of the same profile;
a profile without a set on a day falls back to ``classic``. The choice within a set is random
per issuance at Let's Encrypt and ACM (uniform is an assumption).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from simlib.errors import ScenarioError
from simlib.world.data import parse_date, sourced, weakest

__all__ = ["KEY_TYPES", "ActiveSet", "activity", "parse_sets", "pick"]

KEY_TYPES = ("rsa", "ecdsa")


@dataclass(frozen=True)
class ActiveSet:
    """From ``start`` (to the next set of the same profile) leaves come from these intermediates."""

    start: date
    profile: str
    rsa: tuple[str, ...]
    ecdsa: tuple[str, ...]
    source: str
    confidence: str
    note: str = ""


def parse_sets(file: str, raw: Any, where: str, names: set[str]) -> tuple[ActiveSet, ...]:
    sets = []
    for i, entry in enumerate(raw or []):
        w = f"{where}[{i}]"
        if not isinstance(entry, Mapping):
            raise ScenarioError(file, w, "expected a mapping")
        source, confidence = sourced(entry, file, w)
        lists = {}
        for kt in KEY_TYPES:
            members = tuple(str(n) for n in entry.get(kt) or ())
            for n in members:
                if n not in names:
                    raise ScenarioError(file, f"{w}.{kt}", f"{n!r} is not a certificate of this CA")
            lists[kt] = members
        sets.append(
            ActiveSet(
                parse_date(entry.get("from"), file, f"{w}.from", "from"),
                str(entry.get("profile") or "classic"),
                lists["rsa"],
                lists["ecdsa"],
                source,
                confidence,
                str(entry.get("note") or ""),
            )
        )
    return tuple(sorted(sets, key=lambda s: (s.profile, s.start)))


def activity(sets: tuple[ActiveSet, ...]) -> dict[str, tuple[date, date | None, str]]:
    """name -> (first day, last day or None if open, weakest confidence of the boundaries)."""
    out: dict[str, tuple[date, date | None, str]] = {}
    for i, s in enumerate(sets):
        nxt = sets[i + 1] if i + 1 < len(sets) and sets[i + 1].profile == s.profile else None
        end = None if nxt is None else nxt.start - timedelta(days=1)
        label = s.confidence if nxt is None else weakest(s.confidence, nxt.confidence)
        for name in (*s.rsa, *s.ecdsa):
            if name not in out:
                out[name] = (s.start, end, label)
                continue
            first, last, conf = out[name]
            if s.start < first:
                first, conf = s.start, weakest(conf, label)
            if last is not None and (end is None or end > last):
                last, conf = end, weakest(conf, label)
            out[name] = (first, last, conf)
    return out


def pick(sets: tuple[ActiveSet, ...], day: date, key_type: str, profile: str) -> tuple[str, ...]:
    """The intermediates of ``key_type`` active on ``day`` for ``profile`` (empty before any)."""
    for wanted in dict.fromkeys((profile, "classic")):
        current = [s for s in sets if s.profile == wanted and s.start <= day]
        if current:
            return current[-1].rsa if key_type == "rsa" else current[-1].ecdsa
    return ()
