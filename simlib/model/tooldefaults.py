"""A renewal tool's defaults as host fields: the key policy and renewal rule in force on the
host's first issue day, and a ``policy_schedule`` step for each later change up to ``end``
(``simlib.world.defaults_on``; the tools and their dated defaults are
``data/world/tooling-defaults.csv``). Used by the host shorthand (:mod:`simlib.model.realworld`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def _policy(tool: str, day: dt.date) -> dict[str, Any]:
    from simlib.world import defaults_on

    d = defaults_on(tool, day)  # an alias (acm) is resolved there
    out: dict[str, Any] = {"key_policy": "reuse" if d.reuses_key else "rotate"}
    if d.renew_at_fraction is not None:
        out["renew_at_fraction"] = d.renew_at_fraction
    elif d.renew_before_days is not None:
        out["renew_before_days"] = d.renew_before_days
    return out


def tool_fields(tool: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    from simlib.world.tooling import canonical_tool, load_tooling

    facts = load_tooling()[canonical_tool(tool)]
    fields = _policy(tool, start)
    steps, current = [], fields
    dates = sorted(
        {f.effective_date for f in facts if f.effective_date and start < f.effective_date <= end}
    )
    for day in dates:
        now = _policy(tool, day)
        if now == current:
            continue
        step: dict[str, Any] = {"from": day}
        if now["key_policy"] != current["key_policy"]:
            step["key_policy"] = now["key_policy"]
        renewal = {k: v for k, v in now.items() if k != "key_policy"}
        if renewal != {k: v for k, v in current.items() if k != "key_policy"}:
            step.update(renewal)
        steps.append(step)
        current = now
    if steps:
        fields["policy_schedule"] = steps
    return fields
