"""Analyses over the real world that simulate: the presets (replay scenarios shipped in the
package, :mod:`simlib.analysis.presets`) and the risk calendar (every dated event ahead and what
it does to each strategy, :mod:`simlib.analysis.risk_calendar`).

This layer sits beside the report, above :mod:`simlib.api`: it reads :mod:`simlib.world`'s data
and builds and simulates scenarios. :mod:`simlib.world` itself is base data that depends on
nothing but the leaves and :mod:`simlib.pki`, read by ``model`` and ``server``.
"""

from __future__ import annotations

from simlib.analysis.presets import Preset, load_preset, preset, preset_names, presets


def __getattr__(name: str) -> object:
    # The risk calendar runs simulations: loaded on first use (pandas, the engine). The module
    # is named risk_calendar so that importing it never shadows this function's name.
    if name == "calendar":
        from simlib.analysis.risk_calendar import calendar

        return calendar
    raise AttributeError(f"module 'simlib.analysis' has no attribute {name!r}")


__all__ = ["Preset", "calendar", "load_preset", "preset", "preset_names", "presets"]
