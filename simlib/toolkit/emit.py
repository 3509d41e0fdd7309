"""Write the pin config a chosen strategy implies, for each format that can be written.

Given a strategy (which level of the host's chain to pin), the chain and backup pins, each
writer of :func:`simlib.toolkit.formats.writers` produces its file: Android NSC XML, an
``Info.plist`` fragment (XML plist), an OkHttp ``CertificatePinner`` Kotlin snippet and a
TrustKit dictionary (JSON). Expiration goes where the platform has it (NSC, TrustKit); OkHttp
and ATS have none, which the output says.

What the files cannot say goes to :attr:`Emitted.warnings`: a single pin (no backup, the
audit's ``no-backup-pin``) and ``include_subdomains`` where the formats' reach differs (ATS
``NSIncludesSubdomains`` covers one extra label, the others every depth).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime

from cryptography import x509

from simlib.errors import EmitError
from simlib.pki import parse_pin, spki_pin
from simlib.toolkit import formats as registry
from simlib.toolkit.chain import PathCert, complete_path
from simlib.toolkit.formats.base import EmitInput
from simlib.toolkit.formats.text import kotlin_comment as _kotlin_comment  # noqa: F401
from simlib.toolkit.formats.text import kotlin_string as _kotlin_string  # noqa: F401
from simlib.toolkit.formats.text import xml_comment as _comment  # noqa: F401
from simlib.toolkit.hostnames import check_hostname
from simlib.vocabulary import SPKI_LEVELS

STRATEGIES = SPKI_LEVELS  # the pin levels a config can hold (simlib.vocabulary)


@dataclass(frozen=True)
class EmitWarning:
    """Something the written files do that the user should know (printed by the CLI)."""

    rule: str
    message: str
    targets: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"rule": self.rule, "message": self.message, "formats": list(self.targets)}


class Emitted(dict[str, str]):
    """``{--for name: file text}`` plus the :class:`EmitWarning` list the files imply."""

    warnings: tuple[EmitWarning, ...] = ()


def _pinned(strategy: str, path: list[PathCert]) -> PathCert:
    if strategy == "leaf_spki":
        return path[0]
    if len(path) < 2:
        raise EmitError(f"{strategy} needs a CA certificate, but the chain has only the leaf")
    if strategy == "intermediate_spki":
        return path[1]
    if path[-1].role != "root":
        raise EmitError(
            "root_spki needs the root, and none of the roots trusted here (simlib's catalogue, "
            "--anchor, --ca-file) issued the chain's last certificate: pass it with --anchor "
            "or --ca-file"
        )
    return path[-1]


def catalogue_backup(spec: str, today: date) -> list[tuple[str, str]]:
    """``ca:NAME`` (the CA's roots) or ``intermediates:NAME`` (its intermediates active
    ``today``) as ``(SPKI pin, comment)`` pairs from the :mod:`simlib.world` catalogue; the
    spelling is the scenario's backup spelling. Stand-ins without a real certificate are
    skipped; a CA left with none is an error."""
    from simlib.world.catalogue import KEY_TYPES, active_intermediates, catalogue

    kind, _, name = spec.partition(":")
    cat = catalogue()
    if name not in cat.cas:
        raise EmitError(f"backup {spec!r}: unknown CA {name!r}; valid: {', '.join(cat.cas)}")
    ca = cat.cas[name]
    if kind == "ca":
        names = ca.roots
    else:
        names = tuple(
            dict.fromkeys(n for kt in KEY_TYPES for n in active_intermediates(name, today, kt))
        )
    pins = [
        (cert.spki_pin, f"backup {spec}: {cert.name}")
        for cert in (cat.certificates[n] for n in names)
        if cert.spki_pin is not None
    ]
    if not pins:
        what = "root" if kind == "ca" else f"intermediate active on {today}"
        raise EmitError(f"backup {spec!r}: the catalogue has no real {what} certificate of {name}")
    return pins


def pin_set(
    strategy: str,
    chain: list[x509.Certificate],
    backups: tuple = (),
    anchors: tuple = (),
    today: date | None = None,
    ca_file: str | os.PathLike[str] | None = None,
) -> list[tuple[str, str]]:
    """``(base64 SPKI SHA-256, comment)`` pairs: the pinned key first, then the backups.

    The pinned certificate is found on the path a client builds, completed as audit completes
    it (:func:`simlib.toolkit.chain.complete_path`: ``anchors``, ``ca_file``, simlib's shipped
    roots), so ``root_spki`` needs no ``--anchor`` for a root the catalogue ships. A backup is
    a base64 pin (``sha256/`` allowed), a certificate or key, or a catalogue CA: ``ca:NAME``
    (its roots) or ``intermediates:NAME`` (its intermediates active ``today``).
    """
    if strategy not in STRATEGIES:
        raise EmitError(f"unknown strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}")
    if not chain:
        raise EmitError("the chain is empty")
    target = _pinned(strategy, complete_path(list(chain), anchors, ca_file=ca_file))
    pins = [(target.sha256, f"{target.role}: {target.subject}")]
    day = today or datetime.now(UTC).date()
    for i, backup in enumerate(backups):
        if isinstance(backup, str) and backup.partition(":")[0] in ("ca", "intermediates"):
            found = catalogue_backup(backup, day)
        elif isinstance(backup, (tuple, list)):  # the certificates of one file
            try:
                found = [(spki_pin(c), f"backup: {c.subject.rfc4514_string()}") for c in backup]
            except (ValueError, TypeError) as exc:
                raise EmitError(f"backup [{i}]: {exc}") from None
        else:
            try:
                value = backup if isinstance(backup, str) else spki_pin(backup)
                found = [(parse_pin(value), "backup")]
            except (ValueError, TypeError) as exc:
                raise EmitError(f"backup [{i}]: {exc}") from None
        for value, comment in found:
            if value not in (p for p, _ in pins):
                pins.append((value, comment))
    return pins


def nsc_xml(host, pins, *, include_subdomains=False, expires=None) -> str:
    """Android NSC XML for ``pins`` (``(pin, comment)`` pairs)."""
    return registry.REGISTRY["nsc"].writer.write(  # type: ignore[union-attr]
        EmitInput(host, [], list(pins), include_subdomains, expires)
    )


def ats_plist_lists(host, leaf_pins, ca_pins, *, include_subdomains=False) -> str:
    """ATS pins with both lists: a connection needs a match in *each* non-empty list."""
    return registry.REGISTRY["ats"].writer.write(  # type: ignore[union-attr]
        EmitInput(host, list(leaf_pins), list(ca_pins), include_subdomains)
    )


def ats_plist(host, pins, *, leaf: bool, include_subdomains=False) -> str:
    """A plist holding only ``NSAppTransportSecurity``: merge it into the app's Info.plist."""
    pins = list(pins)
    return ats_plist_lists(
        host, pins if leaf else [], [] if leaf else pins, include_subdomains=include_subdomains
    )


