"""The host shorthand: ``ca: <catalogue name>``, ``profile``, ``tool``, ``key_type``.

A pure resolve step, run before validation (:meth:`simlib.model.scenario.Scenario`): a host that
names a catalogue CA (``simlib.world.catalogue()``) not declared under ``cas``, or gives any of
``profile``, ``tool`` or ``key_type``, is rewritten into the ordinary schema:

* a ``cas`` entry for the catalogue CA (one per ``(ca, key_type, profile)``; the first keeps the
  catalogue name, others are named ``<ca> <key_type> <profile>``): the intermediates the CA
  issues from for that key type and profile over the horizon (catalogue names, with their real
  expiry), the root they chain to at ``start``, the catalogue's ``selection``, and the profile's
  validity schedule (``data/world/validity-caps.csv``); the dated active sets become
  ``intermediate_change`` events. Past the CA's last published set the sets come from its
  documented practice (:func:`simlib.world.extrapolation.extend`): generated stand-in
  intermediates named ``<ca> extrapolated RSA 2027a``, each an assumption (a
  :class:`~simlib.errors.ScenarioWarning` says so); a set that runs out inside the horizon
  is an error here, not at ``run``. An extrapolated root generation becomes its own ``cas``
  entry, cross-signed by the previous one, and the hosts move to it with a ``ca_migration`` at
  their next renewal (:mod:`simlib.model.rootgens`); a CA that creates no new intermediates
  (``new_intermediates: none``) keeps its set, with a warning;
* a catalogue CA named only by a strategy's backup (``ca:<name>``, ``intermediates:<name>``),
  neither declared nor served by a host, becomes a ``cas`` entry the same way (RSA, the CA's
  default profile; a CA issuing nothing on ``start`` gets its first root and the intermediates
  the catalogue lists under it) — real certificates no host uses (:func:`resolve_pinned_cas`);
* the host's ``key`` from ``key_type``, and its ``key_policy`` and renewal rule from the tool's
  defaults on its first issue day (``start``, or an earlier ``first_issued``:
  ``simlib.world.defaults_on``); a default that changes later, up to ``end``, becomes a
  ``policy_schedule`` step on its date (the profile's lifetime schedule likewise).

The resolved scenario has none of the shorthand fields left, so resolving it again changes
nothing. :mod:`simlib.world` is read lazily, only when a scenario uses the shorthand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from simlib.model.catalogue_ca import LEAF_KEY, OTHER_VALIDITY_DAYS, algorithm_of, ca_entry
from simlib.model.tooldefaults import fit_to_lifetimes, tool_fields

__all__ = ["SHORTHAND", "resolve_hosts", "resolve_pinned_cas"]

SHORTHAND = ("profile", "tool", "key_type")


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _uses_shorthand(host: Any, declared: set[str], known: tuple[str, ...] | None) -> bool:
    """Shorthand fields, or a catalogue CA not declared (``known`` None: any undeclared CA may be
    one; checked again once the catalogue is read)."""
    if not isinstance(host, Mapping):
        return False
    if any(k in host for k in SHORTHAND):
        return True
    ca = host.get("ca")
    return isinstance(ca, str) and ca not in declared and (known is None or ca in known)


def _choice(value: Any, valid: tuple[str, ...], where: str, what: str) -> str:
    if value not in valid:
        raise ValueError(f"{where}: unknown {what} {value!r}; valid: {', '.join(valid)}")
    return str(value)


def _first_issue(hosts: list[Any], ca: str) -> dt.date | None:
    """The earliest ``first_issued`` of the hosts naming catalogue CA ``ca``."""
    days = [
        d
        for h in hosts
        if isinstance(h, Mapping) and h.get("ca") == ca
        for d in [_date(h.get("first_issued"))]
        if d is not None
    ]
    return min(days, default=None)


def _cap_steps(data: Mapping[str, Any]) -> list[tuple[dt.date, int]]:
    """The scenario's validity cap as (from, max days) steps (``Scenario.validity_cap_steps``,
    read from the unvalidated mapping: an unreadable step is left to validation)."""
    cap = data.get("validity_cap", "cabf")
    if cap == "cabf":
        from simlib.world.caps import schedule_steps

        return [(s.effective_date, s.max_days) for s in schedule_steps("cabf")]
    steps = []
    for step in cap if isinstance(cap, list) else []:
        day = _date(step.get("from")) if isinstance(step, Mapping) else None
        days = step.get("max_days") if isinstance(step, Mapping) else None
        if day is not None and isinstance(days, int):
            steps.append((day, days))
    return sorted(steps)


def _lifetimes(
    data: Mapping[str, Any],
    ca: Mapping[str, Any],
    host: Mapping[str, Any],
    since: dt.date,
    end: dt.date,
) -> list[tuple[dt.date, int]]:
    """(day, lifetime) at ``since`` and at each later change up to ``end``: the host's or CA's
    validity schedule capped by the validity cap (``simlib.server.lifetimes.lifetime_days``)."""
    from simlib.model.server import CASpec  # the schema's default, not a copy of it

    own = host.get("validity_days")
    default = CASpec.model_fields["validity_days"].default
    validity = [(since, own if isinstance(own, int) else ca.get("validity_days", default))]
    if not isinstance(own, int):
        validity += sorted(
            (d, s["days"])
            for s in ca.get("validity_schedule") or []
            if isinstance(s, Mapping) and (d := _date(s.get("from"))) is not None
            and isinstance(s.get("days"), int)
        )  # fmt: skip
    caps = _cap_steps(data)
    days = sorted({since} | {d for d, _ in validity + caps if since < d <= end})
    out: list[tuple[dt.date, int]] = []
    for day in days:
        life = next(n for d, n in reversed(validity) if d <= day)
        cap = next((n for d, n in reversed(caps) if d <= day), None)
        life = min(life, cap) if cap is not None else life
        if not out or out[-1][1] != life:
            out.append((day, life))
    return out


def resolve_hosts(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """``data`` with every shorthand host rewritten (unchanged if no host uses the shorthand)."""
    hosts, cas = data.get("hosts"), data.get("cas", [])
    start, end = _date(data.get("start")), _date(data.get("end"))
    if not isinstance(hosts, list) or not isinstance(cas, list) or start is None or end is None:
        return data
    declared = {c.get("name") for c in cas if isinstance(c, Mapping)}
    if not any(_uses_shorthand(h, declared, None) for h in hosts):
        return data  # nothing to do: do not even read the catalogue
    from simlib.world import catalogue
    from simlib.world.active_sets import KEY_TYPES
    from simlib.world.caps import PROFILES, default_profile
    from simlib.world.tooling import TOOLS

    known = tuple(catalogue().cas)
    if not any(_uses_shorthand(h, declared, known) for h in hosts) or (
        "cas" not in data
        and any(isinstance(h, Mapping) and h.get("ca") not in known for h in hosts)
    ):
        return data  # not the shorthand: let validation report what is wrong
    new_cas, new_events, new_hosts = list(cas), [], []
    made: dict[tuple[str, str, str], str] = {}
    generations: dict[str, list[Any]] = {}  # per entry: (day, CA) of each later root generation
    moved: dict[str, list[Any]] = {}  # per entry: the hosts on it
    for i, host in enumerate(hosts):
        if not _uses_shorthand(host, declared, known):
            new_hosts.append(host)
            continue
        where = f"hosts[{i}]"
        host = dict(host)
        ca = host.get("ca")
        if ca in declared and ca not in known:
            for k in SHORTHAND:
                if k in host:
                    raise ValueError(
                        f"{where}.{k}: needs a catalogue CA (ca: {', '.join(sorted(known))}), "
                        f"but {ca!r} is declared under cas"
                    )
        if ca not in known:
            raise ValueError(
                f"{where}.ca: unknown CA {ca!r}; valid: a name under cas "
                f"({', '.join(sorted(str(d) for d in declared)) or 'none'}) or a catalogue CA "
                f"({', '.join(known)})"
            )
        profiles = tuple(PROFILES.get(ca, ())) or ("default",)
        profile = _choice(
            host.pop("profile", default_profile(ca) or "default"),
            profiles,
            f"{where}.profile",
            f"profile for {ca}",
        )
        key_type = _choice(host.pop("key_type", "rsa"), KEY_TYPES, f"{where}.key_type", "key_type")
        tool = host.pop("tool", None)
        if ca in declared:
            name = ca  # the user's own cas entry wins; the shorthand only sets the host's fields
        elif (ca, key_type, profile) in made:
            name = made[(ca, key_type, profile)]
        else:
            name = f"{ca} {key_type} {profile}" if ca in made.values() else ca
            spec, events, later, gens = ca_entry(
                name, ca, key_type, profile, start, end, where, _first_issue(hosts, ca)
            )
            made[(ca, key_type, profile)] = name
            new_cas += [spec, *later]
            new_events.extend(events)
            generations[name] = gens
        moved.setdefault(name, []).append(host.get("name"))
        host["ca"] = name
        host.setdefault("key", LEAF_KEY[key_type])
        if tool is not None:
            tool = _choice(tool, TOOLS, f"{where}.tool", "tool")
            since = _date(host.get("first_issued"))
            since = min(start, since) if since is not None else start
            for k, v in tool_fields(tool, since, end).items():
                host.setdefault(k, v)
            if "renew_before_days" in host and "renew_at_fraction" in host:
                host.pop(
                    "renew_at_fraction" if "renew_before_days" in hosts[i] else "renew_before_days"
                )
            if "policy_schedule" not in hosts[i]:  # the user's own schedule is theirs
                entry = next(c for c in new_cas if isinstance(c, Mapping) and c.get("name") == name)
                own = "renew_before_days" in hosts[i] or "renew_at_fraction" in hosts[i]
                lifetimes = _lifetimes(data, entry, host, since, end)
                fit_to_lifetimes(host, lifetimes, tool, where, own)
        new_hosts.append(host)
    # the hosts of an entry follow its root generations, each at its next renewal from then on
    new_events += [
        {
            "type": "ca_migration",
            "date": day,
            "to": to,
            "hosts": moved[name],
            "when": "next_renewal",
        }
        for name, gens in generations.items()
        for day, to in gens
    ]
    events = data.get("events") or []
    return {
        **data,
        "cas": new_cas,
        "hosts": new_hosts,
        "events": [*new_events, *events] if isinstance(events, list) else events,
    }


def _backup_refs(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(where, CA name) of every ``ca:``/``intermediates:`` backup of the scenario's strategies
    and of an inline ``incident_response.fix_strategy``."""
    found: list[tuple[str, Any]] = []
    strategies = data.get("strategies")
    if isinstance(strategies, list):
        found += [(f"strategies[{i}]", st) for i, st in enumerate(strategies)]
    ir = data.get("incident_response")
    if isinstance(ir, Mapping) and isinstance(ir.get("fix_strategy"), Mapping):
        found.append(("incident_response.fix_strategy", ir["fix_strategy"]))
    out = []
    for where, st in found:
        backup = st.get("backup") if isinstance(st, Mapping) else None
        for j, entry in enumerate(backup if isinstance(backup, list) else []):
            kind, sep, ref = entry.partition(":") if isinstance(entry, str) else ("", "", "")
            if sep and ref and kind in ("ca", "intermediates"):
                out.append((f"{where}.backup[{j}]", ref))
    return out


