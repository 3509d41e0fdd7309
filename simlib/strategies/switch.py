"""A strategy that learns: builds from a switch day on ship another strategy's pins.

Incident response with ``fix_strategy`` (docs/model.md, "Incident response"): the first fix
release, and every release built on or after its build day, pins what the fix strategy pins;
earlier builds keep their own pins. Enforcement and pin expiry stay the strategy's own.
"""

from __future__ import annotations

from simlib.server.calendar import CertificateCalendar
from simlib.strategies.strategy import PinningStrategy, PinSet


class SwitchedStrategy(PinningStrategy):
    """``base``'s pins for builds before ``switch_day``, ``fix``'s pins from that day on."""

    def __init__(self, base: PinningStrategy, fix: PinningStrategy, switch_day: int) -> None:
        # Its own name, level, enforcement and expiry; static pins (the switch replaces the list).
        super().__init__(base.spec.model_copy(update={"dynamic": None}))
        self.base, self.fix, self.switch_day = base, fix, switch_day

    def __repr__(self) -> str:
        return f"SwitchedStrategy({self.base!r} → {self.fix!r} from day {self.switch_day})"

    @property
    def pins_by_day(self) -> bool:
        return True  # which strategy applies depends on the build day itself

    def pins(self, calendar: CertificateCalendar, host: str, build_day: int) -> PinSet:
        chosen = self.fix if build_day >= self.switch_day else self.base
        return chosen.pins(calendar, host, build_day)
