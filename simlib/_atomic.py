"""Writing outputs all or nothing (the rules for *where* are :mod:`simlib._outputs`).

Writing: :class:`OutputBatch` writes files into one folder all or nothing: each to a temporary
name created with ``O_EXCL | O_NOFOLLOW`` relative to the folder opened once (``O_NOFOLLOW``),
fsynced, then renamed over the targets only when every file is complete. A failure (full disk,
quota) removes the temporary files and any folder the batch created. :func:`atomic_write` is the
one-file form. Errors of the operating system stay :class:`OSError` (callers name the output in
their message); refusals are :class:`~simlib.errors.OutputError`.

Results folders: :func:`simlib._claims.claim_results_folder` marks a folder as one scenario's
results for the writes of one command. Its marker lists the files simlib wrote there: every batch committed into
the folder during the claim adds its names to the marker *before* its renames (so the list never
misses a file of ours, even after a crash), and when the command succeeds the files the marker
listed that this run did not write are removed — only those, only regular files and links, never
a file simlib did not write.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from pathlib import Path
from types import TracebackType
from typing import Protocol

from simlib._outputs import (
    FD_PATHS,
    O_CLOEXEC,
    O_DIRECTORY,
    O_NOFOLLOW,
    kind_of,
    missing_folders,
    refuse_link,
)
from simlib.errors import OutputError

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
        missing = missing_folders(self.folder)
        try:
            for d in reversed(missing):
                os.mkdir(d)
                self._created.append(d)
            self._fd = os.open(self.folder, os.O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        except OSError as exc:
            self._remove_created()
            if exc.errno in (errno.ELOOP, errno.ENOTDIR) and os.path.islink(self.folder):
                refuse_link(self.folder, self.folder, "folder")
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

    @property
    def fd(self) -> int:
        """The folder, open (``O_NOFOLLOW``): create entries relative to it (``dir_fd``)."""
        if self._fd is None:
            raise RuntimeError("OutputBatch.fd before open()")
        return self._fd

    def keep(self) -> None:
        """Close the folder and keep the folders made for it (what was put there is wanted)."""
        self._created.clear()
        self._close()

    # ----------------------------------------------------------------------- writing
    def path_of(self, tmp: str) -> Path:
        """A path to ``tmp`` in the folder that was opened (through its descriptor on Linux)."""
        return Path(f"/proc/self/fd/{self._fd}/{tmp}") if FD_PATHS else self.folder / tmp

    def add(self, name: str, data: Writer) -> Path:
        """Write ``data`` (bytes, text as UTF-8, or ``write(path)`` filling a temporary file) as
        ``name`` when the batch commits; returns the final path."""
        if self._fd is None:
            raise RuntimeError("OutputBatch.add before open()")
        name = _plain_name(name)
        tmp = f".{name[:100]}.{secrets.token_hex(6)}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | O_CLOEXEC
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
                data(self.path_of(tmp))
                fd = os.open(tmp, os.O_RDONLY | O_NOFOLLOW | O_CLOEXEC, dir_fd=self._fd)
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
            claim = _claim_of(self._fd)
            names = [name for _, name in self._pending]
            if claim is not None:
                claim.list_before(self._fd, names)
            for tmp, name in self._pending:
                os.replace(tmp, name, src_dir_fd=self._fd, dst_dir_fd=self._fd)
            if claim is not None:
                claim.written.update(names)
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
        assert batch._fd is not None
        claim = _claim_of(batch._fd)
        if claim is not None:
            claim.list_before(batch._fd, names)
        for name in names:
            os.replace(staging / name, name, dst_dir_fd=batch._fd)
        if claim is not None:
            claim.written.update(names)
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


def _write_at(dir_fd: int, name: str, data: bytes) -> None:
    """One small file written atomically into the folder open as ``dir_fd``."""
    tmp = f".{name[:100]}.{secrets.token_hex(6)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | O_CLOEXEC
    fd = os.open(tmp, flags, 0o666, dir_fd=dir_fd)
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise


class Claim(Protocol):
    """What a batch asks of the claim on its folder (:mod:`simlib._claims`)."""

    key: tuple[int, int]
    written: set[str]

    def list_before(self, dir_fd: int, names: Iterable[str]) -> None: ...


#: The results folders the running command has claimed (:func:`simlib._claims.
#: claim_results_folder`): a batch committed into one lists its files in the marker first.
CLAIMS: ContextVar[tuple[Claim, ...]] = ContextVar("simlib_claims", default=())


def _claim_of(dir_fd: int) -> Claim | None:
    """The claim on the folder open as ``dir_fd``, if a command claimed it."""
    claims = CLAIMS.get()
    if not claims:
        return None
    info = os.fstat(dir_fd)
    for claim in claims:
        if claim.key == (info.st_dev, info.st_ino):
            return claim
    return None
