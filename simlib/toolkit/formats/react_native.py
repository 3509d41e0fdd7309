"""``react-native-ssl-public-key-pinning``: ``initializeSslPinning({host: {includeSubdomains,
publicKeyHashes: [...]}})`` in JavaScript or TypeScript.

Read from the library's native code (frw/react-native-ssl-public-key-pinning):

* iOS (``ios/SslPublicKeyPinning.mm``): a TrustKit instance with, per domain,
  ``kTSKIncludeSubdomains`` (``boolValue`` of the option), ``kTSKPublicKeyHashes`` and
  ``kTSKDisableDefaultReportUri: YES``; TrustKit's defaults otherwise (enforcing, so at least
  two pins) — ``trustkit-ios`` rules.
* Android (``SslPublicKeyPinningModule.java``): an OkHttp ``CertificatePinner`` with
  ``builder.add(includeSubdomains ? "**." + domain : domain, "sha256/" + hash…)`` — ``okhttp``
  rules (``**.`` reaches any depth).

Both catch what the builder throws and *reject the promise*: pinning is then simply not set up
and connections go unpinned (not blocked), which is how a start-up failure is reported here.
The matching rules are TrustKit's and OkHttp's, so the engine needs no new client library.
"""

from __future__ import annotations

from typing import Any

from simlib.toolkit.formats.base import ConfigFormat, Parsed, Sniff, choose_platforms, decode_text
from simlib.toolkit.formats.literals import Reader, find_unresolved, is_punct, tokenize
from simlib.toolkit.policy import ConfigError, Finding, check_tree, show

_CALL = "initializeSslPinning"
# Source files (and a pasted snippet): a README quoting the call is no config.
_SUFFIXES = frozenset({"", ".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".txt"})


def detect(sniff: Sniff) -> int:
    text = sniff.text or ""
    if "\x00" in text:
        return 0
    return 95 if _CALL in text and sniff.suffix in _SUFFIXES else 0


def read_options(text: str, source: str) -> tuple[dict[str, Any], int]:
    """The options object of the first ``initializeSslPinning(…)`` call, and its line."""
    toks = tokenize(text, source)
    reader = Reader(toks, source, templates=True)
    for i, tok in enumerate(toks):
        if tok.kind == "name" and tok.text == _CALL and is_punct(toks, i + 1, "("):
            if is_punct(toks, i - 1, "{") or is_punct(toks, i - 1, ","):
                continue  # import { initializeSslPinning, … }
            value, _ = reader.value(i + 2)
            missing = find_unresolved(value)
            if missing is not None:
                raise ConfigError(
                    source,
                    f"line {missing.line}",
                    f"{_CALL}(): {missing} is not a literal or a constant of this file",
                )
            if not isinstance(value, dict):
                raise ConfigError(source, f"line {tok.line}", f"{_CALL}() takes an object")
            check_tree(value, source, f"{_CALL}() options")
            return value, tok.line
    raise ConfigError(source, "", f"no {_CALL}(…) call in this file")


def _rejects(platform: str, why: str, source: str, where: str) -> Finding:
    return Finding(
        "pinning-not-enabled",
        "error",
        f"{_CALL}() rejects on this platform ({why}): pinning is not set up, so connections "
        "go unpinned",
        source,
        where,
        (platform,),
    )


def _ios(options: dict[str, Any], source: str, where: str, out: Parsed) -> None:
    from simlib.toolkit.trustkit import parse_trustkit_dict

    domains = {
        name: {
            "TSKIncludeSubdomains": bool(opts.get("includeSubdomains"))
            if isinstance(opts, dict)
            else False,
            "TSKPublicKeyHashes": opts.get("publicKeyHashes") if isinstance(opts, dict) else None,
            "TSKDisableDefaultReportUri": True,
        }
        for name, opts in options.items()
    }
    try:
        tk, notes, reasons = parse_trustkit_dict(
            {"TSKPinnedDomains": domains}, source, "trustkit-ios", f"{where}: "
        )
    except ConfigError as exc:  # TrustKit throws an NSException; the library rejects
        out.findings.append(_rejects("trustkit-ios", exc.message, source, exc.where))
        return
    bad = [p for pol in tk for p in pol.pins if not p.valid]
    if reasons or bad:
        why = reasons[0] if reasons else f"pin {show(bad[0].value)}: {bad[0].problem}"
        out.findings.append(_rejects("trustkit-ios", why, source, where))
        return
    out.policies += tk
    out.findings += notes


def _android(options: dict[str, Any], source: str, where: str, out: Parsed) -> None:
    from simlib.toolkit.okhttp import build_policies

    entries = []
    for name, opts in options.items():
        hashes = opts.get("publicKeyHashes") if isinstance(opts, dict) else None
        if hashes is None:
            continue  # the module skips a domain without publicKeyHashes
        include = opts.get("includeSubdomains", False)
        if not isinstance(include, bool) or not isinstance(hashes, list):
            why = "includeSubdomains is not a Boolean" if not isinstance(include, bool) else ""
            out.findings.append(
                _rejects("okhttp", why or "publicKeyHashes is not an array", source, where)
            )
            return
        pattern = f"**.{name}" if include else name
        entries += [(pattern, f"sha256/{h}", where) for h in hashes]
    try:
        policies, notes = build_policies(entries, source)
    except ConfigError as exc:
        out.findings.append(_rejects("okhttp", exc.message, source, where))
        return
    out.policies += policies
    out.findings += notes


def parse(sniff: Sniff, platform: str | None, host: str | None) -> Parsed:
    source = sniff.source
    options, line = read_options(decode_text(sniff), source)
    if not options:
        raise ConfigError(source, f"line {line}", f"{_CALL}() pins no domain")
    out = Parsed(choose_platforms(FORMAT, platform, (), source))
    where = f"line {line}"
    if "trustkit-ios" in out.platforms:
        _ios(options, source, where, out)
    if "okhttp" in out.platforms:
        _android(options, source, where, out)
    return out


FORMAT = ConfigFormat(
    name="react-native",
    label="react-native-ssl-public-key-pinning",
    title="react-native-ssl-public-key-pinning initializeSslPinning() (JS/TS)",
    detect=detect,
    parse=parse,
    platform_choices={
        None: ("trustkit-ios", "okhttp"),
        "ios": ("trustkit-ios",),
        "trustkit-ios": ("trustkit-ios",),
        "android": ("okhttp",),
        "okhttp": ("okhttp",),
    },
)
