"""Intermediates published before they go live (``announced``), against closed forms.

ca1 issues from I1; I2 is announced on 03-01 (day 59) and goes live on 06-01 (day 151). Apps
pinning "all intermediates" (or backing up ``intermediates:ca1``) built from day 59 pin I2 too.
"""

from __future__ import annotations

import numpy as np

from simlib.api import simulate
from simlib.server.calendar import CertificateCalendar
from tests.conftest import G, make

ANNOUNCED, LIVE = 59, 151
I2 = {
    "cas[0].intermediates": [
        {"name": "I1", "active_until": "2025-06-01"},
        {"name": "I2", "active_from": "2025-06-01", "announced": "2025-03-01"},
    ]
}
STRATEGIES = [
    {"name": "all", "pin": "intermediate_spki", "intermediates": "all"},
    {"name": "backup", "pin": "leaf_spki", "backup": ["intermediates:ca1"]},
]


def test_pinnable_from_the_announcement_active_from_go_live():
    cal = CertificateCalendar(make(I2))
    assert cal.pinnable_intermediates("ca1", ANNOUNCED - 1) == ["I1"]
    assert cal.pinnable_intermediates("ca1", ANNOUNCED) == ["I1", "I2"]
    assert cal.active_intermediates("ca1", ANNOUNCED) == ["I1"]
    assert (
        cal.pinnable_intermediates("ca1", LIVE) == cal.active_intermediates("ca1", LIVE) == ["I2"]
    )


def test_all_intermediates_pin_survives_the_switch_for_builds_after_the_announcement():
    """The first certificate from I2 is issued at the first renewal on/after day 151 (renewals
    every 60 days: day 180). Versions built before day 59 pin I1 only and are locked from 180;
    versions built from day 59 on (version 5, r=70, b=67, is the first) pin I2 too. Locked =
    users below version 5 = 1 − G(t − 70). Without the announcement everything built before
    day 151 is locked (version 11, r=154, b=151, is the first to pin I2)."""
    sc = make(I2, strategies=STRATEGIES)
    res = simulate(sc)
    ts = res.timeseries
    t = np.arange(sc.days)
    all_ = ts[ts.strategy == "all"]["lockout_rate"].to_numpy()
    np.testing.assert_allclose(all_, np.where(t < 180, 0.0, 1.0 - G(sc, t - 70)), atol=1e-12)
    unannounced = make(
        {
            "cas[0].intermediates": [
                {"name": "I1", "active_until": "2025-06-01"},
                {"name": "I2", "active_from": "2025-06-01"},
            ]
        },
        strategies=STRATEGIES,
    )
    late = simulate(unannounced).timeseries
    late_all = late[late.strategy == "all"]["lockout_rate"].to_numpy()
    np.testing.assert_allclose(late_all, np.where(t < 180, 0.0, 1.0 - G(sc, t - 154)), atol=1e-12)
    # leaf key + intermediates:ca1 backup: the key changes every renewal, the backup carries
    # versions across; I2 is in the backup of every build from day 59: the same closed form
    backup = ts[ts.strategy == "backup"]["lockout_rate"].to_numpy()
    np.testing.assert_allclose(backup, np.where(t < 180, 0.0, 1.0 - G(sc, t - 70)), atol=1e-12)
