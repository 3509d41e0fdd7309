"""Which pin policies apply to a hostname, exactly as each platform decides it.

Each function ports the platform's own code (comments name it), quirks included, because a
pattern that looks right but does not match is the commonest way a shipped config pins nothing.
Which function a platform uses is its format's :class:`~simlib.toolkit.formats.base.PlatformRule`
(``formats.select``, the one dispatch on platform names).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simlib._hostnames import check_hostname
from simlib.errors import clip
from simlib.toolkit.policy import ConfigError, PinPolicy


def leaf_hostname(cert: Any, source: str) -> str | None:
    """The first DNS name of the leaf's subjectAltName that names one host (wildcards skipped).

    Every name read on the way is checked with :func:`check_hostname`, so a certificate cannot
    put terminal escapes or code into output; None when the leaf names no single host.
    """
    from cryptography import x509

    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = san.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        return None
    except ValueError as exc:  # a malformed extension parses lazily
        raise ConfigError(
            source, "certificate [0]", f"unreadable extensions ({clip(exc, 100)})"
        ) from None
    for i, raw in enumerate(names):
        host = check_hostname(
            raw,
            source=source,
            where=f"certificate [0] subjectAltName DNS [{i}]",
            wildcard=True,
            ip=False,
        )
        if not host.startswith("*."):
            return host
    return None


def okhttp_canonical(pattern: str) -> str:
    """OkHttp ``toCanonicalHost()`` for a pattern or host: lower-case, IDN to ASCII."""
    text = pattern.strip().lower()
    try:
        return text.encode("idna").decode("ascii") if not text.isascii() else text
    except UnicodeError:
        return text


def okhttp_matches(pattern: str, hostname: str) -> bool:
    """``CertificatePinner.Pin.matchesHostname`` (square/okhttp, CertificatePinner.kt).

    ``**.example.com`` matches example.com and any number of extra labels; ``*.example.com``
    exactly one extra label (not example.com, not a.b.example.com); anything else is exact.
    """
    host = okhttp_canonical(hostname)
    if pattern.startswith("**."):
        # With ** empty prefixes match, so the dot is excluded from the compared suffix.
        suffix = pattern[3:]
        prefix_len = len(host) - len(suffix)
        return (
            prefix_len >= 0
            and host.endswith(suffix)
            and (prefix_len == 0 or host[prefix_len - 1] == ".")
        )
    if pattern.startswith("*."):
        # With * there must be a prefix, so the dot is part of the compared suffix.
        suffix = pattern[1:]
        prefix_len = len(host) - len(suffix)
        return prefix_len >= 0 and host.endswith(suffix) and host.rfind(".", 0, prefix_len) == -1
    return host == pattern


def okhttp_select(policies: Iterable[PinPolicy], hostname: str) -> list[PinPolicy]:
    """``findMatchingPins``: the union of every matching pattern's pins."""
    return [p for p in policies if okhttp_matches(p.pattern, hostname)]


def nsc_select(policies: Iterable[PinPolicy], hostname: str) -> PinPolicy | None:
    """``ApplicationConfig.getConfigForHostname`` (AOSP frameworks/base).

    Lower-cased, trailing dot removed; an exact domain wins at once; otherwise the longest
    ``includeSubdomains`` domain of which the host is a subdomain at any depth. None means the
    base-config applies (which cannot hold pins).
    """
    host = hostname.lower()
    if host.endswith("."):
        host = host[:-1]
    return _exact_or_longest_parent(policies, host)


def trustkit_android_select(policies: Iterable[PinPolicy], hostname: str) -> PinPolicy | None:
    """``TrustKitConfiguration.getPolicyForHostname`` (datatheorem/TrustKit-Android).

    Same shape as NSC but case-sensitive and without trailing-dot handling.
    """
    return _exact_or_longest_parent(policies, hostname)


