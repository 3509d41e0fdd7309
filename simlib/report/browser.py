"""Headless Chromium: the decision report as PDF, screenshots, and its console messages.

Chromium is not a Python dependency: on Debian/Ubuntu ``sudo apt install chromium`` (the README
says so). :func:`find_chromium` looks for it on ``PATH`` or in ``$SIMLIB_CHROMIUM``.

A page is treated as untrusted (it carries names from a scenario file). :func:`print_pdf` and
:func:`screenshot` never open it as ``file://``: a one-page HTTP server on 127.0.0.1 serves it,
with the report's Content-Security-Policy as a header. An ``http://`` page cannot read
``file://`` URLs, so nothing a page names on disk can end up in a PDF. The page's path is random
(128 bits, new for every print) and a request must name ``127.0.0.1:PORT`` as its ``Host``, so
neither another local process (it cannot guess the path) nor a DNS-rebinding page (its requests
carry its own host name) can read the report while it prints; everything else gets a 404, and a
request of the right host for another path is reported (the page itself asked for it).
Chromium runs with background networking off, in its own process group (killed on timeout),
with its profile, temporary files and crash reports in one short-named folder that is removed
afterwards, also on failure.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from simlib.errors import BrowserError, clip

__all__ = ["BrowserError", "dump_dom", "find_chromium", "print_pdf", "screenshot"]

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
TIMEOUT = 180
#: A console line in Chromium's ``--enable-logging=stderr`` log (script errors, console.*).
_CONSOLE = re.compile(r":CONSOLE[:(]")
#: Longest temporary folder Chromium's files go under. Its singleton socket
#: (``<folder>/simlib-chromium-XXXXXXXX/.org.chromium.Chromium.XXXXXX/SingletonSocket``, about
#: 70 characters more) must fit a Unix socket path (108 bytes); a longer TMPDIR falls back to /tmp.
MAX_TMP = 32
#: Flags that keep Chromium from anything but rendering the page: no first-run work, no
#: background requests (updates, sync, metrics), no proxy, no crash uploads, no extensions.
FLAGS = (
    "--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
    "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-default-apps", "--disable-extensions",
    "--disable-client-side-phishing-detection", "--disable-domain-reliability",
    "--disable-breakpad", "--disable-crash-reporter", "--metrics-recording-only",
    "--no-proxy-server", "--disable-spell-checking", "--enable-logging=stderr", "--v=0",
)  # fmt: skip


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


def _short_tmp() -> str:
    """Where Chromium's folder goes: the temporary folder when its path is short enough."""
    tmp = tempfile.gettempdir()
    for base in (tmp, "/tmp"):
        if len(os.fsencode(base)) <= MAX_TMP and os.access(base, os.W_OK | os.X_OK):
            return base
    raise BrowserError(
        f"the temporary folder '{clip(tmp, 60)}' is {len(tmp)} characters long and /tmp is not "
        f"writable: Chromium needs a folder of at most {MAX_TMP} characters; set TMPDIR to one"
    )


def _remove(folder: str) -> None:
    # Chromium's helpers may still be closing files for a moment after the group was killed.
    for _ in range(20):
        shutil.rmtree(folder, ignore_errors=True)
        if not os.path.lexists(folder):
            return
        time.sleep(0.05)


def _kill_group(process: subprocess.Popen) -> None:
    """End Chromium's whole process group (renderers, zygote, crash handler), then reap it.

    Only called while Chromium itself is not yet reaped, so its group id cannot be reused."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


def _run(args: list[str]) -> tuple[str, list[str]]:
    """Run Chromium headless on ``args``; return its stdout and the page's console lines."""
    base = [find_chromium(), *FLAGS]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        base.append("--no-sandbox")  # Chromium refuses to sandbox as root (containers, CI)
    folder = tempfile.mkdtemp(prefix="simlib-chromium-", dir=_short_tmp())
    # Everything Chromium writes (profile, singleton socket, caches, crash reports) goes here.
    env = {
        **os.environ,
        "TMPDIR": folder,
        "HOME": folder,
        "XDG_CONFIG_HOME": os.path.join(folder, "config"),
        "XDG_CACHE_HOME": os.path.join(folder, "cache"),
    }
    try:
        try:
            process = subprocess.Popen(
                [*base, f"--user-data-dir={os.path.join(folder, 'profile')}", *args],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True, errors="replace", env=env, start_new_session=True,
            )  # fmt: skip
        except OSError as exc:
            raise BrowserError(f"cannot start Chromium: {exc.strerror or exc}") from None
        try:
            stdout, stderr = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            with suppress(subprocess.TimeoutExpired):  # a helper outside the group holds the pipes
                process.communicate(timeout=10)
            raise BrowserError(f"Chromium did not finish within {TIMEOUT} s") from None
        except BaseException:  # Ctrl-C: no Chromium left running
            _kill_group(process)
            raise
    finally:
        _remove(folder)
    if process.returncode != 0:
        tail = (stderr.strip().splitlines() or ["no output"])[-1]
        raise BrowserError(f"Chromium failed (exit {process.returncode}): {clip(tail, 200)}")
    return stdout, [line for line in stderr.splitlines() if _CONSOLE.search(line)]


