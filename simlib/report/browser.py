"""Headless Chromium: the decision report as PDF, screenshots, and its console messages.

Chromium is not a Python dependency: on Debian/Ubuntu ``sudo apt install chromium`` (the README
says so). :func:`find_chromium` looks for it on ``PATH`` or in ``$SIMLIB_CHROMIUM``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from simlib.errors import SimlibError

__all__ = ["BrowserError", "find_chromium", "print_pdf", "screenshot"]

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
TIMEOUT = 180
#: A console line in Chromium's ``--enable-logging=stderr`` log (script errors, console.*).
_CONSOLE = re.compile(r":CONSOLE[:(]")


class BrowserError(SimlibError, RuntimeError):
    """Chromium is missing or failed (one line)."""


def find_chromium() -> str:
    """The Chromium executable, or a :class:`BrowserError` saying how to install it."""
    wanted = os.environ.get("SIMLIB_CHROMIUM")
    for name in ([wanted] if wanted else []) + list(NAMES):
        found = shutil.which(name)
        if found:
            return found
    raise BrowserError(
        "headless Chromium not found (needed for --pdf): install it with "
        "'sudo apt install chromium' (Debian/Ubuntu) or set SIMLIB_CHROMIUM to its path"
    )


def _run(args: list[str]) -> list[str]:
    """Run Chromium headless on ``args``; return the page's console lines."""
    base = [find_chromium(), "--headless", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", "--enable-logging=stderr", "--v=0"]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        base.append("--no-sandbox")  # Chromium refuses to sandbox as root (containers, CI)
    with tempfile.TemporaryDirectory(prefix="simlib-chromium-") as profile:
        try:
            done = subprocess.run(
                [*base, f"--user-data-dir={profile}", *args],
                capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise BrowserError(f"Chromium did not finish within {TIMEOUT} s") from None
        except OSError as exc:
            raise BrowserError(f"cannot start Chromium: {exc.strerror or exc}") from None
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise BrowserError(f"Chromium failed (exit {done.returncode}): {tail[:200]}")
    return [line for line in done.stderr.splitlines() if _CONSOLE.search(line)]


def print_pdf(html_file: str | os.PathLike, pdf_file: str | os.PathLike) -> list[str]:
    """Print ``html_file`` to ``pdf_file`` (A4-ish, no header/footer); return console lines."""
    pdf = Path(pdf_file)
    console = _run(["--no-pdf-header-footer", f"--print-to-pdf={pdf}", Path(html_file).resolve().as_uri()])
    if not pdf.is_file() or pdf.read_bytes()[:5] != b"%PDF-":
        raise BrowserError(f"Chromium wrote no PDF to {pdf}")
    return console


def screenshot(
    html_file: str | os.PathLike, png_file: str | os.PathLike, *, width: int = 1280, height: int = 1800
) -> list[str]:
    """A ``width`` × ``height`` screenshot of the top of ``html_file``; return console lines."""
    png = Path(png_file)
    console = _run([f"--window-size={width},{height}", f"--screenshot={png}",
                    Path(html_file).resolve().as_uri()])  # fmt: skip
    if not png.is_file() or png.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
        raise BrowserError(f"Chromium wrote no screenshot to {png}")
    return console
