"""A CA's active sets past its last published step, from its documented ``practice``.

The catalogue ends where the CA's published data ends (Let's Encrypt's Gen Y intermediates
expire on 2028-09-02). :func:`extend` continues the dated active sets to any horizon the way the
CA's ``practice`` (``ca-catalogue.yaml``) says it works: a new batch of intermediates every
``batch_every_months`` after the last published batch, each valid
``intermediate_validity_years``, announced ``announce_after_days`` and taking over issuance
``activate_after_days`` after its ceremony, ``active_per_key_type`` of each batch chosen at
random per issuance and the rest backups, signed by the last root of its key type.

Every invented certificate is a stand-in (no file, no published pin: the server layer derives
its key like any scenario-declared intermediate), named ``<ca> extrapolated <RSA|ECDSA>
<batch year><a, b, ...>`` and marked ``origin="extrapolated"`` (``assumed``), its confidence
``unconfirmed``; :func:`assumption_label` recognises the names wherever they travel (calendar,
report inputs). A CA without a batch cadence (ACM, which publishes no successor to M01–M04) keeps its last
published set until its intermediates expire (2030-08-23). Nothing here is random: the same horizon gives the same names.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from simlib.errors import ScenarioError
from simlib.world.active_sets import KEY_TYPES, ActiveSet, activity, pick
from simlib.world.catalogue import CA, FILE, CACertificate, ca, catalogue
from simlib.world.roadmap import RoadmapEvent

__all__ = [
    "Extension",
    "assumption_label",
    "extend",
    "extrapolated_events",
    "stand_in_name",
]

ORIGIN = "extrapolated"
_LABEL = {"rsa": "RSA", "ecdsa": "ECDSA"}
_NAME = re.compile(r"^(?P<ca>[a-z0-9-]+) extrapolated (?P<kt>RSA|ECDSA) (?P<year>\d{4})[a-z]$")
#: the most batches one extension invents (a 24-month cadence reaches past 2045 long before)
MAX_BATCHES = 40


def stand_in_name(ca_name: str, key_type: str, year: int, index: int) -> str:
    """``letsencrypt extrapolated RSA 2027a``: the ``index``-th (0-based) of a batch."""
    return f"{ca_name} extrapolated {_LABEL[key_type]} {year}{chr(ord('a') + index)}"


def assumption_label(name: str) -> str | None:
    """Why ``name`` is an assumption if it is an extrapolated intermediate, else ``None``."""
    m = _NAME.match(name)
    if m is None:
        return None
    return (
        f"extrapolated: {m['ca']} {m['kt']} intermediate assumed for the {m['year']} batch, "
        f"past the CA's published roadmap ({FILE} practice) — an assumption"
    )


@dataclass(frozen=True)
class Extension:
    """A CA's active sets, published ones first, extended to ``end``."""

    ca: str
    end: date
    sets: tuple[ActiveSet, ...]  # sorted by (profile, start) like the catalogue's
    certificates: tuple[CACertificate, ...]  # the extrapolated ones only
    last_published: date | None  # start of the CA's last published set

    def certificate(self, name: str) -> CACertificate:
        for c in self.certificates:
            if c.name == name:
                return c
        return catalogue().certificate(name)

    def active(self, day: date, key_type: str, profile: str = "classic") -> tuple[str, ...]:
        if key_type not in KEY_TYPES:
            raise ScenarioError(FILE, "key_type", f"{key_type!r} is not rsa or ecdsa")
        return pick(self.sets, day, key_type, profile)

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
                raise ScenarioError(
                    FILE, where, f"issues no {key_type} leaves on {day} (profile {profile})"
                )
            if not out or out[-1][1] != names:
                out.append((day, names))
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
                        f"{', '.join(names)}, expires then and no practice extends it); end "
                        f"the scenario by {last} or declare the CA under cas",
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


def _add_months(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), UTC)


