"""Lint rules: risks of a pin policy against the chain a host serves today."""

from __future__ import annotations

import base64
import functools
import re
from datetime import date

from simlib.toolkit.chain import PathCert
from simlib.toolkit.policy import Finding, Pin, PinPolicy


def _natural(name: str) -> tuple:
    return tuple(int(x) if x.isdigit() else x for x in re.split(r"(\d+)", name))


@functools.cache
def known_keys(today: date) -> dict[str, tuple[str, str, str | None]]:
    """SPKI pin → (name, CA family, random group) for every real CA key in the world catalogue.

    A random group is the intermediates a CA that picks at random per certificate (Let's
    Encrypt, ACM) keeps under one root for one key type and that are still valid on ``today``:
    R10–R14 and E5–E9 in 2026. Pinning some of them breaks whenever another is drawn.
    """
    from simlib.world import catalogue

    cat = catalogue()
    out: dict[str, tuple[str, str, str | None]] = {}
    for ca in cat.cas.values():
        short = ca.display_name.split(" (")[0]
        groups: dict[tuple[str, str], list[str]] = {}
        for name in (*ca.roots, *ca.intermediates):
            cert = cat.certificates[name]
            if not cert.spki_pin:
                continue  # a generated stand-in: no real key to match
            label = name if cert.role == "root" else f"{short} {name}"
            out.setdefault(cert.spki_pin, (label, ca.display_name, None))
            valid = cert.not_after is None or cert.not_after.date() >= today
            if ca.selection == "random" and cert.role == "intermediate" and valid:
                groups.setdefault((cert.key_type, cert.issuer), []).append(name)
        for members in groups.values():
            if len(members) > 1:
                names = sorted(members, key=_natural)
                group = f"{names[0]}-{names[-1]}"
                for name in names:
                    pin = cat.certificates[name].spki_pin
                    out[pin] = (out[pin][0], ca.display_name, group)
    return out


def random_groups(today: date) -> dict[str, set[str]]:
    groups: dict[str, set[str]] = {}
    for pin, (_, _, group) in known_keys(today).items():
        if group is not None:
            groups.setdefault(group, set()).add(pin)
    return groups


REKEYING_TOOLS = "certbot (default), AWS ACM and cert-manager >= 1.18 (rotationPolicy Always)"

# Pins printed in documentation and samples, copied into shipped configs as "backups" (a code
# search finds them in production apps): OkHttp's CertificatePinner KDoc and recipes
# (publicobject.com's 2016 chain), the Android NSC guide's example, TrustKit's README.
# A real key's hash, so only a dud when it matches nothing of the path it is judged against.
DOCUMENTATION_PINS = {
    "afwiKY3RxoMmLkuRW1l7QsPZTJPwDS2pdDROQjXw8ig=": "OkHttp CertificatePinner docs",
    "klO23nT2ehFDXCfx3eHTDRESMz3asj1muO+4aIdjiuY=": "OkHttp CertificatePinner docs",
    "grX4Ta9HpZx6tSHkmCrvpApTQGo67CYDnvprLg5yRME=": "OkHttp CertificatePinner docs",
    "lCppFqbkrlJ3EcVFAkeip0+44VaoJUymbnOaEUk7tEU=": "OkHttp CertificatePinner docs",
    "7HIpactkIAq2Y49orFOOQKurWxmmSFZhBCoQYcRhJ3Y=": "the Android network security config guide",
    "fwza0LRMXouZHRC8Ei+4PyuldPDcf3UKgO/04cDM1oE=": "the Android network security config guide",
    "HXXQgxueCIU5TTLHob/bPbwcKOKw6DkfsTWYHbxbqTY=": "the TrustKit README",
    "0SDf3cRToyZJaMsoS17oF72VMavLxj/N7WBNasNuiR8=": "the TrustKit README",
}
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# A SHA-256 digest holds about 30 distinct byte values; 16 or fewer has probability 2.2e-15.
_FEW_BYTES = 16


def placeholder(pin: Pin) -> str | None:
    """Why ``pin`` is a stand-in no key hashes to (``AAAA…``, ``ABCDEF…``), or None.

    Documentation pins are real hashes and are judged by :func:`dud_pins`, against a path.
    """
    if not pin.valid or pin.digest is None:
        return None
    body = pin.value.rstrip("=")
    if len(set(body)) <= 2:
        return f"the same character repeated ({body[:6]}…)"
    if body in _B64 * 2 or body in (_B64 * 2)[::-1]:
        return f"a run of the base64 alphabet ({body[:6]}…)"
    distinct = len(set(pin.digest))
    if distinct <= _FEW_BYTES:
        return f"its {len(pin.digest)} bytes take only {distinct} values (a real hash: ~30)"
    return None


