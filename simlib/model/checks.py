"""Cross-field checks that need the whole scenario (names that refer to each other)."""

from __future__ import annotations

from collections.abc import Mapping

from simlib._dates import add_years
from simlib.errors import clip
from simlib.model.base import (
    MAX_TRUST_CHANGES,
    MIN_DATE,
)
from simlib.model.budget import budget_problem
from simlib.model.effects import AnchorChange, Reference
from simlib.model.horizon import horizon_gaps
from simlib.model.scenario import Scenario
from simlib.model.server import CASpec
from simlib.model.strategies import CAIntermediates, CARoot, NextKey, StrategySpec
from simlib.model.tooldefaults import too_short


def _semantic_checks(sc: Scenario) -> None:
    """Checks that need the whole scenario; raise (where, message)."""

    def fail(where: str, message: str) -> None:
        raise _SemanticError(where, message)

    if sc.end < sc.start:
        fail("end", "must not be before start")
    if sc.days > 366 * 40:
        fail("end", "simulations are limited to 40 years")
    ca_names = [c.name for c in sc.cas]
    i = _first_duplicate(ca_names)
    if i is not None:
        fail(f"cas[{i}].name", f"duplicate CA name '{clip(ca_names[i])}'")
    cas = {c.name: c for c in sc.cas}
    # CA certificates are valid from 5 years before start (never before 1950): an expiry before
    # that is a certificate that ends before it begins (server/certificates.py, _ca_window).
    ca_from = max(add_years(sc.start, -5), MIN_DATE)
    for i, ca in enumerate(sc.cas):
        expiries = [("root_not_after", ca.root_not_after)]
        expiries += [
            (f"intermediates[{j}].not_after", x.not_after) for j, x in enumerate(ca.intermediates)
        ]
        if ca.cross_signed_by is not None:
            expiries.append(("cross_signed_by.until", ca.cross_signed_by.until))
        for field, day in expiries:
            if day is not None and day < ca_from:
                fail(
                    f"cas[{i}].{field}",
                    f"{day} is before the CA certificates begin ({ca_from}, 5 years before start): "
                    "a certificate cannot expire before it is valid",
                )
        if ca.cross_signed_by is not None and ca.cross_signed_by.ca not in cas:
            fail(f"cas[{i}].cross_signed_by.ca", f"unknown CA '{clip(ca.cross_signed_by.ca)}'")
        if ca.cross_signed_by is not None and ca.cross_signed_by.ca == ca.name:
            fail(f"cas[{i}].cross_signed_by.ca", "a CA cannot cross-sign itself")
        for j, inter in enumerate(ca.intermediates):
            if inter.active_from and inter.active_until and inter.active_until <= inter.active_from:
                fail(f"cas[{i}].intermediates[{j}].active_until", "must be after active_from")
    if not sc.hosts:
        fail("hosts", "at least one host is needed")
    host_names = [h.name for h in sc.hosts]
    known_hosts = set(host_names)
    dup = _first_duplicate(host_names)  # found in one pass, reported in its turn
    for i, h in enumerate(sc.hosts):
        if i == dup:
            fail(f"hosts[{i}].name", f"duplicate host '{clip(h.name)}'")
        if h.ca not in cas:
            fail(f"hosts[{i}].ca", _unknown_ca(h.ca, ca_names))
        if h.first_issued is not None and h.first_issued > sc.start:
            fail(f"hosts[{i}].first_issued", "must be on or before start")
        validity = h.validity_days or cas[h.ca].validity_days
        if h.renew_before_days is not None and h.renew_before_days >= validity:
            fail(
                f"hosts[{i}].renew_before_days",
                f"must be smaller than the validity ({validity} days)",
            )

    for i, ev in enumerate(sc.events):
        where = f"events[{i}]"
        date = getattr(ev, "date", None)
        if date is not None and not (sc.start <= date <= sc.end):
            fail(f"{where}.date", f"must be between start ({sc.start}) and end ({sc.end})")
        for ref in ev.references():
            msg = _reference_problem(ref, cas, known_hosts)
            if msg:
                fail(f"{where}.{ref.path}", msg)
        for path, msg in ev.problems():
            fail(f"{where}.{path}" if path else where, msg)

    splits = [
        (i, change)
        for i, ev in enumerate(sc.events)
        for change in ev.trust_effects(sc.day)
        if isinstance(change, AnchorChange)
    ]
    for platform in sc.fleet.platforms:
        idx = [i for i, change in splits if change.reaches(platform)]
        if len(idx) > MAX_TRUST_CHANGES:
            # each change splits the platform's devices in two: 2^n device groups
            fail(
                f"events[{idx[MAX_TRUST_CHANGES]}]",
                f"at most {MAX_TRUST_CHANGES} trust_store_change events per platform ({platform})",
            )

    if not sc.strategies:
        fail("strategies", "at least one strategy is needed")
    names = [s.name for s in sc.strategies]
    dup = _first_duplicate(names)
    for i, st in enumerate(sc.strategies):
        where = f"strategies[{i}]"
        if i == dup:
            fail(f"{where}.name", f"duplicate strategy name '{clip(st.name)}'")
        _check_strategy(sc, st, where, fail)

    labels = [a.label for a in sc.attacks]
    dup = _first_duplicate(labels)
    for i, a in enumerate(sc.attacks):
        if i == dup:
            fail(f"attacks[{i}].label", f"duplicate attack label '{clip(a.label)}' (set 'label')")
        if a.ca is not None and a.ca not in cas:
            fail(f"attacks[{i}].ca", f"unknown CA '{clip(a.ca)}'")
        if a.host is not None and a.host not in known_hosts:
            fail(f"attacks[{i}].host", f"unknown host '{clip(a.host)}'")

    ir = sc.incident_response
    if ir is not None and ir.update_check_host not in (None, *host_names):
        fail("incident_response.update_check_host", f"unknown host '{clip(ir.update_check_host)}'")
    if ir is not None and isinstance(ir.fix_strategy, str) and ir.fix_strategy not in names:
        fail("incident_response.fix_strategy", f"unknown strategy '{clip(ir.fix_strategy)}'")
    if ir is not None and ir.fix_strategy is not None:
        fix = sc.fix_strategy_spec()
        if fix is not None and fix.dynamic is not None:
            fail("incident_response.fix_strategy", "must be a static strategy (no dynamic)")
        if fix is not None and not isinstance(ir.fix_strategy, str):
            _check_strategy(sc, fix, "incident_response.fix_strategy", fail)

    if sc.economics is not None:
        for label in sc.economics.attack_probability_per_day:
            if label not in labels:
                fail(
                    f"economics.attack_probability_per_day.{label}",
                    "not an attack of this scenario",
                )
        if isinstance(sc.economics.loss_per_successful_attack, dict):
            for label in sc.economics.loss_per_successful_attack:
                if label not in labels:
                    fail(
                        f"economics.loss_per_successful_attack.{label}",
                        "not an attack of this scenario",
                    )

    # a stretch where a host's CA has no active intermediate and a renewal must fall: refused
    # here, so `validate` fails where `run` would
    for gap in horizon_gaps(sc):
        fail(gap.where, gap.message)

    problem = budget_problem(sc)
    if problem is not None:
        fail(*problem)
    _warn_short_renewal(sc, cas)
    _warn_never_expiring(sc)


