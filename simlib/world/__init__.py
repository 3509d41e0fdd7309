"""The real world: CA hierarchies with real certificates, validity caps, tooling defaults,
adoption curves, trust-store coverage and the CA roadmap, read from the package's own
``simlib/_data/world/`` (``data/world/`` in a checkout; see :mod:`simlib.world.data`).

Every value carries a ``source`` and a ``confidence`` (primary / secondary / unconfirmed;
unconfirmed marks an assumption). Not imported by ``simlib`` itself.
"""

from __future__ import annotations

from simlib.world.adoption import curve, curve_info, curve_names, points
from simlib.world.caps import cap_on, cap_step_on, schedules
from simlib.world.catalogue import (
    CA,
    ActiveSet,
    CACertificate,
    Catalogue,
    active_intermediates,
    ca,
    catalogue,
    certificate,
)
from simlib.world.data import CONFIDENCE, audit, world_dir
from simlib.world.presets import Preset, load_preset, preset, preset_names, presets
from simlib.world.roadmap import events
from simlib.world.tooling import ToolDefaults, defaults_on, tools
from simlib.world.trust import coverage


def __getattr__(name: str) -> object:
    # The risk calendar runs simulations: loaded on first use (pandas, the engine).
    if name == "calendar":
        from simlib.world.calendar import calendar

        return calendar
    raise AttributeError(f"module 'simlib.world' has no attribute {name!r}")


__all__ = [
    "CA",
    "CONFIDENCE",
    "ActiveSet",
    "CACertificate",
    "Catalogue",
    "Preset",
    "ToolDefaults",
    "active_intermediates",
    "audit",
    "ca",
    "calendar",
    "cap_on",
    "cap_step_on",
    "catalogue",
    "certificate",
    "coverage",
    "curve",
    "curve_info",
    "curve_names",
    "defaults_on",
    "events",
    "load_preset",
    "points",
    "preset",
    "preset_names",
    "presets",
    "schedules",
    "tools",
    "world_dir",
]
