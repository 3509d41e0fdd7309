"""Client side: which devices exist, what they trust, and which chain they build.

A *client kind* is a platform (android, ios) split into device groups by trust-store changes: a
``trust_store_change`` with ``share: 0.6`` reaches 60 % of the platform's devices, independently of
other changes. Path building follows Android, Chromium and Apple: walk up from the leaf through the
served chain and stop at the first certificate whose key is a trust anchor on that day. So when a
trust store gains an intermediate as an anchor, a pinned root is no longer in the built chain (the
Brave incident, 2026-01-16); when a root is removed, a served cross-certificate may lead on to
another anchor (DST Root X3 / ISRG Root X1).

Pin matching (pinning-semantics.md): Android NSC, OkHttp and TrustKit accept when any certificate
of the built chain (leaf, intermediates, anchor — even if not sent) matches any pin ("any"). Apple
ATS ``NSPinnedDomains`` splits pins into ``NSPinnedLeafIdentities`` (leaf only) and
``NSPinnedCAIdentities`` (any non-leaf certificate); if both lists are present both must match.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

from simlib.model import Scenario
from simlib.model.effects import AnchorChange, Distrust, TrustEffect
from simlib.server.calendar import CertificateCalendar
from simlib.vocabulary import PLATFORM_TABLE

_E = TypeVar("_E", bound=TrustEffect)


@dataclass(frozen=True)
class ClientKind:
    """A group of devices that behave identically."""

    name: str
    platform: str
    share: float  # of all users
    matcher: str  # "any" or "ats"
    trusts_user_cas: bool
    checks_anchor_expiry: bool
    changes: tuple[int, ...]  # indexes (into scenario.events) of trust-store changes it received
    path_building: str = "first_anchor"  # or "legacy" (OpenSSL 1.0.x: the served chain to its end)


def trust_effects(scenario: Scenario, kind: type[_E]) -> list[tuple[int, _E]]:
    """(event index, effect) of every ``kind`` of trust effect the events declare, in order."""
    return [
        (i, effect)
        for i, ev in enumerate(scenario.events)
        for effect in ev.trust_effects(scenario.day)
        if isinstance(effect, kind)
    ]


def anchor_changes(scenario: Scenario) -> list[tuple[int, AnchorChange]]:
    """The changes that split a platform's devices: one device group reached, one not."""
    return trust_effects(scenario, AnchorChange)


def client_kinds(scenario: Scenario) -> list[ClientKind]:
    out = []
    for platform, spec in scenario.fleet.platforms.items():
        if spec.share <= 0:
            continue
        changes = [(i, ch) for i, ch in anchor_changes(scenario) if ch.reaches(platform)]
        matcher = PLATFORM_TABLE[platform].clients[spec.client]  # one home: simlib.vocabulary
        for mask in itertools.product((True, False), repeat=len(changes)):
            share = spec.share
            applied = []
            for (i, change), on in zip(changes, mask, strict=True):
                share *= change.share if on else 1 - change.share
                if on:
                    applied.append(i)
            if share <= 0:
                continue
            suffix = "".join(f"+tsc{i}" for i in applied)
            out.append(
                ClientKind(
                    name=platform + suffix,
                    platform=platform,
                    share=share,
                    matcher=matcher,
                    trusts_user_cas=bool(spec.trusts_user_cas),
                    checks_anchor_expiry=bool(spec.checks_anchor_expiry),
                    changes=tuple(applied),
                    path_building=spec.path_building,
                )
            )
    return out


