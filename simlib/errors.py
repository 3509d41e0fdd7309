"""Errors raised at simlib's boundaries.

Every error a user can cause with a bad file carries the file, the field path (or line) and what
is wrong, and renders as one line: the CLI prints ``str(error)`` and exits with code 2.
"""

from __future__ import annotations


class SimlibError(Exception):
    """Base class for errors caused by bad input (never by a bug in simlib)."""


class ScenarioError(SimlibError, ValueError):
    """A scenario, sweep or curve file is invalid.

    ``source`` is the file (or ``"<scenario>"`` for in-memory dicts), ``where`` the dotted field
    path such as ``fleet.adoption.components[1].weight`` or ``line 3``.
    """

    def __init__(self, source: str, where: str, message: str) -> None:
        self.source = source
        self.where = where
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [p for p in (self.source, self.where) if p]
        return ": ".join([*parts, self.message]).replace("\n", " ")


def format_loc(loc: tuple[str | int, ...] | list[str | int]) -> str:
    """Render a pydantic/location tuple as ``a.b[1].c``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
