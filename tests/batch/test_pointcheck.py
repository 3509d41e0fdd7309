"""Checking a sweep's points before they run (simlib.batch.pointcheck): paths parse, and an
invalid point is one line naming the axis (kind and path) and the value to blame."""

from __future__ import annotations

import copy
import warnings
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simlib.batch.pointcheck import _blame, _fmt, axis_where, check_path, validate_point
from simlib.errors import MAX_LINE, ScenarioError

from . import small_base


@pytest.fixture(scope="module")
def base() -> dict[str, Any]:
    return small_base()


def _refusal(base: dict[str, Any], point: dict[str, Any], kinds: dict[str, str]) -> ScenarioError:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ScenarioError) as info:
            validate_point(base, point, 3, kinds, "s.yaml")
    err = info.value
    assert err.source == "s.yaml" and "\n" not in str(err) and len(str(err)) <= MAX_LINE
    return err


def test_axis_where_names_the_axis_as_written_in_the_sweep_file() -> None:
    assert axis_where("grid", "fleet.users") == "axes.grid.fleet.users"
    assert axis_where("random", "fleet.users") == "axes.random.params.fleet.users"
    assert axis_where("latin_hypercube", "end") == "axes.latin_hypercube.params.end"


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("hosts[", "cannot parse"),
        ("a..b", "empty segment"),
        ("hosts[x]", "cannot parse"),
        ("", "empty"),
    ],
)
def test_check_path_refuses_unparsable_paths(path: str, problem: str) -> None:
    with pytest.raises(ScenarioError) as info:
        check_path(path, "random", "s.yaml")
    assert info.value.where == f"axes.random.params.{path}"
    assert info.value.message.startswith("bad path: ") and problem in info.value.message


@pytest.mark.parametrize(
    "path", ["fleet.users", "hosts[0].validity_days", "economics.cost_per_locked_user_day"]
)
def test_check_path_accepts_dotted_paths(path: str) -> None:
    check_path(path, "grid", "s.yaml")  # no error


def test_a_valid_point_passes_and_the_base_is_not_modified(base: dict[str, Any]) -> None:
    before = copy.deepcopy(base)
    validate_point(base, {"hosts[0].validity_days": 90, "fleet.users": 50}, 0, {}, "s.yaml")
    assert base == before


def test_one_bad_value_names_its_axis_and_value(base: dict[str, Any]) -> None:
    err = _refusal(base, {"hosts[0].validity_days": -5}, {"hosts[0].validity_days": "grid"})
    assert (err.where, err.message) == ("axes.grid.hosts[0].validity_days", "value -5: must be ≥ 1")


def test_a_missing_list_index_is_no_such_field(base: dict[str, Any]) -> None:
    assert len(base["hosts"]) == 1
    err = _refusal(base, {"hosts[5].validity_days": 47}, {"hosts[5].validity_days": "random"})
    assert err.where == "axes.random.params.hosts[5].validity_days"
    assert err.message == "no such field (index [5] does not exist)"


def test_an_unknown_field_is_not_a_scenario_field(base: dict[str, Any]) -> None:
    err = _refusal(base, {"hosts[0].nonsense": 47}, {"hosts[0].nonsense": "grid"})
    assert (err.where, err.message) == ("axes.grid.hosts[0].nonsense", "not a scenario field")


@pytest.mark.parametrize("order", [1, -1])
def test_with_several_axes_the_one_sharing_the_error_path_is_blamed(
    base: dict[str, Any], order: int
) -> None:
    point = dict(list({"hosts[0].validity_days": -5, "fleet.users": 10}.items())[::order])
    kinds = {"hosts[0].validity_days": "grid", "fleet.users": "random"}
    assert _refusal(base, point, kinds).where == "axes.grid.hosts[0].validity_days"
    point = {"fleet.users": -3, "hosts[0].validity_days": 90}
    err = _refusal(base, point, kinds)
    assert (err.where, err.message) == ("axes.random.params.fleet.users", "value -3: must be ≥ 1")


def test_an_error_below_the_axis_names_the_field_inside_it(base: dict[str, Any]) -> None:
    host = dict(base["hosts"][0], validity_days=0)
    err = _refusal(base, {"hosts[0]": host}, {"hosts[0]": "random"})
    assert err.where == "axes.random.params.hosts[0]"
    assert err.message.startswith("value {") and err.message.endswith(
        ": hosts[0].validity_days: must be ≥ 1"
    )


def test_an_error_no_axis_explains_lists_the_whole_point(base: dict[str, Any]) -> None:
    # start moved past end: the error is at `end`, which neither axis shares.
    point = {"start": "2030-01-01", "fleet.users": 5}
    err = _refusal(base, point, {"start": "grid", "fleet.users": "grid"})
    assert err.where == "axes"
    assert (
        err.message == "point 3 (start='2030-01-01', fleet.users=5): end: must not be before start"
    )


def test_a_long_value_is_clipped_so_the_problem_stays_on_the_line(base: dict[str, Any]) -> None:
    err = _refusal(
        base, {"hosts[0].validity_days": "x" * 5000}, {"hosts[0].validity_days": "latin_hypercube"}
    )
    assert err.message.endswith("…: must be an integer") and len(err.message) < 120


def test_blame_picks_the_longest_common_field_prefix() -> None:
    paths = ["fleet.users", "hosts[0].ca", "hosts[0].key_policy"]
    assert _blame("hosts[0].ca", paths) == "hosts[0].ca"  # exact
    assert _blame("hosts[0].ca.name", paths) == "hosts[0].ca"
    assert _blame("fleet.adoption.components[0].weight", paths) == "fleet.users"
    assert _blame("hosts[0].validity_days", paths) == "hosts[0].ca"  # first of equals
    assert _blame("start", paths) is None
    assert _blame("start", ["fleet.users"]) == "fleet.users"  # one axis: the only cause
    assert _blame("not a [path", ["fleet.users", "end"]) is None


@given(st.text(max_size=300))
def test_fmt_is_one_bounded_line(text: str) -> None:
    out = _fmt(text)
    assert len(out) <= 60 and "\n" not in out and "\r" not in out
    if len(repr(text)) <= 60 and text.isprintable():
        assert out == repr(text)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False),
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=5), c, max_size=4),
        max_leaves=20,
    )
)
def test_fmt_of_json_values_is_bounded(value: Any) -> None:
    out = _fmt(value)
    assert len(out) <= 60 and "\n" not in out
