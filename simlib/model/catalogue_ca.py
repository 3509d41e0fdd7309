"""A catalogue CA as a scenario ``cas`` entry (the host shorthand's resolve step,
:mod:`simlib.model.realworld`): the intermediates it issues from for a key type and profile over
the horizon (published, then extrapolated from its practice), the root they chain to, its
selection and the profile's validity schedule; the dated active sets become
``intermediate_change`` events (sets before ``start`` the intermediates' own activity dates).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

#: lifetime requested from CAs without a profile schedule (capped by ``validity_cap``)
OTHER_VALIDITY_DAYS = 398
#: the leaf key a host of each key type gets (unless it names one)
LEAF_KEY = {"rsa": "rsa-2048", "ecdsa": "ec-p256"}


def algorithm_of(cert: Any, key_type: str) -> str:
    """The key algorithm of a catalogue certificate (from its file when there is one)."""
    if cert.path is None and cert.key_algorithm is not None:
        return str(cert.key_algorithm)
    path = cert.path
    if path is not None:
        from simlib.pki.keys import key_algorithm
        from simlib.world.realcerts import read_real_cert

        found = key_algorithm(read_real_cert(path.resolve()).certificate)
        if found is not None:
            return found
    return LEAF_KEY[key_type]


def ca_entry(
    name: str,
    ca: str,
    key_type: str,
    profile: str,
    start: dt.date,
    end: dt.date,
    where: str,
    first_issue: dt.date | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], list[Any]]:
    """The ``cas`` entry, its events, the entries of later root generations and the day each
    starts issuing (``model/rootgens.py``)."""
    from simlib.errors import ScenarioError
    from simlib.model.rootgens import generation_specs, split
    from simlib.world import cap_on, catalogue, schedules
    from simlib.world.caps import load_caps, profile_schedule
    from simlib.world.extrapolation import extend

    # from the earliest issue day (a host's first_issued may precede start): a certificate
    # issued before start gets the intermediates and lifetime in force on its own issue day
    since = min(start, first_issue) if first_issue is not None else start
    try:  # the active sets over the horizon, or why run could not issue from them
        cat, ext = catalogue(), extend(ca, end)
        sets = ext.schedule(key_type, profile, since, end)
    except ScenarioError as exc:
        raise ValueError(f"{where}: {ca}: {exc.message}") from None
    if ext.exited and end > (ext.last_published or end):
        _warn_exited(where, ext)
    # a later root generation is its own cas entry (model/rootgens.py); this one keeps the first
    runs = split(ext, sets)
    later_names = [n for run in runs[1:] for _d, members in run for n in members]
    sets = runs[0]
    names = list(dict.fromkeys(n for _day, members in sets for n in members))
    root = ext.certificate(ext.certificate(sets[0][1][0]).issuer)
    # intermediates published ahead of use (same root and key type) are pinnable before they issue
    first = ext.certificate(sets[0][1][0])
    candidates = (*cat.ca(ca).intermediates, *(c.name for c in ext.certificates))
    names += [
        n
        for n in candidates
        if n not in names
        and (c := ext.certificate(n)).announced is not None
        and c.announced <= end
        and c.issuer == first.issuer
        and c.key_type == first.key_type
        and (c.active_from is None or c.active_from > since)  # not retired before the start
        and (c.not_after is None or c.not_after.date() >= since)  # nor expired
    ]
    assumed = [n for n in dict.fromkeys([*names, *later_names]) if ext.certificate(n).assumed]
    if assumed:
        _warn_extrapolated(where, ca, ext, assumed, since)
    # Sets dated before start cannot be events (events lie in the horizon). Before its first
    # event the calendar reads each intermediate's own active_from/active_until, so the sets
    # before start become those, and the set in force on start the first event.
    pre = [(d, m) for d, m in sets if d < start]
    sets = [(d, m) for d, m in sets if d >= start]
    if pre and (not sets or sets[0][0] > start):
        sets.insert(0, (start, pre[-1][1]))
    windows = _windows(pre, start)
    intermediates = []
    for n in names:
        cert = ext.certificate(n)
        entry: dict[str, Any] = {"name": n, "key": algorithm_of(cert, key_type)}
        if pre:
            first_day, until = windows.get(n, (start, None))
            if first_day > since:
                entry["active_from"] = first_day
            if until is not None:
                entry["active_until"] = until
        if cert.not_after is not None:
            entry["not_after"] = cert.not_after.date()
        if cert.announced is not None:
            entry["announced"] = cert.announced
        intermediates.append(entry)
    spec: dict[str, Any] = {
        "name": name,
        "key": algorithm_of(root, root.key_type),
        "root": root.name,
        "intermediates": intermediates,
        "selection": cat.ca(ca).selection,
    }
    if root.not_after is not None:
        spec["root_not_after"] = root.not_after.date()
    schedule = profile_schedule(ca, profile)
    if schedule is None or schedule not in schedules():
        spec["validity_days"] = OTHER_VALIDITY_DAYS
    else:
        steps = load_caps()[schedule]
        if steps and since < steps[0].effective_date:
            _warn_early_profile(where, ca, profile, steps[0].effective_date, since)
        spec["validity_days"] = cap_on(schedule, since) or steps[0].max_days
        spec["validity_schedule"] = [
            {"from": s.effective_date, "days": s.max_days}
            for s in steps
            if since < s.effective_date <= end
        ]
    events = [
        {"type": "intermediate_change", "date": day, "ca": name, "active": list(members)}
        for day, members in sets
    ]
    later, later_events, gens = generation_specs(
        name, ca, ext, runs[1:], spec, start, end, algorithm_of
    )
    return spec, [*events, *later_events], later, gens


def _windows(
    sets: list[tuple[dt.date, tuple[str, ...]]], start: dt.date
) -> dict[str, tuple[dt.date, dt.date | None]]:
    """Per intermediate of the dated sets before ``start``: the first day it is in one and the
    day after the last (``None``: still in the set on ``start``)."""
    out: dict[str, tuple[dt.date, dt.date | None]] = {}
    for k, (day, members) in enumerate(sets):
        ends = sets[k + 1][0] if k + 1 < len(sets) else None
        for n in members:
            first = out.get(n, (day, None))[0]
            out[n] = (first, ends)
    return out


def _warn_early_profile(where: str, ca: str, profile: str, first: dt.date, since: dt.date) -> None:
    import warnings

    from simlib.errors import ScenarioWarning

    warnings.warn(
        f"{where}: {ca} profile {profile} is documented from {first}; certificates issued from "
        f"{since} are given its first lifetime, as if it had been available then: an assumption",
        ScenarioWarning,
        stacklevel=2,
    )


def _warn_exited(where: str, ext: Any) -> None:
    import warnings

    from simlib.errors import ScenarioWarning

    warnings.warn(
        f"{where}: {ext.exited}: its last published set (from {ext.last_published}) is kept "
        "as is over the whole horizon, nothing is extrapolated",
        ScenarioWarning,
        stacklevel=2,
    )


def _warn_extrapolated(where: str, ca: str, ext: Any, assumed: list[str], since: dt.date) -> None:
    import warnings

    from simlib.errors import ScenarioWarning

    shown = assumed[0] + (", …" if len(assumed) > 1 else "")
    warnings.warn(
        f"{where}: {ca} past its published roadmap (last set {ext.last_published}): "
        f"{len(assumed)} intermediate(s) extrapolated from its practice ({shown}), issuing from "
        f"{max(ext.extrapolated_from, since)}: assumptions",
        ScenarioWarning,
        stacklevel=2,
    )
