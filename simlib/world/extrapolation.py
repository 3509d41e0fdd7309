"""A CA's active sets past its last published step, from its documented ``practice``.

The catalogue ends where each CA's published data ends (Let's Encrypt's Gen Y intermediates
expire on 2028-09-02, ACM's M01–M04 on 2030-08-23). :func:`extend` continues the dated active
sets to any horizon with one rule driven by the CA's ``practice`` (``ca-catalogue.yaml``):

* **batches.** A new batch of ``<kt>_per_batch`` intermediates per key type, each valid
  ``intermediate_validity_years``, created every ``batch_every_months`` after the last published
  batch, or else (``takeover_before_expiry_days``) so that it takes over issuance that many
  days before the set in force expires. A batch is announced ``announce_after_days`` and takes
  over issuance ``activate_after_days`` after its creation; ``active_per_key_type`` of it issue
  (chosen per the CA's ``selection``), the rest are backups. A published intermediate without
  dates (a generated stand-in) is taken as created ``activate_after_days`` before its set.
* **roots.** A batch is signed by the newest root of its key type that exists on its creation
  day. With ``root_successor_before_expiry_years`` N, a new root generation (valid
  ``root_validity_years``, the previous root's key algorithm) is created N years before the
  current root's expiry and cross-signed by that root for ``cross_sign_years`` (never past the
  old root's expiry). Without it, a batch that would outlive its root is an error.

Every invented certificate is a stand-in (no file, no published pin: the server layer derives
its key like any scenario-declared one), named ``<ca> extrapolated <RSA|ECDSA> <year><a, b, ...>``
(intermediates), ``<ca> extrapolated root <RSA|ECDSA> <year>`` (roots) and ``<root>/<old root>``
(their cross-signs), marked ``origin="extrapolated"`` (``assumed``) and ``unconfirmed``;
:func:`assumption_label` recognises the names wherever they travel (calendar, report inputs). A
CA without a cadence or a takeover rule (Entrust: ``new_intermediates: none``) keeps its last
published set. Nothing here is random: the same horizon gives the same names and dates.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import date, timedelta

from simlib.errors import ScenarioError
from simlib.world.active_sets import KEY_TYPES, ActiveSet, activity, pick
from simlib.world.catalogue import CA, FILE, CACertificate, ca, catalogue
from simlib.world.roadmap import RoadmapEvent
from simlib.world.standins import (
    ORIGIN,
    Invent,
    RootLineage,
    add_months,
    assumption_label,
    stand_in_name,
    stand_in_root_name,
)

__all__ = [
    "Extension",
    "assumption_label",
    "extend",
    "extrapolated_events",
    "stand_in_name",
    "stand_in_root_name",
]

#: the most batches one extension invents (a 24-month cadence covers 2027-2075 with 25)
MAX_BATCHES = 40


@dataclass(frozen=True)
class Extension:
    """A CA's active sets, published ones first, extended to ``end``."""

    ca: str
    end: date
    sets: tuple[ActiveSet, ...]  # sorted by (profile, start) like the catalogue's
    certificates: tuple[CACertificate, ...]  # the extrapolated ones only (roots, crosses too)
    last_published: date | None  # start of the CA's last published set
    exited: str | None = None  # why nothing is extrapolated (``new_intermediates: none``)

    def certificate(self, name: str) -> CACertificate:
        for c in self.certificates:
            if c.name == name:
                return c
        return catalogue().certificate(name)

    def active(self, day: date, key_type: str, profile: str = "classic") -> tuple[str, ...]:
        if key_type not in KEY_TYPES:
            raise ScenarioError(FILE, "key_type", f"{key_type!r} is not rsa or ecdsa")
        return pick(self.sets, day, key_type, profile)

    def chain(self, name: str, day: date) -> tuple[str, ...]:
        """What a server sends above the leaf on ``day`` for intermediate ``name``: it, then
        the cross-sign of each extrapolated root on the way up while that cross-sign is valid
        (a new root generation is not yet in trust stores: the old root anchors it)."""
        out = [name]
        issuer = self.certificate(name).issuer
        while (root := self._extrapolated(issuer)) is not None:
            cross = next(
                (
                    c
                    for c in self.certificates
                    if c.role == "cross"
                    and c.subject == root.name
                    and c.not_before is not None
                    and c.not_after is not None
                    and c.not_before.date() <= day <= c.not_after.date()
                ),
                None,
            )
            if cross is None:
                break
            out.append(cross.name)
            issuer = cross.issuer
        return tuple(out)

    def _extrapolated(self, subject: str) -> CACertificate | None:
        return next(
            (c for c in self.certificates if c.role == "root" and c.subject == subject), None
        )

    def schedule(
        self, key_type: str, profile: str, start: date, end: date
    ) -> list[tuple[date, tuple[str, ...]]]:
        """The dated active sets over [start, end] (first day, intermediates; changes only).
        Raises where the set in force has no member, or none unexpired: ``run`` could not issue
        there."""
        where = f"cas.{self.ca}.active_sets"
        days = [start, *sorted({s.start for s in self.sets if start < s.start <= end})]
        out: list[tuple[date, tuple[str, ...]]] = []
        for day in days:
            names = self.active(day, key_type, profile)
            if not names:
                first = min((s.start for s in self.sets), default=None)
                why = (
                    f"; {self.exited}"
                    if self.exited
                    else f"; its first published set is from {first}"
                    if first is not None and day < first
                    else ""
                )
                raise ScenarioError(
                    FILE, where, f"issues no {key_type} leaves on {day} (profile {profile}){why}"
                )
            if not out or out[-1][1] != names:
                out.append((day, names))
        why = self.exited or "no practice extends it"
        for i, (_day, names) in enumerate(out):
            until = out[i + 1][0] - timedelta(days=1) if i + 1 < len(out) else end
            expiries = [self.certificate(n).not_after for n in names]
            if all(e is not None for e in expiries):
                last = max(e.date() for e in expiries if e is not None)
                if last < until:
                    raise ScenarioError(
                        FILE,
                        where,
                        f"no active {key_type} intermediate after {last} (its last set, "
                        f"{', '.join(names)}, expires then and {why}); end the scenario by "
                        f"{last} or declare the CA under cas",
                    )
        return out

    @property
    def extrapolated_from(self) -> date | None:
        """First day an extrapolated set issues (``None``: nothing extrapolated)."""
        starts = [s.start for s in self.sets if s.confidence == "unconfirmed" and ORIGIN in s.note]
        return min(starts, default=None)


