"""Scenario schema: incident response, economics, metrics and Monte Carlo options."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    Field,
)

from simlib.model.base import (
    MAX_DAYS,
    Name,
    _Model,
)
from simlib.model.strategies import StrategySpec


class ForcedUpdate(_Model):
    """A blocking update prompt shipped with each fix release."""

    comply_share: Annotated[float, Field(ge=0, le=1)] = 0.8


class IncidentResponse(_Model):
    threshold: Annotated[float, Field(gt=0, lt=1)] = 0.001
    detect_days: Annotated[int, Field(ge=0, le=MAX_DAYS)] = 1
    review_days: Annotated[int, Field(ge=0, le=MAX_DAYS)] = 2
    forced_update: ForcedUpdate | None = None
    #: Host serving the update check; ``null`` = an unpinned endpoint. Default: the first host.
    update_check_host: str | None = "__first__"
    #: The strategy whose pins fix releases (and every later release) ship: the name of one of
    #: the scenario's strategies or an inline strategy. Default: each strategy keeps its own.
    fix_strategy: Name | StrategySpec | None = None


class Economics(_Model):
    cost_per_locked_user_day: Annotated[float, Field(ge=0)] = 0.0
    attack_probability_per_day: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict
    )
    loss_per_successful_attack: (
        Annotated[float, Field(ge=0)] | dict[str, Annotated[float, Field(ge=0)]]
    ) = 0.0


class Metrics(_Model):
    #: A day counts towards an outage episode when its lockout rate exceeds this.
    outage_threshold: Annotated[float, Field(ge=0, lt=1)] = 0.0


class MonteCarloSpec(_Model):
    replications: Annotated[int, Field(ge=1, le=1_000_000)] = 100
    #: fixed: every replication replays the scenario's seeded certificate calendar;
    #: resample: each replication draws its own calendar (random intermediates, incident dates).
    server_draws: Literal["fixed", "resample"] = "fixed"
    #: Users simulated one by one for dynamic-pinning strategies (fetch histories), scaled up.
    panel_users: Annotated[int, Field(ge=100, le=10_000_000)] = 10_000
