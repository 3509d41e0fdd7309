"""Replay tables: served-chain spans and change marks match the issuances they come from; the
replay table and text name what triggered a lockout."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import simlib
from simlib.analysis.presets import load_preset, preset_names
from simlib.report import replay


def _issuance(host, seq, key, inter, root, served_from, served_until, ca="ca1"):
    return {
        "date": served_from, "host": host, "seq": seq, "reason": "renewal" if seq else "initial",
        "ca": ca, "intermediate": inter, "root": root,
        "spki_sha256": f"leaf-{key}", "intermediate_spki_sha256": f"int-{inter}",
        "root_spki_sha256": f"root-{root}", "served_from": served_from, "served_until": served_until,
    }  # fmt: skip


@pytest.fixture
def hand() -> pd.DataFrame:
    rows = [
        _issuance("a.test", 0, "K1", "I1", "R", "2025-01-01", "2025-01-31"),
        _issuance("a.test", 1, "K1", "I1", "R", "2025-02-01", "2025-02-28"),  # same key
        _issuance("a.test", 2, "K2", "I2", "R", "2025-03-01", "2025-03-31"),  # chain change
        _issuance("b.test", 0, "K9", "J1", "S", "2025-01-01", "2025-03-31", ca="ca2"),
        _issuance(
            "b.test", 1, "K8", "J1", "S", "2025-04-01", "2025-03-31", ca="ca2"
        ),  # never served
    ]
    return pd.DataFrame(rows)


def test_segments_merge_equal_keys_per_level(hand):
    seg = replay.served_segments(hand)
    a = seg[seg["host"] == "a.test"].set_index("level")
    leaf = a.loc["leaf key"]
    assert leaf["label"].tolist() == ["key 1", "key 2"]
    assert leaf["start"].tolist() == [dt.date(2025, 1, 1), dt.date(2025, 3, 1)]
    assert leaf["end"].tolist() == [dt.date(2025, 2, 28), dt.date(2025, 3, 31)]
    assert leaf["issuances"].tolist() == [2, 1]
    assert leaf["changed"].tolist() == [False, True]
    assert a.loc["intermediate"]["label"].tolist() == ["I1", "I2"]
    root = a.loc[["root"]]
    assert len(root) == 1 and root["issuances"].item() == 3
    assert (root["start"].item(), root["end"].item()) == (dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    b = seg[seg["host"] == "b.test"]
    assert len(b) == 3 and (b["issuances"] == 1).all()  # the unserved issuance is left out


def test_marks_name_the_kind_of_change(hand):
    marks = replay.chain_marks(hand)
    assert marks["date"].tolist() == [dt.date(2025, 2, 1), dt.date(2025, 3, 1)]
    assert marks["kind"].tolist() == ["renewal, same key", "chain change"]
    assert (
        "new leaf key" in marks["what"].iloc[1] and "intermediate I1 → I2" in marks["what"].iloc[1]
    )
    assert "root" not in marks["what"].iloc[1]


@pytest.fixture(scope="module")
def sc081():
    return simlib.simulate(load_preset("sc081-2026-2029"))


def test_segments_match_the_issuances_of_a_preset(sc081):
    iss = sc081.issuances
    seg = replay.served_segments(iss)
    leaf = seg[seg["level"] == "leaf key"]
    served = iss[pd.to_datetime(iss["served_from"]) <= pd.to_datetime(iss["served_until"])]
    # every renewal brings a new key: one leaf span per issuance, on the issuance's days
    assert len(leaf) == served["spki_sha256"].nunique() == len(served)
    assert leaf["start"].tolist() == [pd.Timestamp(d).date() for d in served["served_from"]]
    assert leaf["end"].tolist() == [pd.Timestamp(d).date() for d in served["served_until"]]
    # spans tile the horizon: no gap, no overlap
    gaps = [
        (b - a).days for a, b in zip(leaf["end"].iloc[:-1], leaf["start"].iloc[1:], strict=True)
    ]
    assert set(gaps) == {1}
    sc = sc081.scenario
    assert (leaf["start"].iloc[0], leaf["end"].iloc[-1]) == (sc.start, sc.end)
    root = seg[seg["level"] == "root"]
    assert len(root) == 1 and root["issuances"].item() == len(served)
    marks = replay.chain_marks(iss)
    assert len(marks) == len(served) - 1 and set(marks["kind"]) == {"renewal, new key"}


def test_replay_table_finds_what_triggered_the_first_lockout():
    res = simlib.simulate(load_preset("brave-2026-root-pin"))
    table = replay.replay_table(res).set_index("strategy")
    summary = res.summary.set_index("strategy")
    assert table["peak locked out"].tolist() == summary["peak_lockout_rate"].tolist()
    root = table.loc["root"]
    assert str(root["first lockout"]) == str(summary.loc["root", "first_lockout_date"])
    assert "trust" in root["trigger"]  # the server changed nothing: a trust-store change
    assert "R13 → R12" in table.loc["leaf key", "trigger"]
    text = replay.replay_text(res, "Why?")
    assert text.startswith("**Question.** Why?")
    for name in table.index:
        assert f"*{name}*" in text


def test_replay_cases_follow_the_parameters(tmp_path):
    assert [c.name for c in replay.replay_cases()] == list(preset_names())
    (one,) = replay.replay_cases(preset="sc081-2026-2029")
    assert one.name == "sc081-2026-2029" and one.question.startswith("How does the CA/B Forum")
    path = tmp_path / "s.yaml"
    text = load_preset("sc081-2026-2029").to_yaml()
    path.write_text("# Question: what if?\n" + text)
    (mine,) = replay.replay_cases(scenario=str(path))
    assert mine.question == "what if?" and mine.scenario.name == "sc081-2026-2029"


def test_a_replay_past_the_roadmap_carries_its_assumptions_not_stderr_noise(recwarn) -> None:
    from pathlib import Path

    from simlib.report.replay import replay_cases

    path = Path(__file__).resolve().parents[2] / "data" / "scenarios" / "le-certbot-2026-2029.yaml"
    (case,) = replay_cases(str(path))
    assert case.warnings and all("extrapolated" in w for w in case.warnings)
    assert not [w for w in recwarn if "extrapolated" in str(w.message)]
    (preset_case,) = replay_cases(preset="acm-rekey-198d")
    assert preset_case.warnings == ()
