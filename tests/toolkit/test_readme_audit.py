"""The README's "Audit your app's pins" section shows real output: every command it shows is run
here, in order (later ones read what earlier ones wrote), and must print exactly what is pasted
there (stdout and stderr lines, in their order per stream)."""

from __future__ import annotations

import re
import shlex

import pytest

from simlib.cli.main import main
from tests.conftest import ROOT

SECTION = "## Audit your app's pins"


def _commands() -> list[tuple[list[str], list[str]]]:
    """``(argv, expected output lines)`` of each ``$ simlib …`` line of the section's console
    blocks, with ``$ NAME=value`` assignments substituted and ``\\`` continuations joined."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(SECTION) : text.index("\n## ", text.index(SECTION) + 1)]
    env: dict[str, str] = {}
    out: list[tuple[list[str], list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", section, re.S):
        lines = block.replace("\\\n", " ").splitlines()
        for line in lines:
            if line.startswith("$ "):
                command = line[2:].strip()
                if m := re.fullmatch(r"([A-Z]+)=(\S+)", command):
                    env[m[1]] = m[2]
                    continue
                for name, value in env.items():
                    command = command.replace(f"${name}", value)
                argv = shlex.split(command)
                assert argv[0] == "simlib", command
                out.append((argv[1:], []))
            elif out:
                out[-1][1].append(line)
    return out


COMMANDS = _commands()


def test_the_section_shows_audit_emit_fleet_fit_and_forecast():
    verbs = [argv[0] for argv, _ in COMMANDS]
    assert {"audit", "emit", "fleet", "forecast"} <= set(verbs) and verbs.count("audit") >= 4


def test_every_command_prints_what_the_readme_shows(tmp_path, monkeypatch, capsys):
    (tmp_path / "tests").symlink_to(ROOT / "tests")  # the README's paths, from the checkout
    monkeypatch.chdir(tmp_path)
    for argv, want in COMMANDS:
        main(argv)
        got = capsys.readouterr()
        err = [line for line in want if line.startswith(("error: ", "warning: "))]
        std = [line for line in want if not line.startswith(("error: ", "warning: "))]
        assert got.err.splitlines() == err, argv
        assert got.out.rstrip("\n").splitlines() == std, argv


@pytest.mark.parametrize("argv", [a for a, _ in COMMANDS if a[0] == "audit"], ids=str)
def test_audits_shown_name_the_format_or_the_refusal(argv):
    want = dict((tuple(a), w) for a, w in COMMANDS)[tuple(argv)]
    first = want[0]
    assert first.startswith("error: ") or re.match(r"audit \S+ \([a-z-]+: [^)]+\) for ", first)
