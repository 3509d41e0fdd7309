"""Reading input files within bounds.

:func:`read_limited` opens without blocking and checks the file with ``fstat`` before reading, so
a FIFO, a device such as ``/dev/zero`` or a folder is refused at once, and it never reads more
than ``limit + 1`` bytes, so a multi-gigabyte file is refused without being read. What an output
may touch is :mod:`simlib._outputs`; writing it all or nothing is :mod:`simlib._atomic`.
"""

from __future__ import annotations

import os
import stat

from simlib.errors import InputFileError

__all__ = ["MAX_INPUT_BYTES", "InputFileError", "read_limited"]

#: Largest input file simlib reads (scenario, sweep, curve or certificate file).
MAX_INPUT_BYTES = 10 * 1024 * 1024


def read_limited(path: str | os.PathLike[str], limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, else :class:`InputFileError`
    (a :class:`~simlib.errors.SimlibError`; its ``reason`` is short: ``is a folder, not a file``).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputFileError(path, exc.strerror or str(exc)) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputFileError(path, "is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise InputFileError(path, "not a regular file (a device, FIFO or socket)")
        too_big = f"larger than {limit // (1024 * 1024)} MB"
        if info.st_size > limit:
            raise InputFileError(path, too_big)
        chunks = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise InputFileError(path, too_big)
    except OSError as exc:
        raise InputFileError(path, exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
    return b"".join(chunks)