def okhttp_kotlin(host, pins, *, include_subdomains=False) -> str:
    return registry.REGISTRY["okhttp"].writer.write(  # type: ignore[union-attr]
        EmitInput(host, [], list(pins), include_subdomains)
    )


def trustkit_json(host, pins, *, include_subdomains=False, expires=None) -> str:
    return write_target("trustkit", EmitInput(host, [], list(pins), include_subdomains, expires))


def write_target(target: str, spec: EmitInput) -> str:
    """One writer's text; a writer refuses what its platform would throw at (EmitError)."""
    return registry.writers()[target].write(spec)


def write_pin_lists(
    host: str,
    leaf_pins: list[tuple[str, str]],
    ca_pins: list[tuple[str, str]],
    *,
    expires: date | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """``(files, refused)``: every registered writer's text for these pin lists (Apple's two
    lists; the other formats take both), or why it refuses them (TrustKit: one pin)."""
    files, refused = {}, {}
    spec = EmitInput(host, list(leaf_pins), list(ca_pins), expires=expires)
    for target in registry.writers():
        try:
            files[target] = write_target(target, spec)
        except EmitError as exc:
            refused[target] = str(exc)
    return files, refused


def _warnings(
    targets: tuple[str, ...], pins: list[tuple[str, str]], include_subdomains: bool, host: str
) -> tuple[EmitWarning, ...]:
    out = []
    if len(pins) < 2:
        out.append(
            EmitWarning(
                "no-backup-pin",
                f"only 1 pin for {host}: no backup for a key or CA change, so the day it "
                "changes every installed copy fails until an update ships (add --backup)",
                targets,
            )
        )
    if include_subdomains:
        rules = registry.platform_rules()
        writers = registry.writers()
        depth = {
            t: {rules[p].subdomain_depth for p in writers[t].platforms if p in rules}
            for t in targets
        }
        one = [t for t in targets if "one" in depth[t]]
        deep = [t for t in targets if "any" in depth[t]]
        if one:
            out.append(
                EmitWarning(
                    "subdomain-reach",
                    f"{', '.join(one)}: NSIncludesSubdomains covers exactly one extra label "
                    f"(www.{host}, not a.b.{host}); deeper subdomains are not pinned there"
                    + (f" (every depth in {', '.join(deep)})" if deep else ""),
                    tuple(one + deep),
                )
            )
    return tuple(out)


def emit(
    strategy: str,
    chain: list[x509.Certificate],
    *,
    host: str,
    backups: tuple = (),
    expires: date | None = None,
    formats: tuple[str, ...] | None = None,
    include_subdomains: bool = False,
    anchors: tuple = (),
    today: date | None = None,
    ca_file: str | os.PathLike[str] | None = None,
) -> Emitted:
    """Config text per ``--for`` name (``android``, ``ios``, ``okhttp``, ``trustkit``: every
    registered writer by default), with :attr:`Emitted.warnings`.

    ``backups`` are base64 SPKI pins (``sha256/`` prefix allowed), certificates or keys, or
    catalogue CAs (``ca:NAME``, ``intermediates:NAME``). ``expires`` must be after ``today``
    (default: the current UTC date): pins that expire at once protect nothing. The path is
    completed from ``anchors``, the roots of ``ca_file`` (PEM) and the roots simlib ships.
    """
    writers = registry.writers()
    targets = tuple(writers) if formats is None else tuple(formats)
    unknown = [f for f in targets if f not in writers]
    if unknown:
        raise EmitError(f"unknown format(s) {unknown}; expected {', '.join(writers)}")
    today = today or datetime.now(UTC).date()
    if expires is not None and expires <= today:
        raise EmitError(
            f"expires {expires} is not after today ({today}): the pins would be off at once"
        )
    # Refuse rather than escape: a name that is not a host name pins nothing anywhere.
    host = check_hostname(host, source="host")
    pins = pin_set(strategy, chain, tuple(backups), tuple(anchors), today, ca_file)
    leaf = strategy == "leaf_spki"
    spec = EmitInput(host, pins if leaf else [], [] if leaf else pins, include_subdomains, expires)
    out = Emitted({t: write_target(t, spec) for t in targets})
    out.warnings = _warnings(targets, pins, include_subdomains, host)
    return out
