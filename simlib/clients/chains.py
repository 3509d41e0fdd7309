"""What each kind of client sees on each day: the real chain and every attacker's chain.

Days are grouped into *segments* inside which nothing on the server or in any trust store changes,
so the engine evaluates pins once per segment. For each (host, client kind, segment) a
:class:`Chains` row holds the leaf identities (key, certificate), the CA keys of the chain the
client builds (intermediate up to the anchor where path building stopped) and whether the chain
validates at all. Attack chains have the same shape.

Attack classes (docs/model.md): ``rogue_ca`` — a certificate for the host from another public CA
(by default one outside the scenario, trusted by every client); ``same_ca_misissuance`` — from the
host's own CA and intermediate, with the attacker's key; ``user_installed_ca`` — signed by a root
the user or an MDM installed (trusted only where the platform trusts user CAs); ``stolen_leaf_key``
— the attacker holds the key served ``key_age_days`` ago and its (still valid) certificate.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from simlib.clients.trust import ClientKind, TrustModel
from simlib.model import AttackSpec
from simlib.server.calendar import CertificateCalendar, Issuance

CA_SLOTS = 3  # intermediate, root, cross-signing root


@dataclass(frozen=True)
class Chains:
    """Chains of one (host, client kind): distinct rows and which row each global segment uses.

    ``rows_leaf`` (U, 2) leaf ids, ``rows_ca`` (U, CA_SLOTS) CA-path ids (padded), ``rows_trusted``
    (U,) whether the chain validates; ``spread`` (S,) maps global segments to rows.
    """

    rows_leaf: np.ndarray
    rows_ca: np.ndarray
    rows_trusted: np.ndarray
    spread: np.ndarray

    @property
    def leaf(self) -> np.ndarray:
        return self.rows_leaf[self.spread]

    @property
    def ca(self) -> np.ndarray:
        return self.rows_ca[self.spread]

    @property
    def trusted(self) -> np.ndarray:
        return self.rows_trusted[self.spread]


class ChainTable:
    """Real and attack chains for every host and client kind, per segment."""

    def __init__(
        self,
        calendar: CertificateCalendar,
        trust: TrustModel,
        clients: list[ClientKind],
        attacks: list[AttackSpec],
    ) -> None:
        self.calendar = calendar
        self.trust = trust
        self.clients = clients
        self.attacks = attacks
        T = calendar.days
        self.n_ids = len(calendar.registry)
        self.pad = self.n_ids  # an id column that no pin set contains
        self.hosts = [h.name for h in calendar.scenario.hosts]
        self._issue_days = {h: [it.day for it in calendar.by_host[h]] for h in self.hosts}
        # Rows are built per host on that host's own segments (its issuances and trust changes)
        # and then spread onto the global segments, which split wherever any host changes.
        common = {0, *trust.boundaries}
        host_bounds: dict[str, set[int]] = {}
        for h in self.hosts:
            b = set(common) | {d for d in self._issue_days[h]}
            for a in attacks:
                if a.name == "stolen_leaf_key" and a.key_age_days:
                    b |= {it.day + a.key_age_days for it in calendar.by_host[h]}
                    b |= {it.expires_day + 1 for it in calendar.by_host[h]}
                if a.name == "rogue_ca" and a.ca is not None:
                    b |= calendar.active_change_days(a.ca)
            host_bounds[h] = {d for d in b if 0 <= d < T}
        self.seg_start = np.array(sorted(set().union(*host_bounds.values())))
        self.seg_of_day = np.searchsorted(self.seg_start, np.arange(T), side="right") - 1
        self.legit: dict[tuple[str, str], Chains] = {}
        self.attack: dict[tuple[str, str, str], Chains] = {}
        for h in self.hosts:
            starts = np.array(sorted(host_bounds[h]))
            spread = np.searchsorted(starts, self.seg_start, side="right") - 1
            for c in clients:
                self.legit[(h, c.name)] = self._build(
                    starts, spread, lambda d, h=h, c=c: self._legit(h, c, d)
                )
                for a in attacks:
                    self.attack[(a.label, h, c.name)] = self._build(
                        starts, spread, lambda d, a=a, h=h, c=c: self._attack(a, h, c, d)
                    )

    def _build(self, starts: np.ndarray, spread: np.ndarray, row) -> Chains:
        # Rows padded in Python and converted once: per-cell numpy writes cost more than the rows.
        pad = self.pad
        leaf, ca, trusted = [], [], []
        for day in starts.tolist():
            lf, path, ok = row(day)
            leaf.append((*lf, *(pad,) * (2 - len(lf))))
            ca.append((*path, *(pad,) * (CA_SLOTS - len(path))))
            trusted.append(bool(ok))
        S = len(starts)
        return Chains(
            np.array(leaf, dtype=np.int64).reshape(S, 2),
            np.array(ca, dtype=np.int64).reshape(S, CA_SLOTS),
            np.array(trusted, dtype=bool).reshape(S),
            spread,
        )

    # --------------------------------------------------------------------------- chains
    def _legit(self, host: str, client: ClientKind, day: int):
        it = self.calendar.serving(host, day)
        path, ok = self.trust.path(client, it.ca, it.intermediate, it.day, day)
        return (it.leaf_key, it.cert), path, ok

    def _attack(self, attack: AttackSpec, host: str, client: ClientKind, day: int):
        cal = self.calendar
        forged = (cal.attacker_key, cal.attacker_cert)
        if attack.name == "rogue_ca":
            if attack.ca is None:
                ok = cal.rogue_root in self.trust.anchors(client, day)
                return forged, (cal.rogue_int, cal.rogue_root), ok
            active = cal.active_intermediates(attack.ca, day) or [
                cal.cas[attack.ca].spec.intermediates[0].name
            ]
            path, ok = self.trust.path(client, attack.ca, active[0], day, day)
            return forged, path, ok
        if attack.name == "same_ca_misissuance":
            it = cal.serving(host, day)
            path, ok = self.trust.path(client, it.ca, it.intermediate, day, day)
            return forged, path, ok
        if attack.name == "user_installed_ca":
            return forged, (cal.user_root,), client.trusts_user_cas
        # stolen_leaf_key: the key (and certificate) served key_age_days ago
        it = self._served_at(host, day - attack.key_age_days)
        path, ok = self.trust.path(client, it.ca, it.intermediate, it.day, day)
        return (it.leaf_key, it.cert), path, ok and day <= it.expires_day

    def _served_at(self, host: str, day: int) -> Issuance:
        """The issuance served on ``day`` (the first one if ``day`` is before it)."""
        i = bisect.bisect_right(self._issue_days[host], day) - 1
        return self.calendar.by_host[host][max(i, 0)]
