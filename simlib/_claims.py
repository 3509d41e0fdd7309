"""Results folders a command claims: the marker naming their scenario and the files simlib wrote.

:func:`claim_results_folder` marks a folder as one scenario's results for the writes of one
command. Its marker lists the files simlib wrote there: every batch committed into the folder
during the claim (:class:`simlib._atomic.OutputBatch`) adds its names to the marker *before* its
renames (so the list never misses a file of ours, even after a crash), and when the command
succeeds the files the marker listed that this run did not write are removed — only those, only
regular files and links, never a file simlib did not write.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from simlib._atomic import CLAIMS, _write_at, atomic_write
from simlib._files import InputFileError, read_limited
from simlib._outputs import (
    MARKER,
    O_CLOEXEC,
    O_DIRECTORY,
    O_NOFOLLOW,
    lstat_or_none,
    missing_folders,
    read_marker,
)
from simlib.errors import OutputError


def marker_bytes(scenario: str, files: Iterable[str]) -> bytes:
    """A marker naming ``scenario`` and listing ``files`` (what ``_outputs.read_marker`` reads)."""
    from simlib._version import __version__

    data = {"scenario": scenario, "simlib_version": __version__, "files": sorted(files)}
    return (json.dumps(data) + "\n").encode("utf-8")  # ASCII whatever the names


@dataclass
class _Claim:
    """A results folder one command is writing (:func:`claim_results_folder`)."""

    key: tuple[int, int]  # st_dev, st_ino: batches into this very folder are the command's
    scenario: str
    listed: frozenset[str]  # what the marker listed before: files simlib wrote here
    shown: set[str]  # what the marker on disk lists now (always ⊇ listed ∪ written)
    written: set[str] = field(default_factory=set)

    def list_before(self, dir_fd: int, names: Iterable[str]) -> None:
        """List ``names`` in the marker before they are renamed in (a crash then leaves no
        file of ours unlisted)."""
        want = self.shown | set(names)
        if want != self.shown:
            _write_at(dir_fd, MARKER, marker_bytes(self.scenario, want))
            self.shown = want

    def finish(self, folder: Path) -> None:
        """The run succeeded: remove what the marker listed that this run did not write, then
        list exactly what is ours. Best effort: every file of the run is in place already."""
        stale = self.shown - self.written
        if not stale:
            return
        try:
            fd = os.open(folder, os.O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        except OSError:
            return
        try:
            info = os.fstat(fd)
            if (info.st_dev, info.st_ino) != self.key:  # not the folder we wrote: touch nothing
                return
            kept = set()
            for name in sorted(stale):
                try:
                    mode = os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode
                except FileNotFoundError:
                    continue
                except OSError:
                    kept.add(name)
                    continue
                if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
                    continue  # simlib writes files only: a folder there is not ours
                try:
                    os.unlink(name, dir_fd=fd)  # a link goes, never its target
                except FileNotFoundError:
                    pass
                except OSError:
                    kept.add(name)
            with contextlib.suppress(OSError):  # a longer list is harmless: names are checked
                _write_at(fd, MARKER, marker_bytes(self.scenario, self.written | kept))
        finally:
            os.close(fd)


@contextlib.contextmanager
def claim_results_folder(folder: str | os.PathLike[str], scenario: str) -> Iterator[Path]:
    """Mark ``folder`` as ``scenario``'s results (:data:`MARKER`) for the writes in the block.

    The marker is written first, so results are never left in a folder that does not name their
    scenario. Batches committed into the folder in the block are listed in it; when the block
    succeeds, files the marker listed before that this run did not write (a ``--format parquet``
    run's Parquet files after a CSV-only run, say) are removed. If the block fails before any
    batch was committed, the previous marker comes back (or the new one goes, with any folder
    created for it), so a failed command leaves the folder as it was.
    """
    folder = Path(folder)
    marker = folder / MARKER
    previous = None
    info = lstat_or_none(marker)
    if info is not None and stat.S_ISREG(info.st_mode):
        with contextlib.suppress(InputFileError):  # unreadable: replaced (``force`` said so)
            previous = read_limited(marker, 64 * 1024)
    listed: frozenset[str] = frozenset()
    if previous is not None:
        with contextlib.suppress(OutputError):  # not ours: lists nothing (``force`` said so)
            old = read_marker(folder)
            listed = (old.files if old is not None else None) or frozenset()
    created = missing_folders(folder)
    data = marker_bytes(scenario, listed)
    if previous != data:
        atomic_write(marker, data, follow_parent=False)
    info = os.lstat(folder)
    claim = _Claim((info.st_dev, info.st_ino), scenario, listed, set(listed))
    token = CLAIMS.set((*CLAIMS.get(), claim))
    try:
        yield folder
    except BaseException:
        CLAIMS.reset(token)
        if claim.written:  # files of this run are in place: the marker lists them, keep it
            raise
        if previous is None:
            with contextlib.suppress(OSError):
                os.unlink(marker)
            for d in created:
                with contextlib.suppress(OSError):
                    os.rmdir(d)
        elif previous != data:
            with contextlib.suppress(OSError):
                atomic_write(marker, previous, follow_parent=False)
        raise
    CLAIMS.reset(token)
    claim.finish(folder)
