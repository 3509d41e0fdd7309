"""Cross-field checks: an event's names are checked by what it declares, not by field names."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from typing import Literal

import pytest

from simlib.errors import ScenarioError
from simlib.model import scenario_from_dict, set_path
from simlib.model.checks import _semantic_checks, _SemanticError
from simlib.model.effects import Reference
from simlib.model.server import _DatedEvent
from tests.conftest import BASE, make


def bad(overrides=None, **top) -> str:
    data = copy.deepcopy(BASE)
    data.update(copy.deepcopy(top))
    for p, v in (overrides or {}).items():
        data = set_path(data, p, v)
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source="s.yaml")
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("s.yaml: ")
    return msg.removeprefix("s.yaml: ")


TWO = {"cas[0].intermediates": [{"name": "I1"}, {"name": "I2"}]}
ON = "2025-02-01"


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"type": "ca_migration", "to": "x"}, "events[0].to: unknown CA 'x'"),
        (
            {"type": "ca_migration", "to": "ca2", "hosts": ["api.test", "nope"]},
            "events[0].hosts[1]: unknown host 'nope'",
        ),
        ({"type": "key_compromise", "host": "nope"}, "events[0].host: unknown host 'nope'"),
        # an empty name used to pass unchecked and hit no host
        ({"type": "key_compromise", "host": ""}, "events[0].host: unknown host ''"),
        ({"type": "mass_revocation", "ca": "x"}, "events[0].ca: unknown CA 'x'"),
        (
            {"type": "intermediate_change", "ca": "x", "active": ["I1"]},
            "events[0].ca: unknown CA 'x'",
        ),
        (
            {"type": "intermediate_change", "ca": "ca1", "active": ["I1", "I9"]},
            "events[0].active[1]: 'I9' is not an intermediate of ca1",
        ),
        (
            {"type": "intermediate_change", "ca": "ca1", "active": []},
            "events[0].active: needs at least one intermediate",
        ),
        ({"type": "ca_distrust", "ca": "x"}, "events[0].ca: unknown CA 'x'"),
        (
            {"type": "ca_distrust", "ca": "ca1", "replacement": "x"},
            "events[0].replacement: unknown CA 'x'",
        ),
        (
            {"type": "ca_distrust", "ca": "ca1", "migrate_on": "2025-03-01"},
            "events[0].migrate_on: must be on or before the distrust date",
        ),
        (
            {"type": "trust_store_change", "remove": ["ca1/I2", "x/I1"]},
            "events[0].remove[1]: unknown CA 'x' (use '<ca>' for its root or "
            "'<ca>/<intermediate>')",
        ),
        (
            {"type": "trust_store_change"},
            "events[0]: a trust_store_change needs 'add', 'remove' or 'path_building'",
        ),
    ],
    ids=lambda v: v["type"] if isinstance(v, dict) else None,
)
def test_each_reference_and_rule_of_each_event(event, message):
    assert bad(TWO, events=[{"date": ON, **event}]) == message


def test_references_are_checked_in_declared_order():
    """The first bad reference is reported: ``to`` before the hosts (as each event lists them)."""
    event = {"type": "ca_migration", "date": ON, "to": "x", "hosts": ["nope"]}
    assert bad(events=[event]) == "events[0].to: unknown CA 'x'"


class AuditNote(_DatedEvent):
    """An event-like model whose ``ca`` is free text (an auditor's label), not a CA reference."""

    type: Literal["audit_note"] = "audit_note"
    ca: str
    issuer: str | None = None

    def references(self) -> Iterator[Reference]:
        if self.issuer is not None:
            yield Reference("issuer", "ca", self.issuer)


def _with(event) -> None:
    sc = make()
    _semantic_checks(sc.model_copy(update={"events": [event]}))


def test_a_field_named_ca_is_not_a_reference_unless_declared():
    _with(AuditNote(date=dt.date(2025, 2, 1), ca="Some Auditor GmbH"))  # no error
    with pytest.raises(_SemanticError) as info:
        _with(AuditNote(date=dt.date(2025, 2, 1), ca="ca1", issuer="nope"))
    assert (info.value.where, info.value.message) == ("events[0].issuer", "unknown CA 'nope'")


def test_trust_change_limit_counts_what_splits_devices():
    """Only anchor changes split devices: distrusts on the same platform do not count."""
    changes = [
        {"type": "trust_store_change", "date": f"2025-02-{d:02d}", "add": ["ca1/I1"]}
        for d in range(1, 9)
    ]
    distrust = [{"type": "ca_distrust", "date": "2025-03-01", "ca": "ca2"}]
    make(events=changes + distrust)  # 8 changes: allowed
    ios_only = {**changes[0], "platforms": ["ios"]}
    make(events=[*changes, ios_only])  # the ninth reaches no android device
    assert bad(events=[*changes, changes[0]]) == (
        "events[8]: at most 8 trust_store_change events per platform (android)"
    )


def _warnings_of(**top) -> list[str]:
    import warnings

    from simlib.errors import ScenarioWarning

    data = copy.deepcopy(BASE)
    data.update(copy.deepcopy(top))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScenarioWarning)
        scenario_from_dict(data, source="s.yaml")
    return [str(w.message) for w in caught]


def test_a_horizon_longer_than_a_root_lives_warns_about_certificates_that_never_expire():
    """A 40-year run whose CAs have no expiry: root pins never break on expiry (20 years: the
    ISRG Root X1 self-signed term; Chrome's limit is about 15)."""
    long = _warnings_of(end="2064-12-31")
    # one line each, naming the file (as validation's warnings do) and the CA
    assert [m.split(": ")[1] for m in long if "never expire" in m] == [
        "cas[0] (ca1)",
        "cas[1] (ca2)",
    ]
    assert all(m.startswith("s.yaml: ") for m in long if "never expire" in m)
    assert "root and 1 intermediate(s) without not_after never expire over this 40-year" in long[0]
    dated = {
        "root_not_after": "2070-01-01",
        "intermediates": [{"name": "I1", "not_after": "2066-01-01"}],
    }
    cas = [{"name": "ca1", **dated}, {"name": "ca2", **dated}]
    assert not [m for m in _warnings_of(end="2064-12-31", cas=cas) if "never expire" in m]
    assert not [m for m in _warnings_of(end="2044-12-31") if "never expire" in m]  # 20 years


def test_an_explicit_renew_before_days_leaving_under_a_third_warns_once():
    """90-day certificates capped at 47 days from 2029-03-15 (cabf): 30 days ahead leaves 17 ≥
    15.7 days (no warning), 35 days ahead 12 (one warning; the rule is kept)."""
    hosts = copy.deepcopy(BASE["hosts"])
    span = {"start": "2029-01-01", "end": "2030-12-31", "validity_cap": "cabf"}
    assert not [m for m in _warnings_of(**span, hosts=hosts) if "less than a third" in m]
    hosts[0]["renew_before_days"] = 35
    (msg,) = [m for m in _warnings_of(**span, hosts=hosts) if "less than a third" in m]
    assert msg == (
        "s.yaml: hosts[0] (api.test): renew_before_days 35 renews the 47-day certificates issued from "
        "2029-03-15 every 12 day(s), less than a third of their lifetime (kept as written)"
    )