@functools.cache
def extend(ca_name: str, end: date) -> Extension:
    """The active sets of ``ca_name`` continued to ``end`` (cached per CA and day)."""
    cau = ca(ca_name)
    published = cau.active_sets
    last = max((s.start for s in published), default=None)
    every = _int(cau, "batch_every_months")
    if every is None or last is None or end <= last:
        return Extension(ca_name, end, published, (), last)
    years = _int(cau, "intermediate_validity_years") or 3
    active_n = _int(cau, "active_per_key_type") or 2
    announce = _int(cau, "announce_after_days")
    activate = _int(cau, "activate_after_days") or 0
    per = {kt: _int(cau, f"{kt}_per_batch") or active_n for kt in KEY_TYPES}
    cat = catalogue()
    latest = [s for s in published if s.start == last]
    members = [cat.certificate(n) for s in latest for n in (*s.rsa, *s.ecdsa)]
    anchor = max(c.not_before.date() for c in members if c.not_before is not None)
    roots = {
        kt: cat.certificate(next(c.issuer for c in members if c.key_type == kt))
        for kt in KEY_TYPES
        if any(c.key_type == kt for c in members)
    }
    algorithms = {kt: cau.fact(f"{kt}_key") for kt in KEY_TYPES}
    source = f"{FILE} practice of {ca_name} (extrapolated)"
    profiles = sorted({s.profile for s in published})
    new_sets: list[ActiveSet] = []
    invented: list[CACertificate] = []
    for k in range(1, MAX_BATCHES + 1):
        created = _add_months(anchor, every * k)
        start = created + timedelta(days=activate)
        if start > end:
            break
        expires = _add_months(created, 12 * years) - timedelta(days=1)
        names: dict[str, tuple[str, ...]] = {}
        for kt, root in roots.items():
            limit = root.not_after or (_end_of(root.trusted_until) if root.trusted_until else None)
            if limit is not None and _end_of(expires) > limit:
                raise ScenarioError(
                    FILE,
                    f"cas.{ca_name}.practice.root_succession",
                    f"an intermediate of the {created.year} batch would outlive {root.name} "
                    f"({limit.date()}); no next root generation is modelled past {start}",
                )
            batch = [stand_in_name(ca_name, kt, created.year, i) for i in range(per[kt])]
            names[kt] = tuple(batch[:active_n])
            alg = algorithms[kt]
            for name in batch:
                invented.append(
                    CACertificate(
                        name=name,
                        ca=ca_name,
                        role="intermediate",
                        subject=name,
                        key=name,
                        key_type=kt,
                        issuer=root.name,
                        not_before=datetime.combine(created, time(0, 0, 0), UTC),
                        not_after=_end_of(expires),
                        active_from=None,
                        active_until=None,
                        active_confidence="unconfirmed",
                        announced=None if announce is None else created + timedelta(announce),
                        trusted_until=None,
                        file=None,
                        spki_pin=None,
                        published_spki_pin=None,
                        source=source,
                        confidence="unconfirmed",
                        note=assumption_label(name) or "",
                        origin=ORIGIN,
                        key_algorithm=None if alg is None else alg.value,
                    )
                )
        note = f"{ORIGIN}: batch of {created} ({every}-month cadence) — an assumption"
        for profile in profiles:
            new_sets.append(
                ActiveSet(
                    start,
                    profile,
                    names.get("rsa", ()),
                    names.get("ecdsa", ()),
                    source,
                    "unconfirmed",
                    note,
                )
            )
    sets = tuple(sorted((*published, *new_sets), key=lambda s: (s.profile, s.start)))
    periods = activity(sets)
    dated = []
    for c in invented:
        first, until, _conf = periods.get(c.name, (None, None, None))
        if first is not None and until is None:
            until = c.not_after.date() if c.not_after else None
        dated.append(replace(c, active_from=first, active_until=until))
    return Extension(ca_name, end, sets, tuple(dated), last)


def extrapolated_events(ca_name: str, start: date, end: date) -> tuple[RoadmapEvent, ...]:
    """Roadmap-style events of the extrapolated batches (creation, announcement, rotation,
    expiry) from ``start`` to ``end``, every one ``unconfirmed``; empty if nothing is."""
    ext = extend(ca_name, end)
    if not ext.certificates:
        return ()
    batches: dict[date, list[CACertificate]] = {}
    for c in ext.certificates:
        assert c.not_before is not None
        batches.setdefault(c.not_before.date(), []).append(c)
    out = []
    for created, certs in sorted(batches.items()):
        names = tuple(c.name for c in certs)
        active = tuple(c.name for c in certs if c.active_from is not None)
        label = f"extrapolated from the {ca_name} practice — an assumption"
        rows = [(created, "intermediate_creation", names, f"new intermediates ({label})")]
        if certs[0].announced is not None:
            rows.append(
                (certs[0].announced, "intermediate_creation", names, f"announced ({label})")
            )
        firsts = sorted({c.active_from for c in certs if c.active_from is not None})
        if firsts:
            rows.append(
                (firsts[0], "intermediate_rotation", active, f"take over issuance ({label})")
            )
        assert certs[0].not_after is not None
        rows.append(
            (
                certs[0].not_after.date(),
                "intermediate_expiry",
                names,
                f"expire ({label})",
            )
        )
        for day, kind, which, detail in rows:
            kts = "/".join(dict.fromkeys(n.split(" ")[2] for n in which))
            letters = sorted({n[-1] for n in which})
            short = f"{ca_name} extrapolated {kts} {created.year}{letters[0]}–{letters[-1]}"
            out.append(
                RoadmapEvent(
                    day,
                    ca_name,
                    kind,
                    which,
                    f"{short}: {detail}",
                    f"{FILE} practice (extrapolated)",
                    "unconfirmed",
                    "extrapolated",
                )
            )
    return tuple(e for e in sorted(out, key=lambda e: (e.date, e.kind)) if start <= e.date <= end)
