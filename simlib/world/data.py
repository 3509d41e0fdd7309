"""Where the real-world data lives, and the row checks every world file shares.

The real-world data ships inside the package, in ``simlib/_data/``: ``world/`` (the sourced CSV
and YAML files), ``certs/`` (the real CA certificates the catalogue names) and ``presets/`` (the
replay scenarios). It is found with :mod:`importlib.resources`, so an installed wheel, an
editable install and a source checkout read the same files, and so do Dask workers that have
simlib installed. In a checkout, ``data/world``, ``data/certs`` and ``data/presets`` are
symbolic links to those folders (``data/scenarios`` and ``data/sweeps`` are users' examples
and stay outside the package).

Every row of every file in ``data/world/`` carries a ``source`` and a ``confidence`` (one of
:data:`CONFIDENCE`; ``unconfirmed`` marks an assumption). Loaders raise
:class:`simlib.errors.ScenarioError` naming the file and the line (or YAML field) at fault.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import re
from collections.abc import Iterator, Mapping
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from simlib.errors import ScenarioError

__all__ = [
    "CONFIDENCE",
    "CSV_FILES",
    "YAML_FILES",
    "Row",
    "audit",
    "certs_dir",
    "parse_bool",
    "parse_date",
    "parse_float",
    "presets_dir",
    "read_csv",
    "read_yaml",
    "sourced",
    "weakest",
    "world_dir",
]

#: Confidence labels, strongest first.
CONFIDENCE: tuple[str, ...] = ("primary", "secondary", "unconfirmed")

CSV_FILES: tuple[str, ...] = (
    "validity-caps.csv",
    "tooling-defaults.csv",
    "adoption-curves.csv",
    "adoption-points.csv",
    "trust-store-coverage.csv",
    "ca-roadmap.csv",
    "cost-defaults.csv",
    "ct-enforcement.csv",
)
YAML_FILES: tuple[str, ...] = ("ca-catalogue.yaml",)

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


#: Keeps the package data extracted for the life of the process when simlib is imported
#: from a zip file (a wheel on ``sys.path``; Python 3.12+); unused for ordinary installs.
_EXTRACTED = contextlib.ExitStack()


@functools.cache
def _data_root() -> Path:
    """``simlib/_data/``: the package's own data folder, wherever simlib is installed."""
    root = resources.files("simlib") / "_data"
    if isinstance(root, Path):
        return root
    return Path(_EXTRACTED.enter_context(resources.as_file(root)))  # zipped: extracted once


def _package_dir(name: str, what: str) -> Path:
    path = _data_root() / name
    if not path.is_dir():
        raise FileNotFoundError(
            f"{what} not found: {path} (the simlib installation is incomplete: reinstall simlib)"
        )
    return path


def world_dir() -> Path:
    """``simlib/_data/world/`` (``data/world/`` in a checkout); a one-line error if missing."""
    return _package_dir("world", "real-world data folder")


def certs_dir() -> Path:
    """``simlib/_data/certs/`` (``data/certs/`` in a checkout): the real CA certificates the
    catalogue names."""
    return _package_dir("certs", "certificate folder")


def presets_dir() -> Path:
    """``simlib/_data/presets/`` (``data/presets/`` in a checkout): the real-world presets."""
    return _package_dir("presets", "preset folder")


class Row(dict[str, str]):
    """One CSV row (column -> stripped text) that remembers its file and line."""

    source_file: str = ""
    line: int = 0

    @property
    def where(self) -> str:
        return f"line {self.line}"

    def error(self, message: str) -> ScenarioError:
        return ScenarioError(self.source_file, self.where, message)

    def text(self, column: str, *, required: bool = True) -> str | None:
        value = self.get(column, "")
        if not value:
            if required:
                raise self.error(f"'{column}' is empty")
            return None
        return value


def read_csv(path: Path, required: tuple[str, ...]) -> list[Row]:
    """Rows of a world CSV file; checks the header and every row's source and confidence."""
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise ScenarioError(str(path), "", f"cannot read: {exc.strerror or exc}") from exc
    rows: list[Row] = []
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [c for c in (*required, "source", "confidence") if c not in header]
        if missing:
            raise ScenarioError(str(path), "line 1", f"missing column(s): {', '.join(missing)}")
        for raw in reader:
            row = Row({k: (v or "").strip() for k, v in raw.items() if k is not None})
            row.source_file, row.line = str(path), reader.line_num
            if None in raw:
                raise row.error("more fields than header columns (quote values with commas)")
            sourced(row, str(path), row.where)
            rows.append(row)
    return rows


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(path), "", f"cannot read: {exc.strerror or exc}") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        raise ScenarioError(str(path), where, f"invalid YAML: {exc}") from exc


def sourced(item: Mapping[str, Any], file: str, where: str) -> tuple[str, str]:
    """(source, confidence) of a row or YAML entry; raises if either is missing or bad."""
    source = str(item.get("source") or "").strip()
    confidence = str(item.get("confidence") or "").strip()
    if not source:
        raise ScenarioError(file, where, "'source' is empty: every value needs a citation")
    if confidence not in CONFIDENCE:
        shown = confidence or "(empty)"
        raise ScenarioError(
            file, where, f"confidence {shown!r} is not one of {', '.join(CONFIDENCE)}"
        )
    return source, confidence


def weakest(*labels: str) -> str:
    """The weakest of some confidence labels (unconfirmed < secondary < primary)."""
    return max(labels, key=CONFIDENCE.index, default="primary")


def parse_date(value: Any, file: str, where: str, field: str) -> date:
    """A ``YYYY-MM-DD`` date (YAML may already give a ``date``)."""
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if _DATE_RE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise ScenarioError(file, where, f"{field} {text!r} is not a date (YYYY-MM-DD)")


def parse_float(value: str, file: str, where: str, field: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ScenarioError(file, where, f"{field} {value!r} is not a number") from None


def parse_bool(value: str, file: str, where: str, field: str) -> bool:
    text = value.strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise ScenarioError(file, where, f"{field} {value!r} is not true or false")


def _yaml_entries(data: Any, path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every YAML mapping that states a fact: those with a 'name' or a 'from' key, and CAs."""
    if isinstance(data, Mapping):
        if "name" in data or "from" in data or "display_name" in data:
            yield path, data
        for key, value in data.items():
            yield from _yaml_entries(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _yaml_entries(value, f"{path}[{i}]")


def audit(directory: Path | None = None) -> list[str]:
    """One message per row (CSV) or entry (YAML) without a source or a valid confidence."""
    base = directory or world_dir()
    problems: list[str] = []
    for name in CSV_FILES:
        with (base / name).open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            for raw in reader:
                try:
                    sourced(raw, name, f"line {reader.line_num}")
                except ScenarioError as exc:
                    problems.append(str(exc))
    for name in YAML_FILES:
        for where, entry in _yaml_entries(read_yaml(base / name)):
            try:
                sourced(entry, name, where)
            except ScenarioError as exc:
                problems.append(str(exc))
    return problems
