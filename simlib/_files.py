"""Reading input files within bounds, and the one set of rules for what an output may touch.

Input: :func:`read_limited` opens without blocking and checks the file with ``fstat`` before
reading, so a FIFO, a device such as ``/dev/zero`` or a folder is refused at once, and it never
reads more than ``limit + 1`` bytes, so a multi-gigabyte file is refused without being read.

Output (every ``--out``; see ``docs/security.md``):

* :func:`check_output_file` — a FILE output (``fleet fit --out``, each file of ``emit --out``):
  refuses a folder, device, FIFO or socket, a symbolic link, and an existing regular file unless
  ``force``.
* :func:`check_output_folder` — a FOLDER output (``run``, ``report``, ``emit``, ``sweep``):
  refuses an existing non-folder and a symbolic link as the folder itself.
* :func:`check_results_folder` — a folder of ``run``/``report`` results: the folder check, plus
  a folder holding another scenario's results (:data:`MARKER`) or files simlib did not write is
  refused unless ``force``; :func:`claim_results_folder` writes the marker around the writes.

The symbolic-link rule: the last component of a path simlib was given (or the default
``results/`` folder) is never followed; links in the parents a user typed are the user's own
choice and are followed. Inside an output folder a file that is a link is *replaced* (``rename``
replaces the link, never its target), and a folder, device, FIFO or socket in the way of a file
is refused before anything is replaced.

Writing: :class:`OutputBatch` writes files into one folder all or nothing: each to a temporary
name created with ``O_EXCL | O_NOFOLLOW`` relative to the folder opened once (``O_NOFOLLOW``),
fsynced, then renamed over the targets only when every file is complete. A failure (full disk,
quota) removes the temporary files and any folder the batch created. :func:`atomic_write` is the
one-file form. Errors of the operating system stay :class:`OSError` (callers name the output in
their message); refusals are :class:`~simlib.errors.OutputError`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType

from simlib.errors import OutputError, clip

#: Largest input file simlib reads (scenario, sweep, curve or certificate file).
MAX_INPUT_BYTES = 10 * 1024 * 1024


class InputFileError(Exception):
    """The file cannot be used; ``str()`` is a short reason such as ``is a folder``."""


def read_limited(path: str | os.PathLike[str], limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, else :class:`InputFileError`."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputFileError(exc.strerror or str(exc)) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputFileError("is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise InputFileError("not a regular file (a device, FIFO or socket)")
        too_big = f"larger than {limit // (1024 * 1024)} MB"
        if info.st_size > limit:
            raise InputFileError(too_big)
        chunks = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise InputFileError(too_big)
    except OSError as exc:
        raise InputFileError(exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
    return b"".join(chunks)


# ------------------------------------------------------------------------------- output checks

#: Hidden file in a folder of ``run``/``report`` results: JSON naming the scenario written there.
MARKER = ".simlib-results"
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
# Linux: a path through the folder's open descriptor, so a callback that writes "by name" still
# writes into the folder that was checked even if someone renames a link into its place.
_FD_PATHS = os.path.isdir("/proc/self/fd")


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


def _lstat(path: Path) -> os.stat_result | None:
    """``lstat`` of ``path``; ``None`` when nothing is there (or a parent is missing)."""
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise OutputError(path, f"cannot use this path ({exc.strerror or exc})") from None


def _refuse_link(path: Path, shown: Path, what: str) -> None:
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
    info = _lstat(path)
    if info is None:
        _check_parents(path, path)
    elif stat.S_ISLNK(info.st_mode):
        _refuse_link(path, path, "folder")
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
    info = _lstat(path)
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            _refuse_link(path, path, "file")
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
        info = _lstat(folder / name)
        if info is not None and stat.S_ISLNK(info.st_mode):
            _refuse_link(folder / name, folder / name, "file or folder")


def _read_marker(folder: Path) -> str | None:
    """The scenario name in ``folder``'s marker; ``None`` when there is no marker; raises
    :class:`OutputError` when the marker is not one simlib wrote."""
    path = folder / MARKER
    info = _lstat(path)
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
    except (InputFileError, ValueError, KeyError, TypeError, RecursionError):
        raise OutputError(
            folder, f"{MARKER} is not a simlib marker: remove it or choose another --out"
        ) from None
    return name


def _legacy_owner(folder: Path) -> str | None:
    """The scenario named by ``scenario.yaml`` in a results folder written before markers."""
    path = folder / "scenario.yaml"
    info = _lstat(path)
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
    owner = _read_marker(path) if not force else None
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


@contextlib.contextmanager
def claim_results_folder(folder: str | os.PathLike[str], scenario: str) -> Iterator[Path]:
    """Mark ``folder`` as ``scenario``'s results (:data:`MARKER`) for the writes in the block.

    The marker is written first, so results are never left in a folder that does not name their
    scenario; if the block fails, the previous marker comes back (or the new one goes, with any
    folder created for it), so a failed command leaves the folder as it was.
    """
    from simlib._version import __version__

    folder = Path(folder)
    marker = folder / MARKER
    previous = None
    info = _lstat(marker)
    if info is not None and stat.S_ISREG(info.st_mode):
        with contextlib.suppress(InputFileError):  # unreadable: replaced (``force`` said so)
            previous = read_limited(marker, 64 * 1024)
    created = _missing_folders(folder)
    text = json.dumps({"scenario": scenario, "simlib_version": __version__})  # ASCII: any name
    data = (text + "\n").encode("utf-8")
    if previous != data:
        atomic_write(marker, data, follow_parent=False)
    try:
        yield folder
    except BaseException:
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


def _missing_folders(folder: Path) -> list[Path]:
    """The folders that do not exist yet on the way to ``folder``, deepest first."""
    missing = []
    p = folder
    while _lstat(p) is None and p != p.parent:
        missing.append(p)
        p = p.parent
    return missing


# ------------------------------------------------------------------------------- atomic writing

Writer = bytes | str | Callable[[Path], None]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _plain_name(name: str) -> str:
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        raise ValueError(f"not a plain file name: {name!r}")
    return name


class OutputBatch:
    """Files written into one folder all or nothing (see the module docstring).

    ::

        with OutputBatch(out) as batch:
            batch.add("summary.parquet", lambda p: frame.to_parquet(p))
            batch.add("scenario.yaml", text)
        batch.paths   # the files, in the order added

    ``folder`` itself must not be a symbolic link (its parents may be); missing folders are
    created, and removed again if the batch fails.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.paths: list[Path] = []
        self._pending: list[tuple[str, str]] = []
        self._created: list[Path] = []
        self._fd: int | None = None

    # --------------------------------------------------------------------- lifecycle
    def __enter__(self) -> OutputBatch:
        self.open()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.commit()
        else:
            self.abort()

    def open(self) -> None:
        missing = _missing_folders(self.folder)
        try:
            for d in reversed(missing):
                os.mkdir(d)
                self._created.append(d)
            self._fd = os.open(self.folder, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC)
        except OSError as exc:
            self._remove_created()
            if exc.errno in (errno.ELOOP, errno.ENOTDIR) and os.path.islink(self.folder):
                _refuse_link(self.folder, self.folder, "folder")
            if exc.errno == errno.ENOTDIR:
                raise OutputError(self.folder, "is not a folder") from None
            raise

    def _remove_created(self) -> None:
        for d in reversed(self._created):
            try:
                os.rmdir(d)
            except OSError:
                break
        self._created.clear()

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # ----------------------------------------------------------------------- writing
    def _temp_path(self, tmp: str) -> Path:
        return Path(f"/proc/self/fd/{self._fd}/{tmp}") if _FD_PATHS else self.folder / tmp

    def add(self, name: str, data: Writer) -> Path:
        """Write ``data`` (bytes, text as UTF-8, or ``write(path)`` filling a temporary file) as
        ``name`` when the batch commits; returns the final path."""
        if self._fd is None:
            raise RuntimeError("OutputBatch.add before open()")
        name = _plain_name(name)
        tmp = f".{name[:100]}.{secrets.token_hex(6)}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC
        fd: int | None = os.open(tmp, flags, 0o666, dir_fd=self._fd)  # the umask applies
        self._pending.append((tmp, name))
        try:
            if isinstance(data, str):
                data = data.encode("utf-8")
            if isinstance(data, bytes | bytearray | memoryview):
                _write_all(fd, bytes(data))
            else:
                os.close(fd)
                fd = None
                data(self._temp_path(tmp))
                fd = os.open(tmp, os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC, dir_fd=self._fd)
            os.fsync(fd)  # a full disk or quota often shows only here
        finally:
            if fd is not None:
                os.close(fd)
        path = self.folder / name
        self.paths.append(path)
        return path

    def commit(self) -> list[Path]:
        """Check every target, then rename every temporary file over its target."""
        try:
            for _, name in self._pending:
                try:
                    info = os.stat(name, dir_fd=self._fd, follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if not (stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode)):
                    raise OutputError(
                        self.folder / name,
                        f"is {kind_of(info.st_mode)}, not a file: remove it or choose another --out",
                    )
            for tmp, name in self._pending:
                os.replace(tmp, name, src_dir_fd=self._fd, dst_dir_fd=self._fd)
            self._pending.clear()
            self._created.clear()
            with contextlib.suppress(OSError):  # best effort: the files are in place already
                os.fsync(self._fd)  # the renames survive a crash too
        except BaseException:
            self.abort()
            raise
        self._close()
        return self.paths

    def abort(self) -> None:
        """Remove every temporary file and every folder this batch created."""
        if self._fd is not None:
            for tmp, _ in self._pending:
                with contextlib.suppress(OSError):
                    os.unlink(tmp, dir_fd=self._fd)
        self._pending.clear()
        self._close()
        self._remove_created()


