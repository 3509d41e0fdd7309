"""Integer identities for every key and certificate a simulation can pin.

The engine compares small integers, not hashes: each key (CA, intermediate, leaf, attacker) and
each leaf certificate gets an id here. An identity carries what is needed to make the real object
later (algorithm and derivation material), so :mod:`simlib.server.certificates` can turn any id into a real
``cryptography`` key or X.509 certificate whose SHA-256 pin is what openssl prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Identity:
    id: int
    kind: str  # "key" or "cert"
    role: str  # root, intermediate, leaf, attacker_leaf, attacker_root, rogue_root, ...
    label: str
    algorithm: str | None = None
    material: bytes | None = None  # key derivation input (deterministic per scenario seed)
    pin: str | None = None  # fixed pin of a foreign identity (a literal spki: backup)
    issuance: int | None = None  # for leaf certificates: index into the calendar
    #: a real CA certificate (path under data/certs): its public key, subject and validity are
    #: the file's (``pin`` is its SPKI pin); ``material`` then derives only the stand-in key that
    #: signs generated objects under it (nobody has the real private key)
    real: str | None = None


@dataclass
class Registry:
    """Allocates ids; ids are dense (0..n-1) so the engine can index boolean arrays with them."""

    seed: int
    items: list[Identity] = field(default_factory=list)

    def key(
        self, role: str, label: str, algorithm: str, tag: str, real: tuple[str, str] | None = None
    ) -> int:
        """A key; ``real`` = (SPKI pin, certificate file) for a CA key with a real certificate."""
        material = f"simlib|{self.seed}|{tag}".encode()
        pin, path = real if real is not None else (None, None)
        return self._add(
            Identity(len(self.items), "key", role, label, algorithm, material, pin, real=path)
        )

    def cert(self, role: str, label: str, issuance: int | None = None) -> int:
        return self._add(Identity(len(self.items), "cert", role, label, issuance=issuance))

    def foreign(self, pin: str) -> int:
        for item in self.items:
            if item.role == "foreign" and item.pin == pin:
                return item.id
        return self._add(Identity(len(self.items), "key", "foreign", f"spki:{pin}", pin=pin))

    def _add(self, item: Identity) -> int:
        self.items.append(item)
        return item.id

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Identity:
        return self.items[i]
