"""The real world: CA hierarchies with real certificates, validity caps, tooling defaults,
adoption curves, trust-store coverage and the CA roadmap, read from the package's own
``simlib/_data/world/`` (``data/world/`` in a checkout; see :mod:`simlib.world.data`).

Every value carries a ``source`` and a ``confidence`` (primary / secondary / unconfirmed;
unconfirmed marks an assumption). Not imported by ``simlib`` itself.

Base data: this package depends on nothing but :mod:`simlib.errors`, the other leaves and
:mod:`simlib.pki` (whose ``spki_pin`` and ``key_type`` are the one rule for a real certificate's
pin and key type), so ``model`` and ``server`` read it. What simulates over it (presets, the risk
calendar) lives in :mod:`simlib.analysis`.
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
from simlib.world.roadmap import events
from simlib.world.tooling import ToolDefaults, defaults_on, tools
from simlib.world.trust import coverage

__all__ = [
    "CA",
    "CONFIDENCE",
    "ActiveSet",
    "CACertificate",
    "Catalogue",
    "ToolDefaults",
    "active_intermediates",
    "audit",
    "ca",
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
    "points",
    "schedules",
    "tools",
    "world_dir",
]
