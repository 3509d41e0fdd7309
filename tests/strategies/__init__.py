"""Tests of simlib.strategies: one calendar whose every day is known in closed form.

Host ``api.test`` (ca1) renews every 60 days (90-day certificates, renewed 30 days early) with a
new, pre-generated next key each time, so issuance ``k`` is served on days ``60k .. 60k + 59``.
ca1's intermediates rotate: I1 until day 100; I2 announced on day 59, issuing from day 100; I3
announced on day 151, issuing from day 212 (I2 stays the one served). ca2 is a second CA.
"""

from __future__ import annotations

import functools

from simlib.model import StrategySpec
from simlib.server.calendar import CertificateCalendar
from simlib.strategies.strategy import PinningStrategy
from tests.conftest import make

HOST = "api.test"
RENEW = 60  # days between issuances
I2_ANNOUNCED, I2_FROM, I3_ANNOUNCED, I3_FROM = 59, 100, 151, 212


@functools.cache
def calendar(next_key: bool = True) -> CertificateCalendar:
    sc = make(
        {
            "cas[0].intermediates": [
                {"name": "I1", "active_until": "2025-04-11"},
                {"name": "I2", "active_from": "2025-04-11", "announced": "2025-03-01"},
                {"name": "I3", "announced": "2025-06-01", "active_from": "2025-08-01"},
            ],
            "hosts[0].pregenerate_next_key": next_key,
        },
        hosts=[
            {"name": HOST, "ca": "ca1", "validity_days": 90, "renew_before_days": 30},
            {"name": "other.test", "ca": "ca2", "validity_days": 90, "renew_before_days": 30},
        ],
    )
    return CertificateCalendar(sc)


def strategy(pin: str, **fields: object) -> PinningStrategy:
    return PinningStrategy.from_spec(StrategySpec(name="s", pin=pin, **fields))
