"""Root generations the host shorthand meets past a CA's published roadmap.

A scenario CA has one root. When a catalogue CA's extrapolated active sets move to
intermediates under a new root generation (:mod:`simlib.world.standins`: a stand-in root
cross-signed by the previous one), :func:`split` cuts the dated sets where the root changes and
:func:`generation_specs` makes each later generation its own ``cas`` entry: that root, its
intermediates, ``cross_signed_by`` the previous generation's entry until the cross-sign
expires (the cross-certificate is served, so clients trusting only the old root still build a
path). :mod:`simlib.model.realworld` then moves the CA's hosts there with a ``ca_migration``
at their next renewal on the generation's first day, so a root pin on the old root sees the
change exactly when a real one would: at the first renewal under the new root.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = ["Generation", "generation_specs", "split"]

Sets = list[tuple[dt.date, tuple[str, ...]]]
#: (first day, scenario CA name) of each later root generation of one shorthand entry
Generation = tuple[dt.date, str]


def split(ext: Any, sets: Sets) -> list[Sets]:
    """``sets`` cut where their intermediates move to an extrapolated root generation. A
    published root change (Let's Encrypt's X1 -> Root YR, served through the X1 cross-sign)
    stays within one entry, as the catalogue's single-root simplification has it."""
    runs: list[Sets] = []
    root = None
    for day, members in sets:
        issuer = ext.certificate(members[0]).issuer
        new = ext.certificate(issuer).assumed and issuer != root
        if not runs or new:
            runs.append([])
            root = issuer
        runs[-1].append((day, members))
    return runs


def _name(base: str, ca: str, root: Any, taken: set[str]) -> str:
    name = root.name if base == ca else f"{base} {root.not_before.year}"
    while name in taken:  # never expected; keeps names unique whatever the catalogue says
        name += "+"
    return name


def generation_specs(
    base: str,
    ca: str,
    ext: Any,
    runs: list[Sets],
    template: dict[str, Any],
    start: dt.date,
    end: dt.date,
    algorithm: Any,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[Generation]]:
    """One ``cas`` entry per run after the first (``template``: the first entry, for the
    selection and validity fields), their ``intermediate_change`` events and the day each
    generation starts issuing."""
    specs: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    gens: list[Generation] = []
    previous, taken = base, {base}
    for run in runs:
        first = max(start, run[0][0])
        inter = ext.certificate(run[0][1][0])
        root = ext.certificate(inter.issuer)
        name = _name(base, ca, root, taken)
        taken.add(name)
        names = list(dict.fromkeys(n for _d, members in run for n in members))
        names += [
            c.name
            for c in ext.certificates
            if c.role == "intermediate"
            and c.name not in names
            and c.issuer == root.subject
            and c.key_type == inter.key_type
            and c.announced is not None
            and c.announced <= end
            and (c.active_from is None or c.active_from > first)
        ]
        intermediates = []
        for n in names:
            cert = ext.certificate(n)
            entry: dict[str, Any] = {"name": n, "key": algorithm(cert, cert.key_type)}
            if cert.not_after is not None:
                entry["not_after"] = cert.not_after.date()
            if cert.announced is not None:
                entry["announced"] = cert.announced
            intermediates.append(entry)
        days = template.get("validity_days")
        for step in template.get("validity_schedule", []):
            if step["from"] <= first:
                days = step["days"]  # the lifetime in force when the generation starts
        spec: dict[str, Any] = {
            "selection": template.get("selection", "fixed"),
            "validity_days": days,
            "name": name,
            "key": algorithm(root, root.key_type),
            "root": root.name,
            "intermediates": intermediates,
        }
        schedule = [s for s in template.get("validity_schedule", []) if s["from"] > first]
        if schedule:
            spec["validity_schedule"] = schedule
        if root.not_after is not None:
            spec["root_not_after"] = root.not_after.date()
        cross = next(
            (c for c in ext.certificates if c.role == "cross" and c.subject == root.name), None
        )
        if cross is not None and cross.not_after is not None:
            spec["cross_signed_by"] = {"ca": previous, "until": cross.not_after.date()}
        specs.append(spec)
        events += [
            {"type": "intermediate_change", "date": max(start, d), "ca": name, "active": list(m)}
            for d, m in run
        ]
        gens.append((first, name))
        previous = name
    return specs, events, gens
