"""What every command module shares: the usage error, argument types, reading the scenario (a
file, ``--preset NAME`` or the quickstart) and writing under one error line.

It imports nothing from the other ``simlib.cli`` modules, so ``main``, ``toolkit`` and ``world``
all import it and never each other (``main`` registers the others' parsers).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from simlib.errors import OutputError, SimlibError, one_line

MAX_REPLICATIONS = 1_000_000


class UsageError(SimlibError):
    """Bad command-line arguments (printed as one line, exit code 2)."""


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
    embedded quickstart when neither is given."""
    from simlib.model import default_scenario, load_scenario

    if preset is not None:
        from simlib.analysis.presets import load_preset

        if path is not None:
            raise UsageError("give either a scenario file or --preset NAME, not both")
        return load_preset(preset)
    return default_scenario() if path is None else load_scenario(path)


def write_guarded(out: Path, write, scenario_name: str | None = None):
    """Run ``write()``; an OS error (a full disk) becomes one :class:`OutputError` line. With
    ``scenario_name``, ``out`` is marked as that scenario's results (the mark is undone if the
    writing fails: :func:`simlib._atomic.claim_results_folder`)."""
    from simlib._atomic import claim_results_folder

    try:
        if scenario_name is None:
            return write()
        with claim_results_folder(out, scenario_name):
            return write()
    except OSError as exc:
        raise OutputError(out, f"cannot write ({exc.strerror or exc})") from None
