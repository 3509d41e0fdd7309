"""A results folder's marker lists the files simlib wrote there; a re-run removes the listed files
it no longer writes, in the same command, and never a file simlib did not write."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simlib._atomic import OutputBatch, move_files_into, write_files
from simlib._claims import claim_results_folder
from simlib._outputs import MARKER, check_results_folder, read_marker
from simlib.errors import OutputError

pytestmark = pytest.mark.hostile

NAMES = ("summary.csv", "summary.parquet", "timeseries.csv", "timeseries.parquet", "report.html")


def _run(folder: Path, names, scenario: str = "s") -> None:
    """One command: the marker claimed, then one batch of ``names``."""
    with claim_results_folder(folder, scenario):
        write_files(folder, {n: f"{n} of {scenario}\n" for n in names})


def _listed(folder: Path) -> list[str]:
    return json.loads((folder / MARKER).read_text())["files"]


def _visible(folder: Path) -> set[str]:
    return {n for n in os.listdir(folder) if not n.startswith(".")}


def test_a_rerun_removes_what_only_the_earlier_run_wrote(tmp_path):
    out = tmp_path / "out"
    _run(out, ["summary.csv", "summary.parquet"])
    assert _listed(out) == ["summary.csv", "summary.parquet"]
    (out / "notes.txt").write_text("mine")  # simlib did not write it
    _run(out, ["summary.csv"])
    assert _visible(out) == {"summary.csv", "notes.txt"}
    assert _listed(out) == ["summary.csv"]
    assert read_marker(out).files == {"summary.csv"}


def test_force_over_another_scenario_removes_its_listed_files_only(tmp_path):
    out = tmp_path / "out"
    _run(out, ["summary.csv", "timeseries.parquet"], scenario="other")
    (out / "notes.txt").write_text("mine")
    check_results_folder(out, "s", force=True)
    _run(out, ["summary.csv"])
    assert _visible(out) == {"summary.csv", "notes.txt"}
    assert (out / "summary.csv").read_text() == "summary.csv of s\n"
    assert read_marker(out).scenario == "s"


def test_a_listed_link_goes_never_its_target_and_a_folder_stays(tmp_path):
    out, outside = tmp_path / "out", tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("keep")
    _run(out, ["a.csv", "b.csv", "c.csv"])
    os.unlink(out / "a.csv")
    os.symlink(outside / "secret", out / "a.csv")  # planted where a listed file was
    os.unlink(out / "b.csv")
    (out / "b.csv").mkdir()  # a folder is never simlib's file
    _run(out, ["c.csv"])
    assert not os.path.lexists(out / "a.csv")
    assert (outside / "secret").read_text() == "keep"
    assert (out / "b.csv").is_dir()
    assert _listed(out) == ["c.csv"]


def test_a_failed_run_removes_nothing(tmp_path):
    out = tmp_path / "out"
    _run(out, ["summary.csv", "summary.parquet"])
    marker = (out / MARKER).read_bytes()
    with pytest.raises(OSError), claim_results_folder(out, "s"), OutputBatch(out) as batch:
        batch.add("summary.csv", "new\n")
        raise OSError(28, "No space left on device")
    assert _visible(out) == {"summary.csv", "summary.parquet"}
    assert (out / "summary.csv").read_text() == "summary.csv of s\n"
    assert (out / MARKER).read_bytes() == marker


def test_a_run_that_fails_after_a_batch_keeps_everything_listed(tmp_path):
    """A crash after the renames: the marker lists the new files and the old ones."""
    out = tmp_path / "out"
    _run(out, ["old.csv"])
    with pytest.raises(RuntimeError), claim_results_folder(out, "s"):
        write_files(out, {"new.csv": "x"})
        raise RuntimeError("killed")
    assert _visible(out) == {"old.csv", "new.csv"}
    assert _listed(out) == ["new.csv", "old.csv"]
    _run(out, ["new.csv"])  # the next good run cleans up
    assert _visible(out) == {"new.csv"}


def test_files_moved_in_are_listed_too(tmp_path):
    out = tmp_path / "out"
    _run(out, ["summary.csv", "summary.parquet"])
    staging = Path(tempfile.mkdtemp(dir=out, prefix=".report-"))
    (staging / "report.html").write_text("<p>")
    (staging / "summary.csv").write_text("x")
    with claim_results_folder(out, "s"):
        move_files_into(staging, out)
    staging.rmdir()
    assert _visible(out) == {"report.html", "summary.csv"}
    assert _listed(out) == ["report.html", "summary.csv"]


def test_a_batch_into_another_folder_is_not_the_claims(tmp_path):
    out, sub = tmp_path / "out", tmp_path / "out" / "figures"
    _run(out, ["summary.csv"])
    with claim_results_folder(out, "s"):
        write_files(out, {"summary.csv": "x"})
        write_files(sub, {"fig.png": "x"})
    assert _listed(out) == ["summary.csv"]
    assert (sub / "fig.png").exists()


def test_a_marker_without_a_list_lists_nothing(tmp_path):
    """Folders written before markers listed files: nothing is known to be ours."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.parquet").write_text("old")
    (out / MARKER).write_text(json.dumps({"scenario": "s", "simlib_version": "0"}))
    assert read_marker(out).files is None
    _run(out, ["summary.csv"])
    assert _visible(out) == {"summary.csv", "summary.parquet"}
    assert _listed(out) == ["summary.csv"]


@pytest.mark.parametrize(
    "files",
    [["../x"], ["a/b"], [MARKER], [".."], [""], "summary.csv", [1], ["a\0b"], {"a": 1}],
    ids=repr,
)
def test_a_marker_listing_anything_but_plain_names_is_not_ours(tmp_path, files):
    out = tmp_path / "out"
    out.mkdir()
    (out / MARKER).write_text(json.dumps({"scenario": "s", "files": files}))
    with pytest.raises(OutputError, match="is not a simlib marker"):
        check_results_folder(out, "s")
    # --force replaces such a marker, and then nothing it named is removed
    (tmp_path / "x").write_text("outside")
    check_results_folder(out, "s", force=True)
    _run(out, ["summary.csv"])
    assert (tmp_path / "x").read_text() == "outside"
    assert _listed(out) == ["summary.csv"]


runs = st.lists(
    st.tuples(st.sets(st.sampled_from(NAMES)), st.booleans()),  # (names, fails)
    min_size=1,
    max_size=6,
)


@settings(max_examples=40, deadline=None)
@given(runs=runs, foreign=st.sets(st.sampled_from(("notes.txt", "summary.txt")), max_size=2))
def test_after_each_run_the_folder_holds_its_files_and_the_users(runs, foreign):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        out.mkdir()
        for name in foreign:
            (out / name).write_text("the user's")
        expected = set(foreign)
        for names, fails in runs:
            before = {n: (out / n).read_bytes() for n in _visible(out)}
            try:
                with claim_results_folder(out, "s"):
                    if fails:
                        with OutputBatch(out) as batch:
                            for n in names:
                                batch.add(n, "half")
                            raise RuntimeError("disk full")
                    write_files(out, {n: n for n in names})
            except RuntimeError:
                assert {n: (out / n).read_bytes() for n in _visible(out)} == before
                continue
            expected = set(foreign) | set(names)
            assert _visible(out) == expected
            assert set(_listed(out)) == set(names)
        assert _visible(out) == expected
        assert all((out / n).read_text() == "the user's" for n in foreign)