def _int(cau: CA, name: str) -> int | None:
    fact = cau.fact(name)
    if fact is None:
        return None
    try:
        return int(fact.value)
    except ValueError:
        raise ScenarioError(
            FILE, f"cas.{cau.name}.practice.{name}", f"{fact.value!r} is not a whole number"
        ) from None


def _first_batch(
    published: tuple[ActiveSet, ...], last: date, kts: list[str], years: int, activate: int
) -> tuple[date, date, dict[str, CACertificate]]:
    """The last published batch: its creation, the day its set runs out (earliest key type)
    and the root of each key type. An undated stand-in is taken as created ``activate`` days
    before its set and valid ``years``."""
    cat = catalogue()
    members = [cat.certificate(n) for s in published if s.start == last for n in (*s.rsa, *s.ecdsa)]
    dated = [c.not_before.date() for c in members if c.not_before is not None]
    created = max(dated) if dated else last - timedelta(days=activate)
    assumed_end = add_months(created, 12 * years) - timedelta(days=1)
    runs_out = min(
        max(
            (c.not_after.date() if c.not_after else assumed_end)
            for c in members
            if c.key_type == kt
        )
        for kt in kts
    )
    roots = {kt: cat.certificate(next(c.issuer for c in members if c.key_type == kt)) for kt in kts}
    return created, runs_out, roots


