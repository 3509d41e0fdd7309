"""Every row of every data/world file has a source and a confidence (and breaking one fails)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from simlib.errors import ScenarioError
from simlib.report.decision import load_cost_defaults
from simlib.world.adoption import load_curves, load_points
from simlib.world.caps import load_caps
from simlib.world.catalogue import load_catalogue
from simlib.world.ct import load_ct
from simlib.world.data import CONFIDENCE, CSV_FILES, YAML_FILES, audit
from simlib.world.roadmap import load_roadmap
from simlib.world.tooling import load_tooling
from simlib.world.trust import load_coverage
from tests.world.conftest import CERTS_DIR, WORLD_DIR

LOADERS: dict[str, Callable[[Path], Any]] = {
    "validity-caps.csv": load_caps,
    "tooling-defaults.csv": load_tooling,
    "adoption-curves.csv": load_curves,
    "adoption-points.csv": load_points,
    "trust-store-coverage.csv": load_coverage,
    "ca-roadmap.csv": load_roadmap,
    "cost-defaults.csv": lambda d: not load_cost_defaults(d).empty,
    "ct-enforcement.csv": load_ct,
    "ca-catalogue.yaml": lambda d: load_catalogue(d, CERTS_DIR),
}


def _rows(name: str) -> list[dict[str, str]]:
    with (WORLD_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_world_file_is_known() -> None:
    data_files = {p.name for p in WORLD_DIR.iterdir() if p.suffix in (".csv", ".yaml")}
    assert data_files == set(CSV_FILES) | set(YAML_FILES) == set(LOADERS)


@pytest.mark.parametrize("name", CSV_FILES)
def test_every_csv_row_is_sourced(name: str) -> None:
    rows = _rows(name)
    assert rows, name
    for i, row in enumerate(rows, start=2):
        assert (row.get("source") or "").strip(), f"{name} line {i}: no source"
        assert row.get("confidence") in CONFIDENCE, f"{name} line {i}: {row.get('confidence')!r}"


def test_every_catalogue_entry_is_sourced() -> None:
    data = yaml.safe_load((WORLD_DIR / "ca-catalogue.yaml").read_text(encoding="utf-8"))
    count = 0
    for ca_name, body in data["cas"].items():
        entries = [body, *body["certificates"], *(body.get("active_sets") or [])]
        for entry in entries:
            count += 1
            label = f"{ca_name}: {entry.get('name') or entry.get('from')}"
            assert str(entry.get("source") or "").strip(), label
            assert entry.get("confidence") in CONFIDENCE, label
    assert count > 60


def test_audit_is_clean_and_every_loader_accepts_the_data() -> None:
    assert audit() == []
    for name, load in LOADERS.items():
        assert load(WORLD_DIR), name


def _break_csv(path: Path, line: int, column: str, value: str) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
        header = list(rows[0])
    rows[line - 2][column] = value
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.parametrize("name", CSV_FILES)
@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("source", "", "'source' is empty"),
        ("confidence", "", "confidence '(empty)'"),
        ("confidence", "likely", "confidence 'likely' is not one of"),
    ],
)
def test_a_broken_row_fails(
    world_copy: Path, name: str, column: str, value: str, message: str
) -> None:
    _break_csv(world_copy / name, 3, column, value)
    problems = audit(world_copy)
    assert len(problems) == 1 and "line 3" in problems[0], problems
    with pytest.raises(ScenarioError) as info:
        LOADERS[name](world_copy)
    assert info.value.where == "line 3"
    assert message in str(info.value)
    assert name in str(info.value)


@pytest.mark.parametrize(
    ("name", "column"),
    [
        ("validity-caps.csv", "effective_date"),
        ("ca-roadmap.csv", "date"),
        ("trust-store-coverage.csv", "date"),
    ],
)
def test_a_bad_date_names_file_and_line(world_copy: Path, name: str, column: str) -> None:
    _break_csv(world_copy / name, 9, column, "2025-02-30")
    with pytest.raises(ScenarioError, match=r"line 9: .*'2025-02-30' is not a date") as info:
        LOADERS[name](world_copy)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("field", ["source", "confidence"])
def test_a_catalogue_entry_without_source_or_confidence_fails(world_copy: Path, field: str) -> None:
    path = world_copy / "ca-catalogue.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["cas"]["letsencrypt"]["certificates"][5][field]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert audit(world_copy) == [
        "ca-catalogue.yaml: cas.letsencrypt.certificates[5]: "
        + (
            "'source' is empty: every value needs a citation"
            if field == "source"
            else "confidence '(empty)' is not one of primary, secondary, unconfirmed"
        )
    ]
    with pytest.raises(ScenarioError) as info:
        load_catalogue(world_copy, CERTS_DIR)
    assert info.value.where == "cas.letsencrypt.certificates[5]"