def _exact_or_longest_parent(policies: Iterable[PinPolicy], host: str) -> PinPolicy | None:
    """An exact domain at once; else the longest ``includeSubdomains`` parent at any depth."""
    best: PinPolicy | None = None
    for policy in policies:
        domain = policy.pattern
        if domain == host:
            return policy
        if (
            policy.include_subdomains
            and len(host) > len(domain)
            and host.endswith(domain)
            and host[len(host) - len(domain) - 1] == "."
            and (best is None or len(domain) > len(best.pattern))
        ):
            best = policy
    return best


def ats_select(policies: Iterable[PinPolicy], hostname: str) -> list[PinPolicy]:
    """``parseNSPinnedDomains`` (apple-oss-distributions/Security, SecPolicy.c).

    Case-insensitive; a trailing dot is stripped; with ``NSIncludesSubdomains`` a host matches if
    removing exactly its first label gives the domain (one extra label only). Every matching
    entry contributes (union).
    """
    host = hostname[:-1] if hostname.endswith(".") else hostname
    dot = host.find(".")
    # CopyParentDomainNameFromHostName: needs a dot that is not the last character.
    parent = host[dot + 1 :] if 0 <= dot < len(host) - 1 else None
    out = []
    for policy in policies:
        domain = policy.pattern.casefold()
        if domain == host.casefold() or (
            policy.include_subdomains and parent is not None and domain == parent.casefold()
        ):
            out.append(policy)
    return out


# TrustKit iOS compares registries with Chromium's domain_registry (the full Public Suffix List).
# This is a small stand-in: the multi-label suffixes an app is likely to pin under. Unknown
# names fall back to their last label, which is what the PSL's "*" default rule says too.
_MULTI_LABEL_SUFFIXES = frozenset(
    {
        "co.uk",
        "org.uk",
        "ac.uk",
        "gov.uk",
        "com.au",
        "net.au",
        "org.au",
        "co.jp",
        "ne.jp",
        "or.jp",
        "co.nz",
        "com.br",
        "com.cn",
        "com.mx",
        "co.in",
        "co.za",
        "com.sg",
        "com.tr",
        "appspot.com",
        "herokuapp.com",
        "github.io",
        "cloudfront.net",
        "azurewebsites.net",
    }
)


def registry_length(hostname: str) -> int:
    """Length of the public suffix of ``hostname`` (0 if the name is itself only a suffix)."""
    labels = hostname.split(".")
    if len(labels) >= 3 and ".".join(labels[-2:]) in _MULTI_LABEL_SUFFIXES:
        return len(".".join(labels[-2:]))
    if len(labels) < 2 or hostname in _MULTI_LABEL_SUFFIXES:
        return 0
    return len(labels[-1])


def is_public_suffix(hostname: str) -> bool:
    """True for a bare suffix (``com``, ``co.uk``, ``appspot.com``): TrustKit refuses to pin it."""
    return registry_length(hostname) == 0


def _trustkit_subdomain_match(domain: str, host: str) -> int:
    """``isSubdomain`` in TrustKit configuration_utils.m: match length, 0 if no match."""
    if len(host) <= len(domain):
        return 0
    reg = registry_length(domain)
    if reg == 0 or registry_length(host) != reg or domain[-reg:] != host[-reg:]:
        return 0
    # "." + domain without its suffix must end the host without its suffix (componentsSeparated
    # ByString(...).lastObject == "" is exactly an endswith test).
    domain_label = "." + domain[: len(domain) - reg - 1]
    return len(domain_label) if host[: len(host) - reg - 1].endswith(domain_label) else 0


def trustkit_ios_select(policies: Iterable[PinPolicy], hostname: str) -> PinPolicy | None:
    """``getPinningConfigurationKeyForDomain`` (datatheorem/TrustKit, configuration_utils.m).

    An exact (case-sensitive dictionary) key wins; otherwise the includeSubdomains domain with
    the longest match at any depth, with the same public suffix.
    """
    policies = list(policies)
    for policy in policies:
        if policy.pattern == hostname:
            return policy
    best, best_len = None, 0
    for policy in policies:
        if policy.include_subdomains:
            n = _trustkit_subdomain_match(policy.pattern, hostname)
            if n > best_len:
                best, best_len = policy, n
    return best
