"""What every command module shares: the usage error, argument types, reading the scenario (a
file, ``--preset NAME`` or the quickstart) and writing under one error line.

It imports nothing from the other ``simlib.cli`` modules, so ``main``, ``toolkit`` and ``world``
all import it and never each other (``main`` registers the others' parsers).
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable, Sequence
from pathlib import Path

from simlib.errors import OutputError, UsageError, one_line

__all__ = [
    "MAX_REPLICATIONS",
    "LazyChoices",
    "UsageError",  # defined in simlib.errors; the command modules import it from here
    "load_input",
    "positive_int",
    "tool_names",
    "write_guarded",
]

MAX_REPLICATIONS = 1_000_000


def positive_int(text: str, limit: int = MAX_REPLICATIONS) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{one_line(text, 40)}' is not a whole number") from None
    if not 1 <= value <= limit:
        raise argparse.ArgumentTypeError(f"must be between 1 and {limit:,}, not {value}")
    return value


def load_input(path: str | None, preset: str | None = None):
    """The scenario of ``path``, of ``--preset NAME`` (refused together with a path), or the
    embedded quickstart when neither is given (:func:`simlib.analysis.presets.scenario_from`)."""
    from simlib.analysis.presets import scenario_from

    return scenario_from(path, preset, exclusive=True)


def tool_names() -> tuple[str, ...]:
    """The certificate tools an option offers (``simlib.world.tooling.TOOLS``, their one home)."""
    from simlib.world.tooling import TOOLS

    return TOOLS


class LazyChoices(Sequence[str]):
    """``argparse`` choices read on first use (a given value, or the help): the command line
    starts without loading what they come from."""

    def __init__(self, load: Callable[[], Sequence[str]]) -> None:
        self._load = load

    @functools.cached_property
    def _values(self) -> tuple[str, ...]:
        return tuple(self._load())

    def __getitem__(self, index):  # type: ignore[override]
        return self._values[index]

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, value: object) -> bool:
        return value in self._values


def write_guarded(out: Path, write, scenario_name: str | None = None):
    """Run ``write()``; an OS error (a full disk) becomes one :class:`OutputError` line. With
    ``scenario_name``, ``out`` is marked as that scenario's results (the mark is undone if the
    writing fails: :func:`simlib._claims.claim_results_folder`)."""
    from simlib._claims import claim_results_folder

    try:
        if scenario_name is None:
            return write()
        with claim_results_folder(out, scenario_name):
            return write()
    except OSError as exc:
        raise OutputError(out, f"cannot write ({exc.strerror or exc})") from None
