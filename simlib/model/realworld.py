"""The host shorthand: ``ca: <catalogue name>``, ``profile``, ``tool``, ``key_type``.

A pure resolve step, run before validation (:meth:`simlib.model.scenario.Scenario`): a host that
names a catalogue CA (``simlib.world.catalogue()``) not declared under ``cas``, or gives any of
``profile``, ``tool`` or ``key_type``, is rewritten into the ordinary schema:

* a ``cas`` entry for the catalogue CA (one per ``(ca, key_type, profile)``; the first keeps the
  catalogue name, others are named ``<ca> <key_type> <profile>``): the intermediates the CA
  issues from for that key type and profile over the horizon (catalogue names, with their real
  expiry), the root they chain to at ``start``, the catalogue's ``selection``, and the profile's
  validity schedule (``data/world/validity-caps.csv``); the dated active sets become
  ``intermediate_change`` events;
* a catalogue CA named only by a strategy's backup (``ca:<name>``, ``intermediates:<name>``),
  neither declared nor served by a host, becomes a ``cas`` entry the same way (RSA, the CA's
  default profile; a CA issuing nothing on ``start`` gets its first root and the intermediates
  the catalogue lists under it) — real certificates no host uses (:func:`resolve_pinned_cas`);
* the host's ``key`` from ``key_type``, and its ``key_policy`` and renewal rule from the tool's
  defaults on ``start`` (``simlib.world.defaults_on``); a default that changes inside the horizon
  becomes a ``policy_schedule`` step on its date.

The resolved scenario has none of the shorthand fields left, so resolving it again changes
nothing. :mod:`simlib.world` is read lazily, only when a scenario uses the shorthand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

__all__ = ["KEY_TYPES", "PROFILES", "SHORTHAND", "TOOLS", "resolve_hosts", "resolve_pinned_cas"]

SHORTHAND = ("profile", "tool", "key_type")
KEY_TYPES = ("rsa", "ecdsa")
TOOLS = ("certbot", "cert-manager", "caddy", "acm")
#: catalogue CA -> profile -> validity-cap schedule (None: the scenario's ``validity_cap`` only)
PROFILES: dict[str, dict[str, str | None]] = {
    "letsencrypt": {
        "classic": "letsencrypt-classic",
        "tlsserver": "letsencrypt-tlsserver",
        "shortlived": "letsencrypt-shortlived",
    },
    "amazon": {"acm": "acm"},
}
DEFAULT_PROFILE = {"letsencrypt": "classic", "amazon": "acm"}
#: lifetime requested from CAs without a profile schedule (capped by ``validity_cap``)
OTHER_VALIDITY_DAYS = 398
_LEAF_KEY = {"rsa": "rsa-2048", "ecdsa": "ec-p256"}


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


def _algorithm(cert: Any, key_type: str) -> str:
    """The key algorithm of a catalogue certificate (from its file when there is one)."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    path = cert.path
    if path is not None:
        from simlib.world.realcerts import read_real_cert

        key = read_real_cert(path.resolve()).certificate.public_key()
        if isinstance(key, rsa.RSAPublicKey) and key.key_size in (2048, 3072, 4096):
            return f"rsa-{key.key_size}"
        if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in (
            "secp256r1",
            "secp384r1",
        ):
            return "ec-p256" if key.curve.name == "secp256r1" else "ec-p384"
    return _LEAF_KEY[key_type]


def _active_sets(
    ca: str, key_type: str, profile: str, start: dt.date, end: dt.date, where: str
) -> list[tuple[dt.date, tuple[str, ...]]]:
    """The dated active sets over [start, end]: (first day, intermediates), changes only."""
    from simlib.world import active_intermediates
    from simlib.world import ca as world_ca

    days = [start, *sorted({s.start for s in world_ca(ca).active_sets if start < s.start <= end})]
    out: list[tuple[dt.date, tuple[str, ...]]] = []
    for day in days:
        names = active_intermediates(ca, day, key_type, profile)
        if not names:
            raise ValueError(
                f"{where}: {ca} issues no {key_type} leaves on {day} (profile {profile})"
            )
        if not out or out[-1][1] != names:
            out.append((day, names))
    return out