@functools.cache
def extend(ca_name: str, end: date) -> Extension:
    """The active sets of ``ca_name`` continued to ``end`` (cached per CA and day)."""
    cau = ca(ca_name)
    published = cau.active_sets
    last = max((s.start for s in published), default=None)
    none = cau.fact("new_intermediates")
    exited = (
        None
        if none is None
        else f"{ca_name} creates no new intermediates (practice new_intermediates: {none.value})"
    )
    years = _int(cau, "intermediate_validity_years")
    every = _int(cau, "batch_every_months")
    takeover = _int(cau, "takeover_before_expiry_days")
    if (
        exited
        or years is None
        or (every is None and takeover is None)
        or last is None
        or end <= last
    ):
        return Extension(ca_name, end, published, (), last, exited)
    active_n = _int(cau, "active_per_key_type") or 2
    announce = _int(cau, "announce_after_days")
    activate = _int(cau, "activate_after_days") or 0
    latest = [s for s in published if s.start == last]
    per = {kt: _int(cau, f"{kt}_per_batch") for kt in KEY_TYPES}
    kts = [kt for kt in KEY_TYPES if any(getattr(s, kt) for s in latest) and per[kt] != 0]
    anchor, runs_out, first_roots = _first_batch(published, last, kts, years, activate)
    invent = Invent(cau)
    roots = RootLineage(
        invent,
        {kt: [r] for kt, r in first_roots.items()},
        _int(cau, "root_successor_before_expiry_years"),
        _int(cau, "root_validity_years"),
        _int(cau, "cross_sign_years"),
    )
    algorithms = {kt: cau.fact(f"{kt}_key") for kt in KEY_TYPES}
    profiles = sorted({s.profile for s in published})
    new_sets: list[ActiveSet] = []
    for k in range(1, MAX_BATCHES + 1):
        if every is not None:
            created = add_months(anchor, every * k)
            start = created + timedelta(days=activate)
            rule = f"{every}-month cadence"
        else:
            assert takeover is not None
            start = max(runs_out - timedelta(days=takeover), last + timedelta(days=1))
            created = start - timedelta(days=activate)
            rule = f"takes over {takeover} days before the set in force expires ({runs_out})"
        if start > end:
            break
        expires = add_months(created, 12 * years) - timedelta(days=1)
        runs_out = expires
        names: dict[str, tuple[str, ...]] = {}
        for kt in kts:
            root = roots.signer(kt, created, expires)
            batch = [
                stand_in_name(ca_name, kt, created.year, i) for i in range(per[kt] or active_n)
            ]
            names[kt] = tuple(batch[:active_n])
            alg = algorithms[kt]
            announced = None if announce is None else created + timedelta(days=announce)
            for name in batch:
                invent.cert(
                    name,
                    "intermediate",
                    kt,
                    root.subject,
                    created,
                    expires,
                    None if alg is None else alg.value,
                    announced,
                )
        note = f"{ORIGIN}: batch of {created} ({rule}) — an assumption"
        new_sets += [
            ActiveSet(
                start,
                p,
                names.get("rsa", ()),
                names.get("ecdsa", ()),
                invent.source,
                "unconfirmed",
                note,
            )
            for p in profiles
        ]
    sets = tuple(sorted((*published, *new_sets), key=lambda s: (s.profile, s.start)))
    periods = activity(sets)
    dated = []
    for c in invent.made:
        first, until, _conf = periods.get(c.name, (None, None, None))
        if first is not None and until is None:
            until = c.not_after.date() if c.not_after else None
        dated.append(replace(c, active_from=first, active_until=until))
    return Extension(ca_name, end, sets, tuple(dated), last)


def _short(ca_name: str, which: tuple[str, ...], year: int) -> str:
    kts = "/".join(dict.fromkeys(n.split(" ")[2] for n in which))
    letters = sorted({n[-1] for n in which})
    return f"{ca_name} extrapolated {kts} {year}{letters[0]}–{letters[-1]}"


def extrapolated_events(ca_name: str, start: date, end: date) -> tuple[RoadmapEvent, ...]:
    """Roadmap-style events of the extrapolated certificates (batch creation, announcement,
    rotation, expiry; root creation, cross-sign expiry) from ``start`` to ``end``, every one
    ``unconfirmed``; empty if nothing is extrapolated."""
    ext = extend(ca_name, end)
    label = f"extrapolated from the {ca_name} practice — an assumption"
    rows: list[tuple[date, str, tuple[str, ...], str]] = []
    batches: dict[date, list[CACertificate]] = {}
    for c in ext.certificates:
        assert c.not_before is not None and c.not_after is not None
        if c.role == "intermediate":
            batches.setdefault(c.not_before.date(), []).append(c)
        elif c.role == "root":
            what = f"{c.name}: new root generation, not yet in trust stores ({label})"
            rows.append((c.not_before.date(), "root_creation", (c.name,), what))
            rows.append(
                (c.not_after.date(), "root_expiry", (c.name,), f"{c.name}: expires ({label})")
            )
        else:
            what = f"{c.name}: {c.subject} cross-signed by {c.issuer} until {c.not_after.date()}"
            rows.append((c.not_before.date(), "cross_sign", (c.name,), f"{what} ({label})"))
            rows.append(
                (c.not_after.date(), "cross_sign_expiry", (c.name,), f"{c.name}: expires ({label})")
            )
    for created, certs in sorted(batches.items()):
        names = tuple(c.name for c in certs)
        active = tuple(c.name for c in certs if c.active_from is not None)
        short = _short(ca_name, names, created.year)
        rows.append(
            (created, "intermediate_creation", names, f"{short}: new intermediates ({label})")
        )
        if certs[0].announced is not None:
            rows.append(
                (
                    certs[0].announced,
                    "intermediate_creation",
                    names,
                    f"{short}: announced ({label})",
                )
            )
        firsts = sorted({c.active_from for c in certs if c.active_from is not None})
        if firsts:
            what = f"{_short(ca_name, active, created.year)}: take over issuance ({label})"
            rows.append((firsts[0], "intermediate_rotation", active, what))
        assert certs[0].not_after is not None
        rows.append(
            (certs[0].not_after.date(), "intermediate_expiry", names, f"{short}: expire ({label})")
        )
    out = [
        RoadmapEvent(
            day,
            ca_name,
            kind,
            which,
            detail,
            f"{FILE} practice (extrapolated)",
            "unconfirmed",
            "extrapolated",
        )
        for day, kind, which, detail in rows
    ]
    return tuple(e for e in sorted(out, key=lambda e: (e.date, e.kind)) if start <= e.date <= end)
