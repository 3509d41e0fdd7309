"""The seed questions of certificate pinning, answered by simulating the scenario at hand.

Each question function takes a :class:`~simlib.model.Scenario`, builds the comparison variants
from the scenario's own hosts, CAs and strategies (``variants``), simulates them in expected mode
and returns an :class:`Answer` (``answers``): the question, a tidy table (one row per *world* —
the scenario, or the scenario with one change — and strategy) and an answer built only from the
numbers in that table (:mod:`simlib.report.wording`).

Questions (``choices``): :func:`spki_vs_certificate`, :func:`backup_other_ca`,
:func:`dynamic_pinning`, :func:`pin_expiry`, :func:`report_only_first`; :func:`what_if_validity`
applies one certificate lifetime to every host. :func:`headline` and :func:`describe` explain
one result (``overview``).
"""

from simlib.report.questions.answers import READABLE_COLUMNS, Answer, readable_table
from simlib.report.questions.choices import (
    EXPIRY_DAYS,
    QUESTIONS,
    backup_other_ca,
    dynamic_pinning,
    pin_expiry,
    report_only_first,
    spki_vs_certificate,
    what_if_validity,
)
from simlib.report.questions.overview import (
    describe,
    display_name,
    distribution,
    format_table,
    frontier,
    headline,
)
from simlib.report.questions.variants import AS_GIVEN, BACKUP_CA, compare, with_validity

__all__ = [
    "AS_GIVEN",
    "BACKUP_CA",
    "EXPIRY_DAYS",
    "QUESTIONS",
    "READABLE_COLUMNS",
    "Answer",
    "backup_other_ca",
    "compare",
    "describe",
    "display_name",
    "distribution",
    "dynamic_pinning",
    "format_table",
    "frontier",
    "headline",
    "pin_expiry",
    "readable_table",
    "report_only_first",
    "spki_vs_certificate",
    "what_if_validity",
    "with_validity",
]