def _ca_entry(
    name: str, ca: str, key_type: str, profile: str, start: dt.date, end: dt.date, where: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from simlib.world import cap_on, catalogue, schedules
    from simlib.world.caps import load_caps

    cat = catalogue()
    sets = _active_sets(ca, key_type, profile, start, end, where)
    names = list(dict.fromkeys(n for _day, members in sets for n in members))
    root = cat.certificate(cat.certificate(sets[0][1][0]).issuer)
    # intermediates published ahead of use (same root and key type) are pinnable before they issue
    first = cat.certificate(sets[0][1][0])
    names += [
        n
        for n in cat.ca(ca).intermediates
        if n not in names
        and (c := cat.certificate(n)).announced is not None
        and c.announced <= end
        and c.issuer == first.issuer
        and c.key_type == first.key_type
        and (c.active_from is None or c.active_from > start)  # not retired before the start
    ]
    intermediates = []
    for n in names:
        cert = cat.certificate(n)
        entry: dict[str, Any] = {"name": n, "key": _algorithm(cert, key_type)}
        if cert.not_after is not None:
            entry["not_after"] = cert.not_after.date()
        if cert.announced is not None:
            entry["announced"] = cert.announced
        intermediates.append(entry)
    spec: dict[str, Any] = {
        "name": name,
        "key": _algorithm(root, root.key_type),
        "root": root.name,
        "intermediates": intermediates,
        "selection": cat.ca(ca).selection,
    }
    if root.not_after is not None:
        spec["root_not_after"] = root.not_after.date()
    schedule = PROFILES.get(ca, {}).get(profile)
    if schedule is None or schedule not in schedules():
        spec["validity_days"] = OTHER_VALIDITY_DAYS
    else:
        steps = load_caps()[schedule]
        spec["validity_days"] = cap_on(schedule, start) or steps[0].max_days
        spec["validity_schedule"] = [
            {"from": s.effective_date, "days": s.max_days}
            for s in steps
            if start < s.effective_date <= end
        ]
    events = [
        {"type": "intermediate_change", "date": day, "ca": name, "active": list(members)}
        for day, members in sets
    ]
    return spec, events


def _policy(tool: str, day: dt.date) -> dict[str, Any]:
    from simlib.world import defaults_on

    d = defaults_on("aws-acm" if tool == "acm" else tool, day)
    out: dict[str, Any] = {"key_policy": "reuse" if d.reuses_key else "rotate"}
    if d.renew_at_fraction is not None:
        out["renew_at_fraction"] = d.renew_at_fraction
    elif d.renew_before_days is not None:
        out["renew_before_days"] = d.renew_before_days
    return out


def _tool_fields(tool: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    from simlib.world.tooling import ALIASES, load_tooling

    facts = load_tooling()[ALIASES.get(tool, tool)]
    fields = _policy(tool, start)
    steps, current = [], fields
    dates = sorted(
        {f.effective_date for f in facts if f.effective_date and start < f.effective_date <= end}
    )
    for day in dates:
        now = _policy(tool, day)
        if now == current:
            continue
        step: dict[str, Any] = {"from": day}
        if now["key_policy"] != current["key_policy"]:
            step["key_policy"] = now["key_policy"]
        renewal = {k: v for k, v in now.items() if k != "key_policy"}
        if renewal != {k: v for k, v in current.items() if k != "key_policy"}:
            step.update(renewal)
        steps.append(step)
        current = now
    if steps:
        fields["policy_schedule"] = steps
    return fields


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

    known = tuple(catalogue().cas)
    if not any(_uses_shorthand(h, declared, known) for h in hosts) or (
        "cas" not in data
        and any(isinstance(h, Mapping) and h.get("ca") not in known for h in hosts)
    ):
        return data  # not the shorthand: let validation report what is wrong
    new_cas, new_events, new_hosts = list(cas), [], []
    made: dict[tuple[str, str, str], str] = {}
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
        profiles = tuple(PROFILES.get(ca, {"default": None}))
        profile = _choice(
            host.pop("profile", DEFAULT_PROFILE.get(ca, "default")),
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
            spec, events = _ca_entry(name, ca, key_type, profile, start, end, where)
            made[(ca, key_type, profile)] = name
            new_cas.append(spec)
            new_events.extend(events)
        host["ca"] = name
        host.setdefault("key", _LEAF_KEY[key_type])
        if tool is not None:
            tool = _choice(tool, TOOLS, f"{where}.tool", "tool")
            for k, v in _tool_fields(tool, start, end).items():
                host.setdefault(k, v)
            if "renew_before_days" in host and "renew_at_fraction" in host:
                host.pop(
                    "renew_at_fraction" if "renew_before_days" in hosts[i] else "renew_before_days"
                )
        new_hosts.append(host)
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


def _pinned_ca_entry(
    ca: str, start: dt.date, end: dt.date, where: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A ``cas`` entry for a catalogue CA that only pins name: as a host on it would see it
    (RSA, default profile); if it issues nothing on ``start``, its first root and the
    intermediates the catalogue lists under that root."""
    from simlib.world import catalogue

    try:
        return _ca_entry(ca, ca, "rsa", DEFAULT_PROFILE.get(ca, "default"), start, end, where)
    except ValueError:
        pass
    cat = catalogue()
    root = cat.certificate(cat.ca(ca).roots[0])
    spec: dict[str, Any] = {
        "name": ca,
        "key": _algorithm(root, root.key_type),
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
            "key": _algorithm(c, c.key_type),
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
        spec, events = _pinned_ca_entry(name, start, end, where)
        new_cas.append(spec)
        new_events.extend(events)
        declared.add(name)
    events = data.get("events") or []
    return {
        **data,
        "cas": new_cas,
        "events": [*new_events, *events] if isinstance(events, list) else events,
    }
