"""How long a certificate lives and when it is renewed (docs/model.md, "Renewal").

* lifetime = min(host or CA validity on the issue date, the validity cap on the issue date);
* renewal after ``lifetime − renew_before_days`` days, or ``floor(renew_at_fraction · lifetime)``
  (default 2/3, Let's Encrypt's advice), never sooner than one day.

A certificate of N days issued on day d is valid from 00:00:00Z of d to N days later minus one
second: that rule is :func:`simlib.pki.certs.validity`, used by the calendar's table and the real
certificates alike.
"""

from __future__ import annotations

import math

from simlib.model import CASpec, HostSpec, Scenario

DEFAULT_RENEW_FRACTION = 2 / 3


def lifetime_days(scenario: Scenario, host: HostSpec, ca: CASpec, day: int) -> int:
    """Validity in days of a certificate issued for ``host`` by ``ca`` on ``day``
    (:meth:`simlib.model.Scenario.lifetime_days`, the one rule)."""
    return scenario.lifetime_days(host, ca, scenario.date(day))


def renew_offset(lifetime: int, before: int | None, fraction: float | None) -> int:
    """Days from an issuance to its renewal (``before`` days ahead, or at ``fraction``)."""
    if before is not None:
        return max(1, lifetime - before)
    fraction = fraction or DEFAULT_RENEW_FRACTION
    return max(1, math.floor(fraction * lifetime))
