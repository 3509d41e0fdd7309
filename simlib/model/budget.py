"""The work budget: refuse, before anything runs, scenarios too large to simulate on one machine.

The engine's work is the cube *days × versions × strategies × hosts × client kinds* (versions:
one per ``release_every_days``; client kinds: each platform splits in two with every
``trust_store_change`` that reaches it). The certificate calendar adds one certificate per issuance
and one key per rotation. Simulated keys derive in under a millisecond each (simlib.pki.keys builds
its RSA keys for speed), so the key budget only guards against a future slow key type: the issuance
cap is reached first. docs/scenario.md ("Limits") documents the numbers.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from simlib.model.scenario import Scenario
from simlib.model.server import HostSpec, TrustStoreChange, _rotate_every

#: Engine cells (days × versions × strategies × hosts × client kinds) per run.
MAX_CELLS = 2_000_000_000
#: Monte Carlo: cells × replications of one ``simlib run --mode monte-carlo``.
MAX_MC_CELLS = 200_000_000_000
#: Certificates issued over the whole calendar.
MAX_ISSUANCES = 100_000
#: Estimated seconds of key derivation (leaf keys that rotate, weighted by algorithm).
MAX_KEY_SECONDS = 900.0

# measured with benchmarks' key derivation (CPU time per key, one laptop core), rounded up
KEY_SECONDS = {
    "ec-p256": 0.0002,
    "ec-p384": 0.001,
    "rsa-2048": 0.001,
    "rsa-3072": 0.001,
    "rsa-4096": 0.001,
}
_DEFAULT_RENEW_FRACTION = 2 / 3


@dataclass(frozen=True)
class Work:
    days: int
    versions: int
    strategies: int
    hosts: int
    client_kinds: int
    issuances: int
    key_seconds: float

    @property
    def cells(self) -> int:
        return self.days * self.versions * self.strategies * self.hosts * self.client_kinds

    def cube(self) -> str:
        return (
            f"{self.days:,} days × {self.versions:,} versions × {self.strategies} strategies × "
            f"{self.hosts} hosts × {self.client_kinds} client kinds"
        )


def _shortest_lifetime(sc: Scenario, validity: int) -> int:
    steps = sc.validity_cap_steps()
    caps = [
        days
        for i, (start, days) in enumerate(steps)
        if start <= sc.end and (i + 1 == len(steps) or steps[i + 1][0] > sc.start)
    ]
    return min([validity, *caps])


def _rotations(host: HostSpec, start: dt.date) -> list[int]:
    """Issuances per key in force on ``start`` and from each ``policy_schedule`` step on.

    What ``host.policy_on`` gives for those dates, in one pass over the schedule (calling it per
    step is quadratic in the steps).
    """
    every, at_start, out = host.rotate_every, None, []
    for step in host.policy_schedule:
        if at_start is None and step.from_ > start:
            at_start = every
        if step.key_policy is not None:
            every = _rotate_every(step.key_policy)
        out.append(every)
    return [every if at_start is None else at_start, *out]


def estimate(sc: Scenario) -> Work:
    """An upper-bound estimate of a scenario's work (no calendar is built)."""
    days = sc.days
    versions = days // sc.fleet.release_every_days + 1
    kinds = 0
    for platform in sc.fleet.platforms:
        n = sum(
            1
            for ev in sc.events
            if isinstance(ev, TrustStoreChange)
            and (ev.platforms is None or platform in ev.platforms)
        )
        kinds += 2**n
    cas = {c.name: c for c in sc.cas}
    years = days / 365.25
    extra = sum(
        1
        if getattr(ev, "date", None) is not None
        else 2 * (getattr(ev, "rate_per_year", 0) or 0) * years + 1
        for ev in sc.events
    )
    issuances = 0
    key_seconds = 0.0
    for host in sc.hosts:
        ca = cas.get(host.ca)
        validity = host.validity_days or (
            min([ca.validity_days, *(s.days for s in ca.validity_schedule)]) if ca else 90
        )
        lifetime = _shortest_lifetime(sc, validity)
        if host.renew_before_days is not None:
            interval = max(1, lifetime - host.renew_before_days)
        else:
            interval = max(
                1, math.floor((host.renew_at_fraction or _DEFAULT_RENEW_FRACTION) * lifetime)
            )
        span = days + (max(0, (sc.start - host.first_issued).days) if host.first_issued else 0)
        n = span // interval + 1 + int(extra)
        issuances += n
        every = min(
            (e for e in _rotations(host, sc.start) if e), default=0
        )  # most frequent re-keying
        keys = 2 if every == 0 else n // every + 2
        key_seconds += keys * KEY_SECONDS.get(host.key, 1.0)
    return Work(days, versions, len(sc.strategies), len(sc.hosts), kinds, issuances, key_seconds)


def budget_problem(sc: Scenario, replications: int = 1) -> tuple[str, str] | None:
    """(field, one-line message saying how to shrink it) if ``sc`` is over budget, else None."""
    w = estimate(sc)
    if w.cells > MAX_CELLS:
        where = "fleet.release_every_days" if w.versions > w.days // 7 else "end"
        return where, (
            f"too much work: {w.cube()} = {w.cells:.2g} cells, over the budget of {MAX_CELLS:.0e} "
            "(docs/scenario.md, Limits): shorten start..end, release less often, or compare "
            "fewer strategies, hosts or trust_store_change events"
        )
    if replications > 1 and w.cells * replications > MAX_MC_CELLS:
        return "monte_carlo.replications", (
            f"too much work: {replications:,} replications × {w.cells:.2g} cells = "
            f"{w.cells * replications:.2g}, over the Monte Carlo budget of {MAX_MC_CELLS:.0e}: "
            "use fewer replications (or a sweep on a cluster) or a smaller scenario"
        )
    if w.issuances > MAX_ISSUANCES:
        return "hosts", (
            f"too many certificates: about {w.issuances:,} issuances, over the budget of "
            f"{MAX_ISSUANCES:,}: use longer validity_days, renew later, or a shorter start..end"
        )
    if w.key_seconds > MAX_KEY_SECONDS:
        return "hosts", (
            f"too many RSA keys to derive: about {w.key_seconds / 60:.0f} minutes of key generation, "
            f"over the budget of {MAX_KEY_SECONDS / 60:.0f}: use ec-p256 keys, key_policy: reuse or "
            "rotate_every, or longer validity_days"
        )
    return None
