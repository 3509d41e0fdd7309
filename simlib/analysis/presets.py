"""Real-world presets: replay scenarios shipped in the package (``simlib/_data/presets/``,
``data/presets/`` in a checkout; one YAML file each).

Every preset file opens with a comment block giving the question it answers (a
``# Question:`` line), a narrative, its sources, its documented outcome and its assumptions.
``simlib presets`` lists them; ``simlib run --preset NAME`` runs one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from simlib.errors import ScenarioError, UsageError
from simlib.world.data import presets_dir

if TYPE_CHECKING:
    from simlib.model import Scenario

__all__ = [
    "Preset",
    "header_notes",
    "load_preset",
    "preset",
    "preset_names",
    "presets",
    "presets_dir",
    "question_of",
    "scenario_from",
]


@dataclass(frozen=True)
class Preset:
    """One preset: its name, the one-line question it answers and its scenario file."""

    name: str
    question: str
    file: Path


def header_notes(path: str | Path) -> dict[str, str]:
    """The notes of a scenario file's opening comment block: each ``# Key: text`` line (with
    its ``#   `` continuation lines) as ``{"Key": "text"}`` — ``Question``, ``Sources``,
    ``Assumptions (unconfirmed)`` … in a preset."""
    notes: dict[str, list[str]] = {}
    current: str | None = None
    from simlib.model.yamlio import read_text_file  # bounded: a regular file of at most 10 MB

    for line in read_text_file(path).splitlines():
        if not line.startswith("#"):
            break
        text = line.lstrip("#").strip()
        if line.startswith("#   ") and current is not None:
            if text:
                notes[current].append(text)
            continue
        key, sep, rest = text.partition(":")
        current = key if sep and key and not key.startswith(("-", "http")) else None
        if current is not None:
            notes[current] = [rest.strip()]
    return {k: " ".join(v).strip() for k, v in notes.items()}


def question_of(path: str | Path) -> str:
    """The ``# Question:`` line of a scenario file's opening comment block, or ""."""
    return header_notes(path).get("Question", "")


def presets() -> tuple[Preset, ...]:
    """Every preset, sorted by name."""
    folder = presets_dir()
    return tuple(
        Preset(p.stem, question_of(p), p) for p in sorted(folder.glob("*.yaml")) if p.is_file()
    )


def preset_names() -> tuple[str, ...]:
    return tuple(p.name for p in presets())


def preset(name: str) -> Preset:
    """The preset called ``name``; a one-line :class:`ScenarioError` listing valid names."""
    for p in presets():
        if p.name == name:
            return p
    raise ScenarioError(
        "--preset", "", f"unknown preset {name!r}; valid: {', '.join(preset_names()) or 'none'}"
    )


def load_preset(name: str) -> Scenario:
    """The preset ``name`` as a validated :class:`~simlib.model.Scenario`."""
    from simlib.model import load_scenario

    return load_scenario(preset(name).file)


def scenario_from(
    scenario: str | os.PathLike[str] | Scenario | None = None,
    preset: str | None = None,
    *,
    exclusive: bool = False,
) -> Scenario:
    """The scenario a caller names, the one rule for it (command line, notebooks, report): the
    preset ``preset``, else ``scenario`` (a built :class:`~simlib.model.Scenario` or a YAML
    path), else the embedded quickstart.

    Notebook parameters (default): ``preset`` wins over ``scenario``, and ``None`` or ``""`` is
    absent. ``exclusive`` (the command line): only ``None`` is absent (an empty name or path is
    an error of its own), and giving both is a one-line :class:`~simlib.errors.UsageError`.
    """
    from simlib.model import Scenario, default_scenario, load_scenario

    if exclusive:
        given, named = scenario is not None, preset is not None
        if given and named:
            raise UsageError("give either a scenario file or --preset NAME, not both")
    else:
        given, named = scenario is not None and str(scenario) != "", bool(preset)
    if named:
        return load_preset(str(preset))
    if isinstance(scenario, Scenario):
        return scenario
    return load_scenario(scenario) if given else default_scenario()  # type: ignore[arg-type]
