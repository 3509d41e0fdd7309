"""Lint rules: risks of a pin policy against the chain a host serves today."""

from __future__ import annotations

import base64
from datetime import date

from simlib.toolkit.chain import PathCert
from simlib.toolkit.policy import Finding, Pin, PinPolicy

# Known CA keys, for rules that need to know more than the served chain shows. This small table
# will move to the world catalogue; SPKI SHA-256 values are from the PEMs letsencrypt.org
# publishes (static/certs/2024/*.pem, isrgrootx1.pem, isrg-root-x2.pem).
LE_FAMILY = "Let's Encrypt (ISRG)"
KNOWN_KEYS: dict[str, tuple[str, str, str | None]] = {}  # spki -> (name, family, random group)
for _name, _spki, _group in [
    ("ISRG Root X1", "C5+lpZ7tcVwmwQIMcRtPbsQtWLABXhQzejna0wHFr8M=", None),
    ("ISRG Root X2", "diGVwiVYbubAI3RW4hB9xU8e/CH2GnkuvVFZE8zmgzI=", None),
    ("Let's Encrypt R10", "K7rZOrXHknnsEhUH8nLL4MZkejquUuIvOIr6tCa0rbo=", "R10-R14"),
    ("Let's Encrypt R11", "bdrBhpj38ffhxpubzkINl0rG+UyossdhcBYj+Zx2fcc=", "R10-R14"),
    ("Let's Encrypt R12", "kZwN96eHtZftBWrOZUsd6cA4es80n3NzSk/XtYz2EqQ=", "R10-R14"),
    ("Let's Encrypt R13", "AlSQhgtJirc8ahLyekmtX+Iw+v46yPYRLJt9Cq1GlB0=", "R10-R14"),
    ("Let's Encrypt R14", "8WR6XuPvrFTIkukwWE/keXm3rNHHbBJxvKHFB22GmIg=", "R10-R14"),
    ("Let's Encrypt E5", "NYbU7PBwV4y9J67c4guWTki8FJ+uudrXL0a4V4aRcrg=", "E5-E9"),
    ("Let's Encrypt E6", "0Bbh/jEZSKymTy3kTOhsmlHKBB32EDu1KojrP3YfV9c=", "E5-E9"),
    ("Let's Encrypt E7", "y7xVm0TVJNahMr2sZydE2jQH8SquXV9yLF9seROHHHU=", "E5-E9"),
    ("Let's Encrypt E8", "iFvwVyJSxnQdyaUvUERIf+8qk7gRze3612JMwoO3zdU=", "E5-E9"),
    ("Let's Encrypt E9", "8UQKm3bh5B5TpMtGEym/Yze0GXJr5RPkLhnxxpHF1LI=", "E5-E9"),
]:
    KNOWN_KEYS[_spki] = (_name, LE_FAMILY, _group)
RANDOM_GROUPS = {g: {k for k, v in KNOWN_KEYS.items() if v[2] == g} for g in ("R10-R14", "E5-E9")}
REKEYING_TOOLS = "certbot (default), AWS ACM and cert-manager >= 1.18 (rotationPolicy Always)"


def pin_b64(pin: Pin) -> str | None:
    return base64.b64encode(pin.digest).decode() if pin.valid and pin.digest else None


def matches(pin: Pin, cert: PathCert) -> bool:
    if not pin.valid or pin.digest is None:
        return False
    return pin_b64(pin) == (cert.sha256 if pin.algorithm == "sha256" else cert.sha1)


def _f(rule: str, severity: str, message: str, policy: PinPolicy, platform: str) -> Finding:
    return Finding(rule, severity, message, policy.source, policy.where, (platform,))  # type: ignore[arg-type]


def lint_policy(
    platform: str, policies: list[PinPolicy], path: list[PathCert], today: date, expiring_days: int
) -> list[Finding]:
    """Findings for the policies ``platform`` applies to one host (already selected)."""
    out: list[Finding] = []
    first = policies[0]
    pins = [p for pol in policies for p in pol.all_pins if p.valid]
    distinct = {(p.algorithm, p.digest) for p in pins}
    in_path = {(p.algorithm, p.digest): [c for c in path if matches(p, c)] for p in pins}
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
        out.append(
            _f(
                "no-backup-pin",
                "warning",
                f"only {len(distinct)} pin: no backup for a key or CA change",
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
    families = {
        KNOWN_KEYS[c.sha256][1]
        for certs in in_path.values()
        for c in certs
        if c.sha256 in KNOWN_KEYS
    }
    if (
        outside
        and len(families) == 1
        and all(KNOWN_KEYS.get(pin_b64(p) or "", ("", "", None))[1] in families for p in outside)
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
    for group, members in RANDOM_GROUPS.items():
        pinned = {pin_b64(p) for p in pins} & members
        hit = [c for c in path if c.role == "intermediate" and c.sha256 in pinned]
        if hit and pinned != members and not hit_roles & {"root"}:
            out.append(
                _f(
                    "random-intermediate",
                    "warning",
                    f"pins {KNOWN_KEYS[hit[0].sha256][0]}"
                    f", one of {group} which Let's Encrypt picks at random per certificate; "
                    f"{len(pinned)} of {len(members)} pinned",
                    first,
                    platform,
                )
            )
    known_root = any("Root" in KNOWN_KEYS.get(pin_b64(p) or "", ("",))[0] for p in pins)
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
