"""Pin toolkit: import an app's pin config, audit it against a chain, emit the config you chose.

Public API (imports are deferred so ``import simlib.toolkit`` stays cheap)::

    cfg = load_config("network_security_config.xml")          # or Info.plist, trustkit.json, …
    chain = load_chain("chain.pem")
    report = audit(cfg, chain, host="api.example.com")
    print(report.to_table()); sys.exit(report.exit_code("warning"))
    files = emit("root_spki", chain, host="api.example.com", backups=[backup_spki])
    risk = forecast([cfg], {"api.example.com": chain, "cdn.example.com": cdn}, fleet=fleet)

Errors caused by bad input are :class:`ConfigError` / :class:`EmitError` (``SimlibError``
subclasses) whose ``str()`` is one line.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING

from simlib.toolkit.policy import ConfigError, Finding, Pin, PinConfig, PinPolicy, TrustAnchor

if TYPE_CHECKING:
    from cryptography import x509

    from simlib.toolkit.report import AuditReport

__all__ = [
    "ConfigError",
    "EmitError",
    "Finding",
    "Pin",
    "PinConfig",
    "PinPolicy",
    "TrustAnchor",
    "audit",
    "emit",
    "forecast",
    "load_chain",
    "load_config",
    "parse_config",
]


def load_config(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    platform: str | None = None,
    strict: bool = True,
    host: str | None = None,
) -> PinConfig:
    """Import a pin config file; ``format`` (a name of :data:`simlib.toolkit.formats.REGISTRY`:
    nsc, ats, expo, okhttp, trustkit, trustkit-source, react-native) is detected if omitted.

    ``platform`` picks whose rules apply where a file serves several: ``android`` or
    ``trustkit`` for NSC XML, ``ios`` or ``android`` for a TrustKit dictionary. ``host`` is
    the host a pattern stands for where the file writes it as an expression that cannot be
    resolved (``BuildConfig.API_HOST``); such a file is refused without it.
    """
    from simlib.toolkit.loader import load_config as _load

    return _load(path, format=format, platform=platform, strict=strict, host=host)


def parse_config(
    data: bytes,
    source: str = "<config>",
    *,
    format: str | None = None,
    platform: str | None = None,
    strict: bool = True,
    host: str | None = None,
) -> PinConfig:
    """Like :func:`load_config` for bytes already in memory (``TypeError`` for ``str``: a
    programming error, since the format is detected from the bytes)."""
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"data must be the file's bytes, not {type(data).__name__}")
    from simlib.toolkit.loader import parse_config as _parse

    return _parse(data, source, format=format, platform=platform, strict=strict, host=host)


def load_chain(path: str | os.PathLike[str]) -> list[x509.Certificate]:
    """Certificates of a PEM bundle or DER file, in served order (leaf first)."""
    from simlib.toolkit.chain import load_chain as _load_chain

    return _load_chain(path)


def audit(
    config: PinConfig,
    chain: list[x509.Certificate],
    *,
    host: str,
    today: date | None = None,
    expiring_days: int = 30,
    anchors: tuple[x509.Certificate, ...] | list[x509.Certificate] = (),
    ca_file: str | os.PathLike[str] | None = None,
    catalogue: bool = True,
    document: bytes | None = None,
) -> AuditReport:
    """Audit ``config`` for ``host`` against ``chain`` under every platform the config targets.

    The path is completed from ``anchors``, the roots of ``ca_file`` (PEM) and, with
    ``catalogue``, the real roots simlib ships; see :func:`simlib.toolkit.audit.audit`.
    """
    from simlib.toolkit.audit import audit as _audit

    return _audit(
        config,
        chain,
        host=host,
        today=today,
        expiring_days=expiring_days,
        anchors=anchors,
        ca_file=ca_file,
        catalogue=catalogue,
        document=document,
    )


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
) -> dict[str, str]:
    """Config text per format for ``strategy`` (leaf_spki|intermediate_spki|root_spki).

    The pinned certificate is read from the path completed as :func:`audit` completes it
    (``anchors``, the roots of ``ca_file``, the real roots simlib ships).
    ``formats``: ``--for`` names of the registered writers (default all). The result is an
    :class:`simlib.toolkit.emit.Emitted` dict whose ``warnings`` say what the files imply (a
    single pin: no backup; subdomains covered to different depths).
    """
    from simlib.toolkit.emit import emit as _emit

    return _emit(
        strategy,
        chain,
        host=host,
        backups=backups,
        expires=expires,
        formats=formats,
        include_subdomains=include_subdomains,
        anchors=anchors,
        today=today,
        ca_file=ca_file,
    )


def forecast(
    configs: list,
    chain: list[x509.Certificate] | Mapping[str, list[x509.Certificate]],
    *,
    host: str | None = None,
    fleet: dict,
    tool: str = "certbot",
    horizon_days: int = 730,
    today: date | None = None,
    anchors: tuple | list = (),
    ca_file: str | os.PathLike[str] | None = None,
):
    """Dated risk calendar (a DataFrame) of shipped configs: see :mod:`simlib.toolkit.forecast`.

    ``configs``: :class:`PinConfig` objects or ``forecast.Shipped(config, release_date)``.
    ``chain``: the served chain of ``host`` (leaf first), or a mapping host → served chain to
    forecast several hosts in one scenario (``host`` is then not given: each key names its
    host; the frame has one row per config, host and platform)::

        forecast([cfg], {"api.example.com": api_chain, "cdn.example.com": cdn_chain}, fleet=f)

    Each path is completed from ``anchors``, the roots of ``ca_file`` and the roots simlib
    ships, as :func:`audit` completes it.
    """
    from simlib.toolkit.forecast import forecast as _forecast

    return _forecast(
        configs,
        chain,
        host=host,
        fleet=fleet,
        tool=tool,
        horizon_days=horizon_days,
        today=today,
        anchors=anchors,
        ca_file=ca_file,
    )


class _Package(types.ModuleType):
    """Keeps the public functions ``audit`` and ``emit`` when their same-named submodules load.

    Importing ``simlib.toolkit.audit`` would otherwise rebind the package attribute ``audit`` to
    the submodule, so ``simlib.toolkit.audit(...)`` broke after the first call. The submodules stay
    importable by their full name (``from simlib.toolkit.audit import audit``).
    """

    def __setattr__(self, name: str, value: object) -> None:
        if name in ("audit", "emit", "forecast") and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> object:
    if name == "EmitError":
        from simlib.toolkit.emit import EmitError

        return EmitError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