def _pinnedca_entry(
    ca: str, start: dt.date, end: dt.date, where: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A ``cas`` entry for a catalogue CA that only pins name: as a host on it would see it
    (RSA, default profile); if it issues nothing on ``start``, its first root and the
    intermediates the catalogue lists under that root."""
    from simlib.world import catalogue
    from simlib.world.caps import default_profile

    try:  # a backup pins the CA as it is at start: later root generations are not added
        spec, events, _later, _gens = ca_entry(
            ca, ca, "rsa", default_profile(ca) or "default", start, end, where
        )
        return spec, [e for e in events if e["ca"] == ca]
    except ValueError:
        pass
    cat = catalogue()
    root = cat.certificate(cat.ca(ca).roots[0])
    spec: dict[str, Any] = {
        "name": ca,
        "key": algorithm_of(root, root.key_type),
        "root": root.name,
        "selection": cat.ca(ca).selection,
        "validity_days": OTHER_VALIDITY_DAYS,
    }
    if root.not_after is not None:
        spec["root_not_after"] = root.not_after.date()
    ints = [cat.certificate(n) for n in cat.ca(ca).intermediates]
    spec["intermediates"] = [
        {
            "name": c.name,
            "key": algorithm_of(c, c.key_type),
            **({"not_after": c.not_after.date()} if c.not_after is not None else {}),
        }
        for c in ints
        if c.issuer == root.name
    ]
    if not spec["intermediates"]:
        del spec["intermediates"]  # the default stand-in "<ca> Int 1"
    return spec, []


def resolve_pinned_cas(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """``data`` with every catalogue CA that a backup names, but that no ``cas`` entry declares,
    added to ``cas`` (run after :func:`resolve_hosts`; unchanged if there is none)."""
    cas = data.get("cas", [])
    start, end = _date(data.get("start")), _date(data.get("end"))
    if not isinstance(cas, list) or start is None or end is None:
        return data
    declared = {c.get("name") for c in cas if isinstance(c, Mapping)}
    missing = [(w, n) for w, n in _backup_refs(data) if n not in declared]
    if not missing:
        return data
    from simlib.world import catalogue

    known = tuple(catalogue().cas)
    new_cas, new_events = list(cas), []
    for where, name in missing:
        if name in declared:
            continue
        if name not in known:
            continue  # reported by the cross-field checks, once the fields themselves are valid
        spec, events = _pinnedca_entry(name, start, end, where)
        new_cas.append(spec)
        new_events.extend(events)
        declared.add(name)
    events = data.get("events") or []
    return {
        **data,
        "cas": new_cas,
        "events": [*new_events, *events] if isinstance(events, list) else events,
    }