def atomic_write(path: str | os.PathLike[str], data: Writer, *, follow_parent: bool = True) -> Path:
    """Write one file atomically (:class:`OutputBatch` of one); returns ``path``.

    ``follow_parent``: the folder is taken as its real path (links among the parents followed,
    as for any file a caller names); ``False`` refuses a folder that is itself a link.
    """
    path = Path(path)
    folder = Path(os.path.realpath(path.parent)) if follow_parent else path.parent
    with OutputBatch(folder) as batch:
        batch.add(path.name, data)
    return path


def write_files(folder: str | os.PathLike[str], files: Mapping[str, Writer]) -> list[Path]:
    """Write several files into ``folder`` all or nothing; returns their paths."""
    with OutputBatch(folder) as batch:
        for name, data in files.items():
            batch.add(name, data)
    return batch.paths


def move_files_into(staging: str | os.PathLike[str], out: str | os.PathLike[str]) -> list[Path]:
    """Move the visible regular files at the top of ``staging`` into ``out`` (same file system),
    checking every target first: a folder, device, FIFO or socket in the way refuses the move
    before anything is replaced. Subfolders and hidden files of ``staging`` stay behind."""
    staging = Path(staging)
    names = sorted(
        e.name
        for e in os.scandir(staging)
        if not e.name.startswith(".") and e.is_file(follow_symlinks=False)
    )
    batch = OutputBatch(out)
    batch.open()
    try:
        for name in names:
            info = _stat_at(batch, name)
            if info is not None and not (stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode)):
                raise OutputError(
                    Path(out) / name,
                    f"is {kind_of(info.st_mode)}, not a file: remove it or choose another --out",
                )
        for name in names:
            os.replace(staging / name, name, dst_dir_fd=batch._fd)
        assert batch._fd is not None
        with contextlib.suppress(OSError):  # best effort: the files are in place already
            os.fsync(batch._fd)
    except BaseException:
        batch.abort()  # removes the folder again if it was created for this move and is empty
        raise
    batch._created.clear()
    batch._close()
    return [Path(out) / name for name in names]


def _stat_at(batch: OutputBatch, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=batch._fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
