"""Command line: ``simlib run | report | validate | pins | sweep`` (entry point :func:`main`)."""

from simlib.cli.main import main

__all__ = ["main"]
