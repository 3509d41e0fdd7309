"""Tooling defaults by date: key reuse, renewal timing, ARI."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest

import simlib
from simlib.errors import ScenarioError
from simlib.world.tooling import ALIASES, TOOLS, canonical_tool, defaults_on, tools


def test_cert_manager_reuses_key_until_1_18() -> None:
    before = defaults_on("cert-manager", date(2025, 6, 9))
    after = defaults_on("cert-manager", date(2025, 6, 10))
    assert before.reuses_key is True
    assert after.reuses_key is False
    assert after.facts["reuses_key"].version == "1.18.0"
    assert after.facts["reuses_key"].confidence == "primary"
    assert defaults_on("cert-manager", date(2020, 1, 1)).reuses_key is True


def test_certbot_renewal_moves_from_days_to_fraction_and_gains_ari() -> None:
    old = defaults_on("certbot", date(2025, 4, 6))
    assert (old.reuses_key, old.renew_before_days, old.renew_at_fraction, old.ari) == (
        False,
        30,
        None,
        False,
    )
    v4 = defaults_on("certbot", date(2025, 4, 7))
    assert (v4.renew_before_days, v4.renew_at_fraction, v4.ari) == (None, 0.6667, False)
    v41 = defaults_on("certbot", date(2025, 6, 10))
    assert v41.ari is True and v41.renew_at_fraction == 0.6667


def test_caddy_stops_reusing_keys_with_caddy_2_7_0() -> None:
    # CertMagic v0.18.1 (2023-06-20) made the change; Caddy shipped it in 2.7.0 (2023-08-02)
    assert defaults_on("caddy", date(2023, 8, 1)).reuses_key is True
    assert defaults_on("certmagic", date(2023, 8, 2)).reuses_key is False
    assert defaults_on("caddy", date(2026, 1, 1)).unconfirmed == ()


def test_acm_rekeys_and_its_lead_time_after_2026_02_18_is_documented() -> None:
    old = defaults_on("aws-acm", date(2026, 2, 17))
    new = defaults_on("acm", date(2026, 2, 18))
    assert old.reuses_key is False and old.renew_before_days == 60
    # docs.aws.amazon.com/acm/latest/userguide/dns-renewal-validation.html: 198-day: 45 days
    assert new.renew_before_days == 45 and new.unconfirmed == ()
    assert new.ari is None  # ACM is not an ACME client: the sources say nothing


def test_unknown_tool_lists_valid_names() -> None:
    assert set(tools()) == {"certbot", "cert-manager", "caddy", "aws-acm"}
    with pytest.raises(ScenarioError, match="unknown tool 'lego'; valid: certbot, "):
        defaults_on("lego", date(2025, 1, 1))


# ----------------------------------------------------------------- one table of tool names


def test_every_tool_name_resolves_and_every_file_tool_has_a_name() -> None:
    """TOOLS (what users write) and the file's tools are one table: each name resolves, through
    ALIASES or as itself, to a tool of the file, and each tool of the file is named once."""
    resolved = [canonical_tool(name) for name in TOOLS]
    assert sorted(resolved) == sorted(tools())
    assert set(ALIASES.values()) <= set(tools())
    assert canonical_tool("certmagic") == "caddy" and canonical_tool("acm") == "aws-acm"
    with pytest.raises(ScenarioError, match="unknown tool 'lego'"):
        canonical_tool("lego")


def test_scenarios_and_the_command_line_offer_exactly_the_world_names() -> None:
    from simlib.cli.common import tool_names
    from simlib.model.realworld import resolve_hosts
    from simlib.toolkit.forecast import TOOLS as forecast_tools

    assert tool_names() == TOOLS
    assert forecast_tools is TOOLS
    host = {"name": "a.example.com", "ca": "letsencrypt", "tool": "lego"}
    data = {"start": "2026-01-01", "end": "2026-06-30", "hosts": [host]}
    with pytest.raises(ValueError, match=f"unknown tool 'lego'; valid: {', '.join(TOOLS)}$"):
        resolve_hosts(data)


def _tool_lists(root: Path) -> list[str]:
    """Files under ``root`` with a tuple, list or set literal naming two or more tools."""
    names = {*TOOLS, *tools(), *ALIASES}
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                words = {e.value for e in node.elts if isinstance(e, ast.Constant)}
                if len(words & names) >= 2:
                    found.append(str(path.relative_to(root.parent)))
    return sorted(set(found))


def test_no_other_module_writes_its_own_list_of_tools(tmp_path: Path) -> None:
    root = Path(simlib.__file__).parent
    assert _tool_lists(root) == ["simlib/world/tooling.py"]
    # the check finds a planted copy
    (tmp_path / "simlib").mkdir()
    (tmp_path / "simlib" / "copy.py").write_text('NAMES = ["certbot", "acm"]\n')
    assert _tool_lists(tmp_path / "simlib") == ["simlib/copy.py"]


def test_the_command_line_reads_the_names_only_when_used() -> None:
    """Building the parser loads no world data: the --tool choices are read when used."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom simlib.cli.main import build_parser\np = build_parser()\n"
        "print('simlib.world' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]
