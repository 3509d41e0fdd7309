"""One-line messages for pydantic validation errors (scenario and sweep files)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, get_args

from simlib.errors import clip, format_loc
from simlib.model.server import EVENT_TYPES

_MESSAGES = {
    "greater_than_equal": lambda c: f"must be ≥ {c['ge']}",
    "greater_than": lambda c: f"must be > {c['gt']}",
    "less_than_equal": lambda c: f"must be ≤ {c['le']}",
    "less_than": lambda c: f"must be < {c['lt']}",
    "extra_forbidden": lambda c: "unknown field",
    "missing": lambda c: "required field is missing",
    "int_type": lambda c: "must be an integer",
    "int_parsing": lambda c: "must be an integer",
    "int_from_float": lambda c: "must be a whole number",
    "float_type": lambda c: "must be a number",
    "float_parsing": lambda c: "must be a number",
    "bool_type": lambda c: "must be true or false",
    "bool_parsing": lambda c: "must be true or false",
    "string_type": lambda c: "must be a string",
    "date_type": lambda c: "must be a date (YYYY-MM-DD)",
    "date_parsing": lambda c: "must be a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": lambda c: "must be a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": lambda c: "must be a date (YYYY-MM-DD), without a time of day",
    "finite_number": lambda c: "must be a finite number",
    "int_parsing_size": lambda c: "is too large",
    "string_too_long": lambda c: f"must be at most {c['max_length']} characters",
    "string_too_short": lambda c: "must not be empty",
    "too_short": lambda c: f"needs at least {c['min_length']} item(s)",
    "too_long": lambda c: (
        f"allows at most {c['max_length']:,} item(s)"
        + (f", not {c['actual_length']:,}" if c.get("actual_length") else "")
        + " (docs/scenario.md, Limits): shorten the list"
    ),
    "dict_attributes_type": lambda c: "must be a mapping",
    "tuple_type": lambda c: "must be a list",
    "list_type": lambda c: "must be a list",
    "dict_type": lambda c: "must be a mapping",
    "model_type": lambda c: "must be a mapping",
    "literal_error": lambda c: f"must be one of {clip(c['expected'], 160)}",
    "union_tag_invalid": lambda c: f"unknown type '{c['tag']}' (expected {c['expected_tags']})",
    "union_tag_not_found": lambda c: "needs a 'type' field",
}


_INTERNAL_LOC = re.compile(r"[a-z][\w-]*\[(?!\d+\]$).*\]|int|float|str|bool|none")


def _internal(part: Any) -> bool:
    """Pydantic's own location parts (union branches, validator wrappers), not field names.

    ``function-after[_check(), Adoption]`` or ``literal['reuse','rotate']`` are dropped; a field
    or sweep key such as ``hosts[0].validity_days`` is kept.
    """
    return isinstance(part, str) and (part in _UNION_TAGS or bool(_INTERNAL_LOC.fullmatch(part)))


def describe_validation_error(err: Mapping[str, Any]) -> tuple[str, str]:
    """(field path, one-line message) of one pydantic error, with pydantic's internals removed."""
    loc = [p for p in err["loc"] if not _internal(p)]
    ctx = err.get("ctx") or {}
    # A mapping key that is not a string (null, 1, true): in a dict field pydantic adds "[key]"
    # after it, in a model it reports "invalid_key" at it.
    bad_key = (
        (loc[-2], loc[:-2])
        if len(loc) >= 2 and loc[-1] == "[key]"
        else ((loc[-1], loc[:-1]) if loc and err["type"] == "invalid_key" else None)
    )
    if bad_key is not None:
        # pydantic gives the key as text ('None', 'True'); a string key never fails here
        key = {"None": "null", "True": "true", "False": "false"}.get(str(bad_key[0]), bad_key[0])
        return format_loc(bad_key[1]), f"key {clip(key, 40)}: keys must be strings"
    make = _MESSAGES.get(err["type"])
    if make is not None:
        try:
            return format_loc(loc), make(ctx)
        except KeyError:
            pass
    msg = clip(str(err.get("msg", "invalid value")), 200)
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    # Messages from our own validators may start with a sub-path ("backup[1]: ...").
    m = re.match(r"^([A-Za-z_][\w]*(?:\[\d+\])?(?:\.[\w]+(?:\[\d+\])?)*): (.*)$", msg)
    if m and not m.group(1).startswith(("give", "must")):
        sub, msg = m.group(1), m.group(2)
        head = re.split(r"[.\[]", sub, maxsplit=1)[0]
        if loc and loc[-1] == head:  # a field validator naming its own field: "backup[1]: ..."
            loc = loc[:-1]
        path = format_loc(loc)
        return (f"{path}.{sub}" if path else sub), msg
    return format_loc(loc), msg


# Location parts pydantic adds for union branches, not field names: each event's ``type`` tag
# (read from the event models, so a new event is dropped too), the class name of a model branch
# of a plain union (``key_policy: 'reuse' | RotateEvery``) and the after-validator wrapper.
_UNION_TAGS = frozenset(
    {
        *(get_args(event.model_fields["type"].annotation)[0] for event in EVENT_TYPES),
        "RotateEvery",
        "function-after",
    }
)


def pick_validation_error(errors: list[Mapping[str, Any]]) -> Mapping[str, Any]:
    # For unions (key_policy: 'reuse' | {rotate_every}) pydantic reports every branch; the most
    # useful is the deepest non-literal one.
    return max(errors, key=lambda e: (e["type"] != "literal_error", len(e["loc"])))
