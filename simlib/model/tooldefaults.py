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


#: the rule a tool's published one gives way to when it no longer fits the lifetime (Let's
#: Encrypt's advice, and the simulator's own default: simlib.server.lifetimes)
FALLBACK_FRACTION = 2 / 3


def published_renewal(tool: str, day: dt.date) -> dict[str, Any]:
    """The tool's own renewal rule for an issuance on ``day`` (``renew_before_days`` or
    ``renew_at_fraction``), as ``data/world/tooling-defaults.csv`` has it."""
    return {k: v for k, v in _policy(tool, day).items() if k != "key_policy"}


def is_fallback(tool: str, step: Any) -> bool:
    """Whether a resolved ``policy_schedule`` step's renewal rule is the fallback of
    :func:`fit_to_lifetimes`, not the tool's own rule on its date (an assumption)."""
    if not isinstance(step, dict) or step.get("renew_at_fraction") != FALLBACK_FRACTION:
        return False
    day = step.get("from")
    day = dt.date.fromisoformat(day) if isinstance(day, str) else day
    if not isinstance(day, dt.date):
        return False
    return published_renewal(tool, day).get("renew_at_fraction") != FALLBACK_FRACTION


def too_short(before: int, lifetime: int) -> bool:
    """Whether renewing ``before`` days ahead leaves less than a third of ``lifetime`` in force."""
    return 3 * (lifetime - before) < lifetime


def fit_to_lifetimes(
    host: dict[str, Any],
    lifetimes: list[tuple[dt.date, int]],
    tool: str,
    where: str,
    own_base: bool,
) -> None:
    """Give way to :data:`FALLBACK_FRACTION`, with a warning, from each date a tool-derived
    ``renew_before_days`` would leave less than a third of the lifetime in force there.

    ``lifetimes``: (first issue day, days) of each lifetime the host gets, in date order;
    ``own_base``: the host's base rule is its own (kept; checks.py warns about it). Called only
    when the tool wrote ``host['policy_schedule']``, so every step's rule is the tool's.
    """
    import warnings

    from simlib.errors import ScenarioWarning

    steps: list[dict[str, Any]] = [dict(s) for s in host.get("policy_schedule") or []]
    by_day = {s["from"]: s for s in steps}
    days = sorted({d for d, _ in lifetimes} | set(by_day))
    before, tool_rule = host.get("renew_before_days"), not own_base
    changed = False
    for day in days:
        step = by_day.get(day)
        if step is not None and ("renew_before_days" in step or "renew_at_fraction" in step):
            before, tool_rule = step.get("renew_before_days"), True
        life = next((n for d, n in reversed(lifetimes) if d <= day), None)
        if not tool_rule or before is None or life is None or not too_short(before, life):
            continue
        if step is None:
            step = by_day[day] = {"from": day}
            steps.append(step)
        step.pop("renew_before_days", None)
        step["renew_at_fraction"] = FALLBACK_FRACTION
        every = max(1, life - before)  # simlib.server.lifetimes.renew_offset
        warnings.warn(
            f"{where} ({host.get('name')}): from {day}, {tool}'s rule 'renew {before} days before "
            f"expiry' would renew {life}-day certificates every {every} day(s), less than a "
            "third of their lifetime; renewing at 2/3 of the lifetime instead (Let's Encrypt's "
            "advice): an assumption",
            ScenarioWarning,
            stacklevel=3,
        )
        changed, before = True, None
    if changed:
        host["policy_schedule"] = sorted(steps, key=lambda s: s["from"])
