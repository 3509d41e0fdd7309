"""The one set of rules for what an output may touch.

Output (every ``--out``; see ``docs/security.md``):

* :func:`check_output_file` — a FILE output (``fleet fit --out``, each file of ``emit --out``):
  refuses a folder, device, FIFO or socket, a symbolic link, and an existing regular file unless
  ``force``.
* :func:`check_output_folder` — a FOLDER output (``run``, ``report``, ``emit``, ``sweep``):
  refuses an existing non-folder and a symbolic link as the folder itself.
* :func:`check_results_folder` — a folder of ``run``/``report`` results: the folder check, plus
  a folder holding another scenario's results (:data:`MARKER`) or files simlib did not write is
  refused unless ``force``; :func:`simlib._claims.claim_results_folder` writes the marker around
  the writes. The marker also lists the files simlib wrote there (:func:`read_marker`), so a
  re-run removes the ones it no longer writes and never a file simlib did not write.

The symbolic-link rule: the last component of a path simlib was given (or the default
``results/`` folder) is never followed; links in the parents a user typed are the user's own
choice and are followed. Inside an output folder a file that is a link is *replaced* (``rename``
replaces the link, never its target), and a folder, device, FIFO or socket in the way of a file
is refused before anything is replaced.

Writing the files all or nothing is :mod:`simlib._atomic`; refusals are
:class:`~simlib.errors.OutputError`.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from simlib._files import InputFileError, read_limited
from simlib.errors import OutputError, clip

#: Hidden file in a folder of ``run``/``report`` results: JSON naming the scenario written there.
MARKER = ".simlib-results"
O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
# Linux: a path through the folder's open descriptor, so a callback that writes "by name" still
# writes into the folder that was checked even if someone renames a link into its place.
FD_PATHS = os.path.isdir("/proc/self/fd")


def kind_of(mode: int) -> str:
    """What a ``st_mode`` is, in words (``a folder``, ``a FIFO``, ...)."""
    for test, name in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def lstat_or_none(path: Path) -> os.stat_result | None:
    """``lstat`` of ``path``; ``None`` when nothing is there (or a parent is missing)."""
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise OutputError(path, f"cannot use this path ({exc.strerror or exc})") from None


def refuse_link(path: Path, shown: Path, what: str) -> None:
    try:
        target = clip(os.readlink(path), 80)
    except OSError:
        target = "?"
    raise OutputError(
        shown,
        f"is a symbolic link (to {target}); simlib never writes through one: give the {what} itself",
    )


def _check_parents(path: Path, shown: Path) -> None:
    """The nearest existing parent of ``path`` is a folder (links followed) we can write in.

    Probes for real (a temporary folder, removed at once): permission bits alone say nothing for
    root, read-only mounts or ``/proc``.
    """
    target = path.parent
    while True:
        try:
            info = os.stat(target)
            break
        except (FileNotFoundError, NotADirectoryError):
            if os.path.islink(target):
                raise OutputError(shown, f"{target} is a broken symbolic link") from None
            if target == target.parent:
                raise OutputError(shown, "no existing parent folder") from None
            target = target.parent
        except OSError as exc:
            raise OutputError(shown, f"cannot use {target} ({exc.strerror or exc})") from None
    if not stat.S_ISDIR(info.st_mode):
        raise OutputError(shown, f"{target} is not a folder ({kind_of(info.st_mode)})")
    _probe(target, shown)


def _probe(folder: Path, shown: Path) -> None:
    import tempfile

    try:
        os.rmdir(tempfile.mkdtemp(prefix=".simlib-probe-", dir=folder))
    except OSError as exc:
        raise OutputError(shown, f"cannot write in {folder} ({exc.strerror or exc})") from None


def check_output_folder(path: str | os.PathLike[str]) -> Path:
    """Refuse (:class:`OutputError`) a FOLDER output simlib must not write into; creates nothing.

    Refused: a symbolic link as the folder itself (even one to a folder), an existing file,
    device, FIFO or socket, a broken link or a file among its parents, a place we cannot write.
    """
    path = Path(path)
    info = lstat_or_none(path)
    if info is None:
        _check_parents(path, path)
    elif stat.S_ISLNK(info.st_mode):
        refuse_link(path, path, "folder")
    elif not stat.S_ISDIR(info.st_mode):
        raise OutputError(path, f"exists and is not a folder ({kind_of(info.st_mode)})")
    else:
        _probe(path, path)
    return path


def check_output_file(path: str | os.PathLike[str], *, force: bool = False) -> Path:
    """Refuse (:class:`OutputError`) a FILE output simlib must not replace; creates nothing.

    Refused: a folder, device, FIFO or socket at ``path`` (``--force`` never replaces those), a
    symbolic link, and an existing regular file unless ``force``. Its parents must lead to a
    folder we can write in.
    """
    path = Path(path)
    info = lstat_or_none(path)
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            refuse_link(path, path, "file")
        if not stat.S_ISREG(info.st_mode):
            raise OutputError(path, f"is {kind_of(info.st_mode)}, not a file simlib may replace")
        if not force:
            raise OutputError(path, "exists: add --force to replace it, or choose another --out")
    _check_parents(path, path)
    return path


def check_no_links(folder: str | os.PathLike[str], names: Iterable[str]) -> None:
    """Refuse a folder whose entries ``names`` (subfolders or files simlib opens by name,
    e.g. a sweep's ``results/`` or ``.lock``) include a symbolic link."""
    folder = Path(folder)
    for name in names:
        info = lstat_or_none(folder / name)
        if info is not None and stat.S_ISLNK(info.st_mode):
            refuse_link(folder / name, folder / name, "file or folder")


#: At most this many names in a marker's file list (a run writes a few dozen files).
MAX_LISTED = 10_000


@dataclass(frozen=True)
class Marker:
    """What a results folder's :data:`MARKER` says: whose results, and which files simlib wrote
    there (``None`` for a marker written before simlib listed them: nothing is known to be ours)."""

    scenario: str
    files: frozenset[str] | None


def _listed(value: object) -> frozenset[str] | None:
    """A marker's ``files``: plain names of entries of the folder itself, never the marker."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_LISTED:
        raise TypeError
    for name in value:
        if (
            not isinstance(name, str)
            or name in ("", ".", "..", MARKER)
            or "/" in name
            or "\0" in name
        ):
            raise TypeError
    return frozenset(value)


def read_marker(folder: str | os.PathLike[str]) -> Marker | None:
    """``folder``'s marker; ``None`` when there is none; raises :class:`OutputError` when the
    marker is not one simlib wrote (not a regular file, not JSON, a bad name or file list)."""
    folder = Path(folder)
    path = folder / MARKER
    info = lstat_or_none(path)
    if info is None:
        return None
    if not stat.S_ISREG(info.st_mode):
        raise OutputError(
            folder, f"{MARKER} is {kind_of(info.st_mode)}: remove it or choose another --out"
        )
    try:
        data = json.loads(read_limited(path, 64 * 1024).decode("utf-8"))
        name = data["scenario"]
        if not isinstance(name, str):
            raise TypeError
        return Marker(name, _listed(data.get("files")))
    except (InputFileError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise OutputError(
            folder, f"{MARKER} is not a simlib marker: remove it or choose another --out"
        ) from None


def _legacy_owner(folder: Path) -> str | None:
    """The scenario named by ``scenario.yaml`` in a results folder written before markers."""
    path = folder / "scenario.yaml"
    info = lstat_or_none(path)
    if info is None or not stat.S_ISREG(info.st_mode):
        return None
    import yaml

    try:
        data = yaml.safe_load(read_limited(path, 1024 * 1024).decode("utf-8"))
    except Exception:  # any unreadable file: not a folder of ours
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None


def check_results_folder(
    path: str | os.PathLike[str], scenario: str, *, force: bool = False
) -> Path:
    """:func:`check_output_folder`, and refuse a folder that holds something else unless ``force``.

    A folder is ``scenario``'s when its :data:`MARKER` names it (or, for results written before
    markers, its ``scenario.yaml`` does); an empty folder (hidden files aside) is free. Anything
    else — another scenario's results, e.g. two names that reduce to the same folder name, or
    files simlib did not write — needs ``force``. Re-running a scenario into its own folder never
    needs it.
    """
    path = check_output_folder(path)
    if not path.is_dir():
        return path
    marker = read_marker(path) if not force else None
    owner = marker.scenario if marker is not None else None
    if force or owner == scenario:
        return path
    if owner is not None:
        raise OutputError(
            path,
            f"holds the results of scenario '{clip(owner, 60)}', not '{clip(scenario, 60)}': "
            "add --force to replace them, or choose another --out",
        )
    try:
        visible = [e for e in os.listdir(path) if not e.startswith(".")]
    except OSError as exc:
        raise OutputError(path, f"cannot list the folder ({exc.strerror or exc})") from None
    if not visible or _legacy_owner(path) == scenario:
        return path
    raise OutputError(
        path,
        "is not empty and holds no simlib results: add --force to write into it, or choose another --out",
    )


def missing_folders(folder: Path) -> list[Path]:
    """The folders that do not exist yet on the way to ``folder``, deepest first."""
    missing = []
    p = folder
    while lstat_or_none(p) is None and p != p.parent:
        missing.append(p)
        p = p.parent
    return missing
