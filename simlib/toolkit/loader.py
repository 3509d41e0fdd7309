"""``load_config``: detect a pin config's format from its content and import it.

Formats come from :data:`simlib.toolkit.formats.REGISTRY`: each scores how surely a file is
its kind, the highest score wins, and a file no format recognises is refused with the formats
tried. The loader adds what every format shares: the malformed-pin check with each platform's
effect (``PlatformRule.bad_pin_effect``) and the start-up failure a wrong-length pin causes
where the platform rejects the whole file.
"""

from __future__ import annotations

import os

from simlib._files import InputFileError, read_limited
from simlib.toolkit import formats as registry
from simlib.toolkit.formats.base import ConfigFormat, Sniff
from simlib.toolkit.policy import ConfigError, Finding, PinConfig, pin_findings


def _sniff(data: bytes, source: str) -> Sniff:
    if not data.strip():
        raise ConfigError(source, "", "empty file")
    if data.startswith(b"bplist"):
        return Sniff(data, source, None)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError(source, "", "UTF-16 text; save the config as UTF-8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(
            source, "", f"binary data that is not a binary plist; expected a config ({_tried()})"
        ) from None
    return Sniff(data, source, text)


def _tried() -> str:
    return ", ".join(registry.REGISTRY)


def _detect(sniff: Sniff) -> ConfigFormat:
    best, score = None, 0
    for fmt in registry.REGISTRY.values():
        got = fmt.detect(sniff)
        if got > score:
            best, score = fmt, got
    if best is None:
        if "\x00" in (sniff.text or ""):
            raise ConfigError(sniff.source, "", "binary data; expected a text config")
        raise ConfigError(
            sniff.source,
            "",
            f"not a pin config any format recognises (tried {_tried()}; "
            "`simlib audit --help` says what each looks like)",
        )
    return best


def detect_format(data: bytes, source: str) -> str:
    """The name of the registered format that recognises ``data`` best."""
    return _detect(_sniff(data, source)).name


def parse_config(
    data: bytes,
    source: str,
    *,
    format: str | None = None,
    platform: str | None = None,
    strict: bool = True,
    host: str | None = None,
) -> PinConfig:
    """Import config bytes; ``source`` names the file in messages.

    ``host`` is the host a pattern stands for when the file writes it as an expression the
    scanner cannot resolve (``BuildConfig.API_HOST``); without it such a file is refused.
    """
    sniff = _sniff(data, source)
    if format is None:
        fmt = _detect(sniff)
    elif format in registry.REGISTRY:
        fmt = registry.REGISTRY[format]
    else:
        known = ", ".join(registry.REGISTRY)
        raise ConfigError(source, "", f"unknown format {format!r}; expected one of {known}")
    try:
        return _import(fmt, sniff, platform, host, strict)
    except ConfigError as exc:  # say which format the file was read as
        label = fmt.label or fmt.name
        if exc.message.startswith(label):
            raise
        raise ConfigError(exc.source, exc.where, f"{label}: {exc.message}") from None


def _import(
    fmt: ConfigFormat, sniff: Sniff, platform: str | None, host: str | None, strict: bool
) -> PinConfig:
    source = sniff.source
    parsed = fmt.parse(sniff, platform, host)
    rules = registry.platform_rules()
    findings: list[Finding] = list(parsed.findings)
    broken = list(parsed.broken)
    seen: set[tuple[str, str, str]] = set()
    for policy in parsed.policies:
        fresh = tuple(p for p in policy.all_pins if (policy.platform, p.where, p.value) not in seen)
        seen.update((policy.platform, p.where, p.value) for p in fresh)
        rule = rules[policy.platform]
        try:
            bad = pin_findings(
                source, fresh, (policy.platform,), rule.bad_pin_effect, strict=strict
            )
        except ConfigError as exc:  # refused; where the platform rejects the file, say so
            if not rule.wrong_length_breaks:
                raise
            raise ConfigError(
                exc.source, exc.where, f"{exc.message}; {rule.bad_pin_effect}"
            ) from None
        findings += bad
        if rule.wrong_length_breaks and any(p.digest is None or p.wrong_length for p in fresh):
            broken.append((policy.platform, "a pin that is not a 32-byte SHA-256 hash"))
    return PinConfig(
        fmt.name,
        source,
        tuple(parsed.platforms),
        tuple(parsed.policies),
        parsed.base,
        tuple(findings),
        tuple(dict.fromkeys(broken)),
        parsed.debug_anchors,
    )


def load_config(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    platform: str | None = None,
    strict: bool = True,
    host: str | None = None,
) -> PinConfig:
    """Read and import a config file (format detected from content unless given).

    Only a regular file of at most 10 MB is read: a FIFO, a device or a folder is refused at
    once, without blocking or reading (``simlib._files.read_limited``).
    """
    shown = os.fspath(path)
    try:
        data = read_limited(path)
    except InputFileError as exc:
        raise ConfigError(shown, "", f"cannot read file: {exc.reason}") from None
    return parse_config(data, shown, format=format, platform=platform, strict=strict, host=host)
