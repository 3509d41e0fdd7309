"""The report renders in headless Chromium without a console error; --pdf prints it; a missing
Chromium is one clear line before any work; Chromium's folder never outlives a call (success,
failure, timeout, a TMPDIR too long for its socket)."""

from __future__ import annotations

import os
import signal
import tempfile
import time
from pathlib import Path

import matplotlib.image as mpimg
import pytest

from simlib.cli.main import main
from simlib.report import browser
from simlib.report.browser import BrowserError, find_chromium, print_pdf, screenshot
from tests.report.hostile import needs_chromium


@pytest.fixture
def report_html(hostile_report):
    """The session's report (hostile names in every name field, built with pdf=True)."""
    return hostile_report.out / "report.html"


@pytest.fixture
def folders(monkeypatch):
    """Every folder the browser module makes (Chromium's profile and temporary files)."""
    made: list[str] = []
    real = tempfile.mkdtemp

    def spy(*args, **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(browser.tempfile, "mkdtemp", spy)
    return made


def _fake_chromium(tmp_path, monkeypatch, script: str) -> None:
    exe = tmp_path / "fake-chromium"
    exe.write_text("#!/bin/sh\n" + script + "\n")
    exe.chmod(0o755)
    monkeypatch.setenv("SIMLIB_CHROMIUM", str(exe))


def test_missing_chromium_is_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("SIMLIB_CHROMIUM", raising=False)
    with pytest.raises(BrowserError, match="apt install chromium"):
        find_chromium()
    out = tmp_path / "out"
    assert main(["report", "--pdf", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "apt install chromium" in err and "Traceback" not in err
    assert not out.exists()


@needs_chromium
def test_report_renders_without_console_errors(report_html, tmp_path, folders):
    png = tmp_path / "shot.png"
    assert screenshot(report_html, png) == []  # no script error, no blocked load, no stray request
    pixels = mpimg.imread(png)
    assert pixels.shape[1] == 1280 and pixels.std() > 0.05  # not a blank page
    assert folders and not any(os.path.lexists(f) for f in folders)


@needs_chromium
def test_console_errors_are_caught(report_html, tmp_path):
    """The check above can fail: a page with a script error reports it (the policy blocks it:
    Chromium says so), and a request the page makes is reported too."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        report_html.read_text().replace(
            "</body>", "<script>undefinedFn()</script><img src='/planted.png'></body>"
        )
    )
    lines = screenshot(bad, tmp_path / "bad.png")
    assert any("script" in line.lower() for line in lines)
    assert any("/planted.png" in line for line in lines)


@needs_chromium
def test_pdf(hostile_report):
    pdf = hostile_report.out / "report.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 50_000


@needs_chromium
def test_long_tmpdir_works_and_leaves_nothing(tmp_path, monkeypatch, folders):
    """Chromium's singleton socket must fit 108 bytes: a long TMPDIR falls back to /tmp."""
    long = tmp_path / ("d" * 120) / ("e" * 100)
    long.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(long))
    page = tmp_path / "p.html"
    page.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'><title>t</title></head>"
                    "<body><p>hello</p></body></html>")  # fmt: skip
    assert print_pdf(page, tmp_path / "p.pdf") == []
    assert (tmp_path / "p.pdf").read_bytes()[:5] == b"%PDF-"
    assert list(long.iterdir()) == []
    assert (
        folders
        and all(len(f) < 60 for f in folders)
        and not any(os.path.lexists(f) for f in folders)
    )


def test_no_usable_short_folder_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / ("x" * 200)))
    monkeypatch.setattr(browser.os, "access", lambda path, mode: False)
    with pytest.raises(BrowserError, match="TMPDIR") as err:
        browser._short_tmp()
    assert "\n" not in str(err.value)


def test_failing_chromium_leaves_nothing(tmp_path, monkeypatch, folders):
    _fake_chromium(
        tmp_path,
        monkeypatch,
        'mkdir -p "$TMPDIR/junk" "$HOME/.config"; echo "boom: it broke" >&2; exit 3',
    )
    page = tmp_path / "p.html"
    page.write_text("<p>x</p>")
    with pytest.raises(BrowserError, match=r"exit 3\): boom: it broke"):
        print_pdf(page, tmp_path / "p.pdf")
    assert folders and not any(os.path.lexists(f) for f in folders)
    assert not (tmp_path / "p.pdf").exists()


def test_hanging_chromium_is_killed_with_its_children(tmp_path, monkeypatch, folders):
    pids = tmp_path / "pids"
    _fake_chromium(tmp_path, monkeypatch, f"sleep 60 & echo $! > {pids}; sleep 60")
    monkeypatch.setattr(browser, "TIMEOUT", 1)
    page = tmp_path / "p.html"
    page.write_text("<p>x</p>")
    with pytest.raises(BrowserError, match="did not finish within 1 s"):
        screenshot(page, tmp_path / "p.png")
    child = int(pids.read_text())
    for _ in range(50):  # the child was killed with the group; wait until it is reaped
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        if Path(f"/proc/{child}/stat").read_text().split()[2] == "Z":
            break
        time.sleep(0.05)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("Chromium's child process outlived the timeout")
    assert folders and not any(os.path.lexists(f) for f in folders)


def _ask(server, request: bytes) -> int:
    """The status line's code for a raw HTTP ``request`` to the print server."""
    import socket

    with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=5) as s:
        s.sendall(request)
        reply = b""
        while b"\r\n" not in reply:
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
    return int(reply.split(b" ", 2)[1])


@pytest.mark.hostile
def test_print_server_serves_its_random_path_to_its_own_host_only(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<p>secret figures</p>", encoding="utf-8")
    with browser._served(page) as (url, server), browser._served(page) as (other, _):
        host = server.host
        assert url == f"http://{host}{server.path}" and host.startswith("127.0.0.1:")
        token = server.path.split("/")[1]
        assert len(token) >= 22 and token not in other  # 128 bits, new for every print
        path = server.path.encode()

        def get(target: bytes, *headers: bytes) -> int:
            lines = [b"GET " + target + b" HTTP/1.1", *headers, b"Connection: close"]
            return _ask(server, b"\r\n".join(lines) + b"\r\n\r\n")

        assert get(path, b"Host: " + host.encode()) == 200
        # the page's path to any other name: a DNS-rebinding page, a proxy, a typo
        for wrong in (
            b"Host: localhost:" + host.split(":")[1].encode(),
            b"Host: attacker.example:" + host.split(":")[1].encode(),
            b"Host: 127.0.0.1",
            b"Host: 127.0.0.1:1",
            b"Host: " + host.encode() + b".attacker.example",
        ):
            assert get(path, wrong) == 404, wrong
        assert get(path) == 404  # no Host at all
        assert get(path, b"Host: " + host.encode(), b"Host: evil.example") == 404  # two
        assert server.stray == []  # others' requests do not fail the page's print
        # the right host but another path (a guess, or the page asking for more)
        assert get(b"/page.html", b"Host: " + host.encode()) == 404
        assert get(path + b"x", b"Host: " + host.encode()) == 404
        for method in (b"POST", b"HEAD", b"PUT", b"BREW"):
            request = method + b" " + path + b" HTTP/1.1\r\nHost: " + host.encode()
            assert _ask(server, request + b"\r\nConnection: close\r\n\r\n") == 404, method
        assert server.stray[:2] == ["GET /page.html", f"GET {server.path}x"]
        assert len(server.stray) == 6  # HEAD, PUT and BREW included, not only GET and POST