class TrustModel:
    """Trust anchors, distrust and path building for each client kind, day by day."""

    def __init__(self, calendar: CertificateCalendar) -> None:
        self.calendar = calendar
        sc = calendar.scenario
        self.scenario = sc
        cal = calendar
        self._root_expiry = {
            name: (sc.day(k.spec.root_not_after) if k.spec.root_not_after else None)
            for name, k in cal.cas.items()
        }
        self._int_expiry = {
            (name, i.name): (sc.day(i.not_after) if i.not_after else None)
            for name, k in cal.cas.items()
            for i in k.spec.intermediates
        }
        self._cross = {
            name: (
                cal.cas[k.spec.cross_signed_by.ca].root_key,
                k.spec.cross_signed_by.ca,
                sc.day(k.spec.cross_signed_by.until) if k.spec.cross_signed_by.until else None,
            )
            for name, k in cal.cas.items()
            if k.spec.cross_signed_by is not None
        }
        self.base_anchors = frozenset([k.root_key for k in cal.cas.values()] + [cal.rogue_root])
        self._changes: list[tuple[int, int, frozenset[int], frozenset[int]]] = []
        self._path_changes: list[tuple[int, int, str]] = []
        self._distrust: list[tuple[int, str, tuple[str, ...] | None]] = []
        for i, change in anchor_changes(sc):
            self._changes.append((i, change.day, self._refs(change.add), self._refs(change.remove)))
            if change.path_building is not None:
                self._path_changes.append((i, change.day, change.path_building))
        for _i, distrust in trust_effects(sc, Distrust):
            self._distrust.append((distrust.day, distrust.ca, distrust.platforms))

    def _refs(self, refs: tuple[str, ...]) -> frozenset[int]:
        out = []
        for ref in refs:
            ca, _, inter = ref.partition("/")
            keys = self.calendar.cas[ca]
            out.append(keys.int_keys[inter] if inter else keys.root_key)
        return frozenset(out)

    @cached_property
    def boundaries(self) -> list[int]:
        """Days on which some client's trust decisions can change."""
        days = {d for _i, d, _a, _r in self._changes}
        days |= {d for d, _c, _p in self._distrust}
        days |= {d + 1 for d in self._root_expiry.values() if d is not None}
        days |= {d + 1 for d in self._int_expiry.values() if d is not None}
        days |= {until + 1 for _k, _c, until in self._cross.values() if until is not None}
        return sorted(d for d in days if 0 <= d < self.calendar.days)

    def anchors(self, client: ClientKind, day: int) -> frozenset[int]:
        anchors = set(self.base_anchors)
        for i, d, add, remove in self._changes:
            if i in client.changes and day >= d:
                anchors |= add
                anchors -= remove
        return frozenset(anchors)

    def path_building(self, client: ClientKind, day: int) -> str:
        """``first_anchor`` or ``legacy`` on ``day``: the platform's, or the latest received change's."""
        mode = client.path_building
        for i, d, pb in sorted(self._path_changes, key=lambda c: c[1]):
            if i in client.changes and day >= d:
                mode = pb
        return mode

    def distrusted(self, client: ClientKind, ca: str, issue_day: int, day: int) -> bool:
        """Certificates from a distrusted CA issued on or after the distrust date are refused."""
        return any(
            ca == dca
            and day >= d
            and issue_day >= d
            and (plats is None or client.platform in plats)
            for d, dca, plats in self._distrust
        )

    def path(
        self, client: ClientKind, ca: str, intermediate: str, issue_day: int, day: int
    ) -> tuple[tuple[int, ...], bool]:
        """The CA part of the chain this client builds on ``day`` and whether it validates.

        Returns the keys from the intermediate up to (and including) the anchor where path
        building stopped; an untrusted chain returns what was walked and ``False``.
        """
        keys = self.calendar.cas[ca]
        anchors = self.anchors(client, day)
        if self.distrusted(client, ca, issue_day, day):
            return (keys.int_keys[intermediate],), False
        int_key = keys.int_keys[intermediate]
        int_exp = self._int_expiry.get((ca, intermediate))
        if self.path_building(client, day) == "legacy":
            return self._legacy_path(ca, int_key, int_exp, anchors, day)
        if int_key in anchors:
            # An intermediate trusted as an anchor (expiry is then the anchor rule).
            ok = not (client.checks_anchor_expiry and int_exp is not None and day > int_exp)
            if ok:
                return (int_key,), True
        if int_exp is not None and day > int_exp:
            return (int_key,), False
        root_exp = self._root_expiry.get(ca)
        root_expired = root_exp is not None and day > root_exp
        if keys.root_key in anchors and not (client.checks_anchor_expiry and root_expired):
            return (int_key, keys.root_key), True
        cross = self._cross.get(ca)
        if cross is not None:
            other_root, other_ca, until = cross
            if until is None or day <= until:
                other_exp = self._root_expiry.get(other_ca)
                other_expired = other_exp is not None and day > other_exp
                if other_root in anchors and not (client.checks_anchor_expiry and other_expired):
                    return (int_key, keys.root_key, other_root), True
        return (int_key, keys.root_key), False

    def _legacy_path(
        self, ca: str, int_key: int, int_exp: int | None, anchors: frozenset[int], day: int
    ) -> tuple[tuple[int, ...], bool]:
        """OpenSSL 1.0.x: follow the served chain to its last certificate and look up *its*
        issuer among the self-signed anchors; no shorter path is tried. The served chain is the
        intermediate and, when the CA is cross-signed, the cross-certificate: then the chain
        ends at the cross-signing root, fails once the cross-certificate has expired (even if
        the CA's own root is trusted), and fails once that root has expired (OpenSSL checks every
        certificate's validity, the anchor's included, whatever ``checks_anchor_expiry`` says).
        An intermediate trusted as an anchor does not end the chain."""
        keys = self.calendar.cas[ca]
        if int_exp is not None and day > int_exp:
            return (int_key,), False
        cross = self._cross.get(ca)
        if cross is None:
            top, top_ca, path = keys.root_key, ca, (int_key, keys.root_key)
        else:
            top, top_ca, until = cross
            path = (int_key, keys.root_key, top)
            if until is not None and day > until:
                return path[:2], False
        exp = self._root_expiry.get(top_ca)
        expired = exp is not None and day > exp
        return path, top in anchors and not expired