def dud_pins(pins: list[Pin], path: list[PathCert]) -> dict[int, str]:
    """Index → why, for the pins of ``pins`` that are placeholders or unused documentation pins.

    A dud backup is no backup: the lints count these pins as absent.
    """
    table = pin_table(pins)
    hit = {i for cert in path for i in matching_pins(table, cert)}
    out = {}
    for i, pin in enumerate(pins):
        why = placeholder(pin)
        if why is None and i not in hit and pin.algorithm == "sha256":
            doc = DOCUMENTATION_PINS.get(pin.value)
            why = f"the example pin of {doc}" if doc else None
        if why:
            out[i] = why
    return out


def pin_b64(pin: Pin) -> str | None:
    return base64.b64encode(pin.digest).decode() if pin.valid and pin.digest else None


def matches(pin: Pin, cert: PathCert) -> bool:
    if not pin.valid or pin.digest is None:
        return False
    return pin_b64(pin) == (cert.sha256 if pin.algorithm == "sha256" else cert.sha1)


def pin_table(pins: list[Pin] | tuple[Pin, ...]) -> dict[tuple[str, bytes], list[int]]:
    """``(algorithm, digest)`` → indices of the usable pins carrying it.

    One lookup per certificate instead of a comparison per (pin, certificate): a config may
    hold tens of thousands of pins for one host.
    """
    table: dict[tuple[str, bytes], list[int]] = {}
    for i, pin in enumerate(pins):
        if pin.valid and pin.digest is not None:
            table.setdefault((pin.algorithm, pin.digest), []).append(i)
    return table


def matching_pins(table: dict[tuple[str, bytes], list[int]], cert: PathCert) -> list[int]:
    """Indices (ascending) of the pins of ``table`` that match ``cert``."""
    sha256 = table.get(("sha256", base64.b64decode(cert.sha256)), [])
    sha1 = table.get(("sha1", base64.b64decode(cert.sha1)), [])
    return sorted(sha256 + sha1)


def _f(rule: str, severity: str, message: str, policy: PinPolicy, platform: str) -> Finding:
    return Finding(rule, severity, message, policy.source, policy.where, (platform,))  # type: ignore[arg-type]


