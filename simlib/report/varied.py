"""The inputs a one-way sensitivity varies, and over what range (:mod:`simlib.report.robustness`).

Every numeric input whose origin in :func:`~simlib.report.inputs.scenario_inputs` is ``default``
(or whose source says "assumption"), and the world's behaviour of :data:`BEHAVIOUR` whatever its
origin; never the identities, the horizon, the run's options or the strategies (choices).
Inputs that cannot affect the simulation are skipped with the reason ("Not varied"): every input
of a CA nothing names, and a CA's validity when no host issues from it (a backup pin uses only
its root) or every host that may sets its own ``validity_days``. Each list item in a path is
named by what it is (:func:`describe`), for the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from simlib.model import Scenario, parse_path
from simlib.report.decision import CostInputs

#: A positive scale varies from ×SCALE[0] to ×SCALE[1] of its current value.
SCALE = (0.25, 4.0)
#: A share of 0 varies over [0, ZERO_SHARE_TOP] (it has no scale).
ZERO_SHARE_TOP = 0.25
#: Inputs that are assumptions about the world, not choices, even when the scenario gives them.
BEHAVIOUR = re.compile(
    r"^(fleet\.(adoption\.|release_every_days$|build_lead_days$|platforms\.\w+\.share$)"
    r"|incident_response\.|economics\.|events\[\d+\]\.(rate_per_year|within_days|share)$"
    r"|hosts\[\d+\]\.renew_at_fraction$)"
)
#: Never varied: identities, the horizon, the run's own options and the strategies (choices).
_FIXED = re.compile(r"^(name|seed|start|end|monte_carlo\.|metrics\.|strategies\[|fleet\.users$)")
_SHARE_KEYS = ("share", "weight", "fraction", "threshold", "probability")


def number(x: float) -> str:
    """A value as the sensitivity table writes it."""
    if isinstance(x, int) or abs(x) >= 1e4:
        return f"{x:,.0f}"
    return f"{x:.4g}"


# ------------------------------------------------------------------------------ inputs
@dataclass(frozen=True)
class Assumption:
    """One input to vary: its override path, current value and range. ``coupled`` paths are
    siblings rescaled so that their sum with this one stays 1 (mixture weights, platform
    shares); ``cost`` inputs re-rank the result without simulating."""

    path: str
    value: float
    low: float
    high: float
    share: bool
    integer: bool
    origin: str
    coupled: tuple[tuple[str, float], ...] = ()
    #: What a list item in the path is, from the scenario (:func:`describe`); "" for none.
    label: str = ""

    @property
    def name(self) -> str:
        """The path as the table shows it, its list items named."""
        return f"{self.path} ({self.label})" if self.label else self.path

    @property
    def cost(self) -> bool:
        return self.path.startswith("economics.")

    @property
    def range_label(self) -> str:
        span = f"{number(self.low)}…{number(self.high)}"
        if self.share and self.value == 0:
            return f"{span} (a share of 0: [0, {ZERO_SHARE_TOP:g}])"
        clip = ", clipped to [0, 1]" if self.share else ""
        return f"{span} (×{SCALE[0]:g}…×{SCALE[1]:g}{clip})"

    @property
    def tolerance(self) -> float:
        """Bisection stops when the change lies within this much (integers: adjacent values)."""
        if self.integer:
            return 1.0
        return 0.005 if self.share else 0.01 * abs(self.value)

    def overrides(self, x: float) -> dict[str, Any]:
        value: Any = round(x) if self.integer else float(x)
        out: dict[str, Any] = {self.path: value}
        rest = sum(w for _, w in self.coupled)
        for path, w in self.coupled:  # keep the sum at 1, siblings in their proportions
            out[path] = w * (1 - x) / rest if rest > 0 else (1 - x) / len(self.coupled)
        return out


def _get(data: Any, path: str) -> Any:
    for part in parse_path(path):
        data = data[part]
    return data


def _siblings(data: dict, path: str) -> tuple[tuple[str, float], ...] | None:
    """The other members of a sum-to-one group ``path`` belongs to (``()``: none), or ``None``
    for a group of one (nothing can vary)."""
    if m := re.fullmatch(r"(.*\.components)\[(\d+)\]\.weight", path):
        comps, i = _get(data, m.group(1)), int(m.group(2))
        paths = [(f"{m.group(1)}[{j}].weight", float(c["weight"])) for j, c in enumerate(comps)]
    elif m := re.fullmatch(r"(.*\.platforms)\.(\w+)\.share", path):
        plats = _get(data, m.group(1))
        names = list(plats)
        i = names.index(m.group(2))
        paths = [(f"{m.group(1)}.{n}.share", float(plats[n]["share"])) for n in names]
    else:
        return ()
    if len(paths) == 1:
        return None
    return tuple(p for j, p in enumerate(paths) if j != i)


#: What a varied field means, for the table's label of a list item.
_GLOSS = {
    "share": "share of devices",
    "rate_per_year": "occurrences a year",
    "within_days": "days to act",
    "renew_at_fraction": "share of the lifetime before renewal",
    "validity_days": "certificate lifetime, days",
    "weight": "share of users",
    "mean_lag_days": "mean days to update",
    "key_age_days": "age of the stolen key, days",
}


def _item(section: str, i: int, entry: Any, count: int) -> str:
    """One list item by what it is: an event by type and date, a CA, host or attack by name."""
    if not isinstance(entry, dict):
        return f"{section}[{i}]"
    if section == "events":
        rate = entry.get("rate_per_year")
        when = f"on {entry['date']}" if entry.get("date") else f"{number(rate or 0)} a year"
        what = [f"{entry.get('type')} {when}"]
        for key in ("remove", "add"):
            if entry.get(key):
                what.append(f"{key}s {', '.join(map(str, entry[key]))}")
        what += [f"{k} {entry[k]}" for k in ("ca", "host", "to", "replacement") if entry.get(k)]
        return ", ".join(what)
    if section == "validity_schedule":
        return f"validity step from {entry.get('from')}"
    if section == "components":
        return f"adoption component {i + 1} of {count}"
    kind = {"cas": "CA", "hosts": "host", "attacks": "attack"}.get(section, section)
    name = entry.get("label") or entry.get("name")
    return f"{kind} {name}" if name is not None else f"{section}[{i}]"


def describe(data: dict, path: str) -> str:
    """What the list items of ``path`` are (``events[0].share`` → "trust_store_change on
    2025-06-01, removes letsencrypt-gen-y: share of devices"); "" when it has none."""
    items = re.findall(r"(\w+)\[(\d+)\]", path)
    if not items:
        return ""
    parts, node = [], data
    for part in parse_path(path):
        if isinstance(part, int) and isinstance(node, list):
            section = items[len(parts)][0] if len(parts) < len(items) else "item"
            parts.append(_item(section, part, node[part], len(node)))
        node = node[part]
    gloss = _GLOSS.get(path.rpartition(".")[2])
    return "; ".join(parts) + (f": {gloss}" if gloss else "")


_KEY_AGE = re.compile(r"attacks\[(\d+)\]\.key_age_days")
_STOLEN_KEY = "stolen_leaf_key"
_VALIDITY = re.compile(r"cas\[(\d+)\]\.(validity_days|validity_schedule\[\d+\]\.days)")


def _mentions(data: dict, name: str, own: str) -> bool:
    """Whether anything outside the CA's own entry ``own`` names CA ``name`` (a host's ``ca``,
    an event, an attack, a pin such as ``ca:<name>`` or ``<name>/<intermediate>``)."""
    from simlib.report.inputs import _flatten

    word = re.compile(rf"(^|[:/]){re.escape(name)}($|[:/])")
    return any(
        isinstance(v, str) and bool(word.search(v))
        for p, v in _flatten(data).items()
        if p != own and not p.startswith((f"{own}.", f"{own}["))
    )


def _idle(scenario: Scenario, data: dict, path: str) -> str | None:
    """Why an input of a CA cannot affect the simulation, or ``None``: a CA nothing names, or
    its validity when no host issues from it or every host that may sets its own."""
    m = re.match(r"cas\[(\d+)\]", path)
    if m is None:
        return None
    ca = scenario.cas[int(m.group(1))].name
    if not _mentions(data, ca, m.group(0)):
        return f"no host, event, attack or strategy names CA {ca}"
    if not _VALIDITY.fullmatch(path):
        return None
    targets = {
        r.name
        for ev in scenario.events
        for r in ev.references()
        if r.kind == "ca" and r.path in ("to", "replacement")
    }
    # a CA some event moves hosts to may issue to any host (conservative)
    hosts = scenario.hosts if ca in targets else [h for h in scenario.hosts if h.ca == ca]
    if not hosts:
        return f"CA {ca} issues no certificate: no host is on it or moves to it"
    if all(h.validity_days is not None for h in hosts):
        return f"CA {ca}: every host it issues to sets its own validity_days"
    return None


def _span(value: float, share: bool, integer: bool) -> tuple[float, float] | str:
    """The range an input varies over, or why it cannot vary."""
    if share:
        lo, hi = (0.0, ZERO_SHARE_TOP) if value == 0 else (value * SCALE[0], value * SCALE[1])
        lo, hi = max(0.0, lo), min(1.0, hi)
    elif value > 0:
        lo, hi = value * SCALE[0], value * SCALE[1]
        if integer:
            lo, hi = max(1, round(lo)), round(hi)
    else:
        return f"{number(value)} has no scale"
    return "its range is a single value" if lo == hi else (lo, hi)


def priced(a: Assumption, inputs: CostInputs) -> Assumption | None:
    """A cost assumption at the value ``inputs`` use (a report may be given its own), or
    ``None`` when that value cannot vary."""
    field, _, label = a.path.removeprefix("economics.").partition(".")
    if field == "cost_per_locked_user_day":
        value = inputs.per_locked_user_day
    elif field == "attack_probability_per_day":
        value = inputs.attack_probability.get(label, a.value)
    elif label or len(set(inputs.loss.values())) == 1:  # one loss for every attack
        value = inputs.loss[label] if label else next(iter(inputs.loss.values()))
    else:
        value = a.value
    if value == a.value:
        return a
    span = _span(value, a.share, False)
    return None if isinstance(span, str) else replace(a, value=value, low=span[0], high=span[1])


def assumptions(scenario: Scenario) -> tuple[list[Assumption], dict[str, str]]:
    """The inputs :func:`one_way` varies, and those it skips with the reason."""
    from simlib.report.inputs import is_assumption, scenario_inputs

    data = scenario.to_dict()
    rows = scenario_inputs(scenario)
    out: list[Assumption] = []
    skipped: dict[str, str] = {}
    varied_groups: set[frozenset[str]] = set()
    for path, origin, source in zip(rows["input"], rows["origin"], rows["source"], strict=True):
        # Behaviour of the world (lags, cadence, response, costs) is assumed even when given.
        assumed = bool(BEHAVIOUR.match(path)) or (
            origin != "unknown" and is_assumption(origin, source)
        )
        if not assumed or _FIXED.match(path):
            continue
        value = _get(data, path)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if (m := _KEY_AGE.fullmatch(path)) and scenario.attacks[int(m[1])].name != _STOLEN_KEY:
            continue  # only a stolen key has an age: the field means nothing to other attacks
        idle = _idle(scenario, data, path)
        if idle is not None:
            skipped[path] = idle
            continue
        coupled = _siblings(data, path)
        if coupled is None:
            skipped[path] = "the only member of a group that sums to 1"
            continue
        group = frozenset([path, *(p for p, _ in coupled)])
        if len(group) == 2 and group in varied_groups:
            continue  # one share of a pair says everything about the other
        varied_groups.add(group)
        keys = path.split(".")[-2:]  # attack_probability_per_day.<attack> is a share too
        share = any(k in key for key in keys for k in _SHARE_KEYS) and 0 <= value <= 1
        integer = isinstance(value, int)
        span = _span(value, share, integer)
        if isinstance(span, str):
            skipped[path] = span
            continue
        label = describe(data, path)
        out.append(Assumption(path, value, *span, share, integer, origin, coupled, label))
    return out, skipped
