"""The config formats the pin toolkit reads and writes: one module each, one table.

``REGISTRY`` lists every :class:`~simlib.toolkit.formats.base.ConfigFormat` (detection,
parsing, the platforms whose rules apply, and a writer where ``simlib emit`` can write it);
``PLATFORM_RULES`` the toolkit platforms those formats introduce (host matching, what a bad
pin does). The loader, the emitter and the CLI read these tables and nothing else, so a new
format is one module and one entry here (or :func:`register` at run time).
"""

from __future__ import annotations

from collections.abc import Iterable

from simlib.toolkit.formats import ats, expo, nsc, okhttp, react_native, trustkit, trustkit_source
from simlib.toolkit.formats.base import ConfigFormat, PlatformRule, Writer
from simlib.toolkit.policy import PinPolicy

#: Format name → format, in detection-tie order (the first of equal scores wins); the writers'
#: order is emit's (android, ios, okhttp, trustkit).
REGISTRY: dict[str, ConfigFormat] = {
    f.name: f
    for f in (
        nsc.FORMAT,
        ats.FORMAT,
        expo.FORMAT,
        okhttp.FORMAT,
        trustkit.FORMAT,
        trustkit_source.FORMAT,
        react_native.FORMAT,
    )
}


def register(fmt: ConfigFormat) -> None:
    """Add ``fmt`` (a plug-in or a test's format); its name must be new."""
    if fmt.name in REGISTRY:
        raise ValueError(f"format {fmt.name!r} is already registered")
    REGISTRY[fmt.name] = fmt


def unregister(name: str) -> None:
    REGISTRY.pop(name, None)


def formats() -> tuple[str, ...]:
    """Every format name, as ``load_config(format=…)`` accepts."""
    return tuple(REGISTRY)


def platform_rules() -> dict[str, PlatformRule]:
    """Toolkit platform name → its rules (``android``, ``ios``, ``okhttp``, ``trustkit-…``)."""
    return {r.name: r for f in REGISTRY.values() for r in f.rules}


def platforms() -> tuple[str, ...]:
    return tuple(platform_rules())


def platform_choices() -> tuple[str, ...]:
    """Every ``--platform`` value some format accepts."""
    return tuple(dict.fromkeys(p for f in REGISTRY.values() for p in f.platform_choices if p))


def writers() -> dict[str, Writer]:
    """``simlib emit --for`` name → writer, for every format that can be written."""
    return {f.writer.target: f.writer for f in REGISTRY.values() if f.writer is not None}


def emit_targets() -> tuple[str, ...]:
    return tuple(writers())


def select(platform: str, policies: Iterable[PinPolicy], hostname: str) -> list[PinPolicy]:
    """The policies ``platform`` applies to ``hostname`` (empty: the host is not pinned)."""
    return platform_rules()[platform].select(policies, hostname)