#: horizons longer than this see real roots expire: ISRG Root X1 is self-signed for 20 years
#: (2015-06-04 to 2035-06-04) and Chrome's root term limit is about 15 years from key
#: generation (shared reference ca-events.md, root events and open question 4)
ROOT_LIFETIME_YEARS = 20


def _warn(message: str) -> None:
    import warnings

    from simlib.errors import ScenarioWarning, one_line

    warnings.warn(one_line(message), ScenarioWarning, stacklevel=3)


def _warn_short_renewal(sc: Scenario, cas: Mapping[str, CASpec]) -> None:
    """One warning per host whose ``renew_before_days`` leaves less than a third of a lifetime
    in force: the user's rule is kept (a tool's is replaced at resolve: model/tooldefaults.py)."""
    for i, h in enumerate(sc.hosts):
        ca = cas[h.ca]
        since = min(sc.start, h.first_issued) if h.first_issued is not None else sc.start
        changes = [s.from_ for s in ca.validity_schedule] + [d for d, _ in sc.validity_cap_steps()]
        changes += [s.from_ for s in h.policy_schedule]
        for day in sorted({since} | {d for d in changes if since < d <= sc.end}):
            before, life = h.policy_on(day)[1], sc.lifetime_days(h, ca, day)
            if before is not None and too_short(before, life):
                _warn(
                    f"hosts[{i}] ({clip(h.name)}): renew_before_days {before} renews the "
                    f"{life}-day certificates issued from {day} every {max(1, life - before)} "
                    "day(s), less than a third of their lifetime (kept as written)"
                )
                break


