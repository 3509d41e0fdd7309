"""One-line validation messages: pydantic's union tags never show up as field names."""

from __future__ import annotations

import copy
import typing

import pytest

from simlib.errors import ScenarioError
from simlib.model import scenario_from_dict
from simlib.model.server import EVENT_TYPES
from tests.conftest import BASE

MINIMAL = {
    "ca_migration": {"to": "ca2"},
    "key_compromise": {},
    "mass_revocation": {"ca": "ca1"},
    "intermediate_change": {"ca": "ca1", "active": ["I1"]},
    "ca_distrust": {"ca": "ca2"},
    "trust_store_change": {"remove": ["ca2"]},
}


def _tag(event: type) -> str:
    return typing.get_args(event.model_fields["type"].annotation)[0]


def test_every_event_type_has_a_minimal_example():
    assert set(MINIMAL) == {_tag(e) for e in EVENT_TYPES}


@pytest.mark.parametrize("event", EVENT_TYPES, ids=_tag)
def test_an_error_inside_an_event_names_the_field_not_the_tag(event):
    data = copy.deepcopy(BASE)
    data["events"] = [
        {"type": "key_compromise", "date": "2025-02-01"},
        {"type": _tag(event), "date": "2025-02-01", **MINIMAL[_tag(event)], "bogus": 1},
    ]
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source="s.yaml")
    assert str(info.value) == "s.yaml: events[1].bogus: unknown field"