class _OnePage(ThreadingHTTPServer):
    """Serves one page at a random path, to requests for ``127.0.0.1:PORT`` only; every other
    request is 404, and one of the right host for another path is remembered."""

    daemon_threads = True

    def __init__(self, page: bytes, policy: str) -> None:
        self.page, self.policy = page, policy
        self.stray: list[str] = []
        self.path = f"/{secrets.token_urlsafe(16)}/page.html"
        super().__init__(("127.0.0.1", 0), _PageHandler)
        self.host = f"127.0.0.1:{self.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.host}{self.path}"


def _raw(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


class _PageHandler(BaseHTTPRequestHandler):
    server: _OnePage

    def do_GET(self) -> None:
        if self.headers.get_all("Host") != [self.server.host]:
            # not for this server by name (DNS rebinding, a proxy) and never the page's own
            # request: refused without a word, so the page does not fail for what others do
            self.send_error(404)
            return
        if not secrets.compare_digest(_raw(self.path), _raw(self.server.path)):
            if self.path != "/favicon.ico":  # asked for by the browser, not the page
                self.server.stray.append(f"{self.command} {self.path}")
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.server.page)))
        self.send_header("Content-Security-Policy", self.server.policy)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(self.server.page)

    def _refuse(self) -> None:
        if self.headers.get_all("Host") == [self.server.host]:
            self.server.stray.append(f"{self.command} {self.path}")
        self.send_error(404)

    def __getattr__(self, name: str):
        # every method but GET (POST, HEAD, PUT, made-up ones) is a 404, not a 501
        if name.startswith("do_"):
            return self._refuse
        raise AttributeError(name)

    def log_message(self, format, *args) -> None:
        pass  # nothing on the user's terminal


@contextmanager
def _served(html_file: str | os.PathLike) -> Iterator[tuple[str, _OnePage]]:
    from simlib.report.html import PAGE_POLICY

    try:
        page = Path(html_file).read_bytes()
    except OSError as exc:
        raise BrowserError(f"cannot read {clip(html_file, 120)}: {exc.strerror or exc}") from None
    server = _OnePage(page, PAGE_POLICY)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.url, server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _strays(server: _OnePage) -> list[str]:
    return [f"simlib: the page requested {clip(s, 120)} (refused)" for s in server.stray]


def print_pdf(html_file: str | os.PathLike, pdf_file: str | os.PathLike) -> list[str]:
    """Print ``html_file`` to ``pdf_file`` (A4-ish, no header/footer); return console lines
    (and a line per request the page made besides itself, each refused)."""
    pdf = Path(pdf_file).resolve()
    with _served(html_file) as (url, server):
        _, console = _run(["--no-pdf-header-footer", f"--print-to-pdf={pdf}", url])
    if not pdf.is_file() or pdf.read_bytes()[:5] != b"%PDF-":
        raise BrowserError(f"Chromium wrote no PDF to {clip(pdf, 120)}")
    return console + _strays(server)


def screenshot(
    html_file: str | os.PathLike,
    png_file: str | os.PathLike,
    *,
    width: int = 1280,
    height: int = 1800,
) -> list[str]:
    """A ``width`` × ``height`` screenshot of the top of ``html_file``; return console lines
    (and a line per request the page made besides itself, each refused)."""
    png = Path(png_file).resolve()
    with _served(html_file) as (url, server):
        _, console = _run([f"--window-size={width},{height}", f"--screenshot={png}", url])
    if not png.is_file() or png.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
        raise BrowserError(f"Chromium wrote no screenshot to {clip(png, 120)}")
    return console + _strays(server)


def dump_dom(
    html_file: str | os.PathLike, *, net_log: str | os.PathLike | None = None
) -> tuple[str, list[str]]:
    """``html_file`` opened as a user opens it (``file://``), after load: the serialised DOM and
    the console lines. ``net_log`` names a file for Chromium's network log (every request)."""
    extra = [f"--log-net-log={Path(net_log).resolve()}"] if net_log else []
    return _run([*extra, "--dump-dom", Path(html_file).resolve().as_uri()])