def _warn_never_expiring(sc: Scenario) -> None:
    """A warning per CA whose root or intermediates never expire over a horizon longer than
    real roots live (:data:`ROOT_LIFETIME_YEARS`): root pins would never break on expiry."""
    if sc.end <= add_years(sc.start, ROOT_LIFETIME_YEARS):
        return
    for i, ca in enumerate(sc.cas):
        unset = ["root"] if ca.root_not_after is None else []
        n = sum(x.not_after is None for x in ca.intermediates)
        unset += [f"{n} intermediate(s)"] if n else []
        if unset:
            _warn(
                f"cas[{i}] ({clip(ca.name)}): {' and '.join(unset)} without not_after never "
                f"expire over this {round(sc.days / 365.25)}-year horizon, though real roots "
                f"last about 15-{ROOT_LIFETIME_YEARS} years (Chrome's root term limit; ISRG Root "
                "X1 2015-2035): set root_not_after / not_after, or read its pins as an assumption"
            )


def _first_duplicate(values: list[str | None]) -> int | None:
    """Index of the first value that repeats an earlier one (linear: lists reach thousands)."""
    seen: set[str | None] = set()
    for i, value in enumerate(values):
        if value in seen:
            return i
        seen.add(value)
    return None


def _check_strategy(sc: Scenario, st: StrategySpec, where: str, fail) -> None:
    """A strategy's references to hosts and CAs (scenario strategies and inline fix strategies)."""
    host_names = {h.name for h in sc.hosts}
    cas = {c.name for c in sc.cas}
    pinned_hosts = set(st.hosts) if st.hosts is not None else host_names
    for j, ref in enumerate(st.hosts or []):
        if ref not in host_names:
            fail(f"{where}.hosts[{j}]", f"unknown host '{clip(ref)}'")
    next_key_checked = False
    for j, entry in enumerate(st.backup):
        if isinstance(entry, CARoot | CAIntermediates) and entry.ca not in cas:
            fail(f"{where}.backup[{j}]", _unknown_ca(entry.ca, list(cas)))
        if isinstance(entry, NextKey) and not next_key_checked:
            next_key_checked = True  # the same hosts for every next_key of the strategy
            for h in sc.hosts:
                if h.name in pinned_hosts and not h.pregenerate_next_key:
                    fail(
                        f"{where}.backup[{j}]",
                        f"next_key needs pregenerate_next_key: true on host {h.name}",
                    )
    if st.intermediates == "all" and st.pin != "intermediate_spki":
        fail(f"{where}.intermediates", "applies to pin: intermediate_spki only")


def _reference_problem(ref: Reference, cas: Mapping[str, CASpec], hosts: set[str]) -> str | None:
    """What is wrong with a name an event refers to (None: it names something declared)."""
    if ref.kind == "ca":
        return None if ref.name in cas else f"unknown CA '{clip(ref.name)}'"
    if ref.kind == "host":
        return None if ref.name in hosts else f"unknown host '{clip(ref.name)}'"
    if ref.kind == "intermediate":
        of = cas.get(ref.of or "")
        if of is None:
            return f"unknown CA '{clip(ref.of or '')}'"
        known = {x.name for x in of.intermediates}
        return (
            None if ref.name in known else f"'{clip(ref.name)}' is not an intermediate of {of.name}"
        )
    return _anchor_ref_problem(ref.name, cas)


def _anchor_ref_problem(ref: str, cas: Mapping[str, CASpec]) -> str | None:
    ca, _, inter = ref.partition("/")
    if ca not in cas:
        return f"unknown CA '{clip(ca)}' (use '<ca>' for its root or '<ca>/<intermediate>')"
    if inter and inter not in {i.name for i in cas[ca].intermediates}:
        return f"'{clip(inter)}' is not an intermediate of {ca}"
    return None


class _SemanticError(Exception):
    def __init__(self, where: str, message: str) -> None:
        self.where, self.message = where, message


def _unknown_ca(name: str, declared: list[str]) -> str:
    """What a CA reference may name: a ``cas`` entry, or a catalogue CA (the host shorthand)."""
    from simlib.world import catalogue

    return (
        f"unknown CA '{clip(name)}'; valid: a name under cas "
        f"({clip(', '.join(declared), 120) or 'none'}) or a catalogue CA "
        f"({', '.join(catalogue().cas)})"
    )