def lint_policy(
    platform: str, policies: list[PinPolicy], path: list[PathCert], today: date, expiring_days: int
) -> list[Finding]:
    """Findings for the policies ``platform`` applies to one host (already selected)."""
    out: list[Finding] = []
    first = policies[0]
    listed = [p for pol in policies for p in pol.all_pins if p.valid]
    duds = dud_pins(listed, path)
    for i, why in duds.items():
        out.append(
            Finding(
                "placeholder-pin",
                "warning",
                f"pin {listed[i].value[:16]}… is {why}: it matches no real key, so it is no backup",
                first.source,
                listed[i].where or first.where,
                (platform,),
            )
        )
    pins = [p for i, p in enumerate(listed) if i not in duds]
    distinct = {(p.algorithm, p.digest) for p in pins}
    encoded = {p.digest: pin_b64(p) for p in pins}  # each digest encoded once
    table = pin_table(pins)
    in_path: dict[tuple[str, bytes | None], list[PathCert]] = {
        (p.algorithm, p.digest): [] for p in pins
    }
    for cert in path:
        for key in {(pins[i].algorithm, pins[i].digest) for i in matching_pins(table, cert)}:
            in_path[key].append(cert)
    outside = [p for p in pins if not in_path[(p.algorithm, p.digest)]]
    hit_roles = {c.role for certs in in_path.values() for c in certs}
    exp = first.expiration
    if exp is not None and platform not in ("ios", "okhttp"):
        days = (exp - today).days
        if days <= 0:
            out.append(
                _f(
                    "pin-set-expired",
                    "warning",
                    f"pin-set expired on {exp}: pinning is off (fail open) for this host",
                    first,
                    platform,
                )
            )
        elif days <= expiring_days:
            out.append(
                _f(
                    "pin-set-expiring",
                    "warning",
                    f"pin-set expires on {exp} (in {days} days); after that pinning is off",
                    first,
                    platform,
                )
            )
    if len(distinct) == 1:
        dud = f" ({len(duds)} placeholder pin(s) do not count)" if duds else ""
        out.append(
            _f(
                "no-backup-pin",
                "warning",
                f"only {len(distinct)} pin: no backup for a key or CA change{dud}",
                first,
                platform,
            )
        )
    elif len(distinct) > 1 and not outside:
        out.append(
            _f(
                "backup-in-chain",
                "warning",
                f"all {len(distinct)} pins match certificates "
                "in the served chain, so none is a real backup (RFC 7469 §2.5 wants one "
                "that is not)",
                first,
                platform,
            )
        )
    known = known_keys(today)
    families = {
        known[c.sha256][1] for certs in in_path.values() for c in certs if c.sha256 in known
    }
    if (
        outside
        and len(families) == 1
        and all(known.get(encoded[p.digest] or "", ("", "", None))[1] in families for p in outside)
    ):
        out.append(
            _f(
                "same-ca",
                "warning",
                f"every pin, backups included, belongs to "
                f"{families.pop()}: a distrust of or migration away from that CA breaks all "
                "of them",
                first,
                platform,
            )
        )
    if hit_roles == {"leaf"}:
        extra = f"; {len(outside)} backup pin(s) must hold the next key" if outside else ""
        out.append(
            _f(
                "leaf-only",
                "warning",
                "only the leaf key is pinned: "
                f"{REKEYING_TOOLS} make a new key at every renewal{extra}",
                first,
                platform,
            )
        )
    all_pinned = set(encoded.values())
    for group, members in random_groups(today).items():
        pinned = all_pinned & members
        hit = [c for c in path if c.role == "intermediate" and c.sha256 in pinned]
        if hit and pinned != members and not hit_roles & {"root"}:
            out.append(
                _f(
                    "random-intermediate",
                    "warning",
                    f"pins {known[hit[0].sha256][0]}"
                    f", one of {group} which {known[hit[0].sha256][1].split(' (')[0]} picks at "
                    "random per certificate; "
                    f"{len(pinned)} of {len(members)} pinned",
                    first,
                    platform,
                )
            )
    known_root = any("Root" in known.get(b64 or "", ("",))[0] for b64 in encoded.values())
    roots = "root" in hit_roles or known_root
    if roots:
        out.append(
            _f(
                "root-pin",
                "info",
                "a root key is pinned: a trust-store change (distrust, "
                "or a locally added anchor on platforms that bypass pins for it) "
                "can bypass or break it",
                first,
                platform,
            )
        )
    if platform == "ios":
        out += _lint_ats(policies, platform)
    if platform.startswith("trustkit") and not first.enforce and pins:
        out.append(
            _f(
                "not-enforced",
                "warning",
                f"{platform}: enforcement is off (TrustKit-"
                "Android defaults enforcePinning to false; iOS defaults to YES): mismatches "
                "are only reported",
                first,
                platform,
            )
        )
    for anchor in first.trust_anchors:
        if anchor.override_pins and not anchor.debug:
            out.append(
                _f(
                    "override-pins",
                    "warning",
                    f"chains anchored at src={anchor.src} skip "
                    "the pin check (overridePins=true)"
                    + (
                        ": a user-installed CA (MITM proxy) bypasses pinning"
                        if anchor.src == "user"
                        else ""
                    ),
                    first,
                    platform,
                )
            )
    return out


def _lint_ats(policies: list[PinPolicy], platform: str) -> list[Finding]:
    out = []
    for kind in ("leaf_pins", "ca_pins"):
        lists = [getattr(p, kind) for p in policies if getattr(p, kind) is not None]
        if lists and not any(p.valid for lst in lists for p in lst):
            name = "NSPinnedLeafIdentities" if kind == "leaf_pins" else "NSPinnedCAIdentities"
            out.append(
                _f(
                    "ats-unsatisfiable",
                    "error",
                    f"{name} is present but holds no usable "
                    "identity: the host is pinned to nothing and every connection fails",
                    policies[0],
                    platform,
                )
            )
    leaf = {p.digest for pol in policies for p in pol.leaf_pins or () if p.valid}
    ca = {p.digest for pol in policies for p in pol.ca_pins or () if p.valid}
    if leaf and ca and leaf <= ca and ca <= leaf:
        out.append(
            _f(
                "ats-unsatisfiable",
                "error",
                "the leaf and CA identity lists hold the same "
                "keys; one key cannot be both the leaf and a CA of one path, so both checks "
                "can never pass",
                policies[0],
                platform,
            )
        )
    return out
