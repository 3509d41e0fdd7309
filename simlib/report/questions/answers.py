"""An :class:`Answer`: a question, its table (one row per world and strategy) and its text;
the table's readable columns, and the lookups an answer's text is built from."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from simlib.report.plots import readable
from simlib.report.questions.variants import AS_GIVEN
from simlib.report.wording import join


@dataclass(frozen=True)
class Answer:
    """A question, the simulated numbers behind it and the answer they give."""

    question: str
    table: pd.DataFrame = field(repr=False)
    text: str
    #: What the simulator cannot model for this question (empty when everything is modelled).
    caveat: str = ""

    def markdown(self) -> str:
        """The question in bold, the answer, and what is not modelled."""
        out = f"**{self.question}** {self.text}"
        return out + (f"\n\n*Not modelled:* {self.caveat}" if self.caveat else "")

    def readable(self) -> pd.DataFrame:
        """The table's main columns with names in words (for display)."""
        return readable_table(self.table)


#: Answer-table columns shown by :meth:`Answer.readable`, in order, with their names in words.
READABLE_COLUMNS: dict[str, str] = {
    "world": "world",
    "strategy": "strategy",
    "mode": "mode",
    "expires_after_days": "pins expire after (days)",
    "certificate_changes": "certificate changes",
    "breaks": "breaks",
    "locked_user_days": "locked user-days",
    "mean_lockout": "locked share (mean day)",
    "peak_lockout": "peak locked share",
    "users_ever_locked": "users ever locked",
    "first_lockout": "first lockout",
    "peak_violation": "peak share reporting a pin failure",
    "first_violation": "first pin-failure report",
    "protected_mean": "protected share (mean over attacks)",
}


def readable_table(table: pd.DataFrame) -> pd.DataFrame:
    """The columns of :data:`READABLE_COLUMNS` present in ``table``, renamed; a ``world`` column
    holding one value is dropped; report columns only when something was reported."""
    cols = [c for c in READABLE_COLUMNS if c in table]
    if "world" in cols and table["world"].nunique() == 1:
        cols.remove("world")
    if "mode" not in table:
        cols = [c for c in cols if c not in ("peak_violation", "first_violation")]
    return table[cols].rename(columns=READABLE_COLUMNS)


def row(table: pd.DataFrame, strategy: str, world: str = AS_GIVEN) -> pd.Series:
    return table[(table["world"] == world) & (table["strategy"] == strategy)].iloc[0]


def over(table: pd.DataFrame) -> str:
    """A sentence saying what a protected share is averaged over."""
    names = attack_names(table)
    what = f"the {len(names)} attacks scored" if len(names) > 1 else "the one attack scored"
    return (
        f"Protected shares are averaged over days and over {what} ({join(names)}); "
        "locked users count as unprotected."
    )


def attack_names(table: pd.DataFrame) -> list[str]:
    return [readable(c) for c in table if c.startswith("protected_") and c != "protected_mean"]
