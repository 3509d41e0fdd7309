"""The decision report's sections, each a displayable object built from one simulation.

The report notebook (``simlib/report/templates/decision-report.ipynb``, copied as
``notebooks/05-decision-report.ipynb``) only calls these methods and displays what they return:
HTML fragments and figures (:mod:`simlib.report.fragments`). nbconvert turns the
executed notebook into one HTML page (:mod:`simlib.report.render`). All text is built from the
numbers it states; nothing here is canned per scenario.
"""

from __future__ import annotations

import pandas as pd

from simlib.report.decision import (
    CostInputs,
    cost_inputs,
    pareto,
    ranked_table,
    recommendation,
)
from simlib.report.findings import findings, platform_lockout
from simlib.report.fragments import Fragment, Picture, picture
from simlib.report.html import esc, ranked_table_html, table_html
from simlib.report.plots import (
    plot_coverage_readable,
    plot_lockout_panels,
    plot_pareto,
    plot_platform_split,
    readable,
)

__all__ = ["DecisionReport"]

#: A platform split is drawn when platforms' locked shares differ by more than this.
PLATFORM_GAP = 0.005


class DecisionReport:
    """Every number, sentence and figure of the decision report for one simulation result.

    Parameters
    ----------
    result : an expected-mode :class:`~simlib.results.expected.SimulationResult`.
    inputs : cost inputs (default: the scenario's economics, else the labelled defaults).
    notes : what loading the scenario assumed (its ScenarioWarnings as text, see
        :func:`simlib.report.notebook.loaded`), shown by :meth:`scenario_notes`.
    """

    def __init__(
        self, result, inputs: CostInputs | None = None, notes: tuple[str, ...] = ()
    ) -> None:
        self.result = result
        self.notes = tuple(notes)
        self.scenario = result.scenario
        self.inputs = inputs or cost_inputs(self.scenario)
        self.table = ranked_table(result, self.inputs)
        self.recommended = recommendation(self.table)
        self.findings = findings(result)

    @classmethod
    def of(cls, scenario, notes: tuple[str, ...] = ()) -> DecisionReport:
        """Simulate ``scenario`` (expected mode) and build its report, with the ``notes``
        loading it gave."""
        from simlib.api import simulate

        return cls(simulate(scenario), notes=notes)

    def write_results(self, out) -> list:
        """The result files of this simulation (CSV, Parquet, resolved scenario) and the short
        Markdown summary with its figures, into ``out`` (each file atomically)."""
        from pathlib import Path

        from simlib.report.markdown import summary_files
        from simlib.results.io import atomic_write

        files = summary_files(self.scenario, self.result)  # rendered before anything is written
        paths = self.result.write(out, ("csv", "parquet"))
        for name, data in files.items():
            paths.append(atomic_write(Path(out) / name, lambda p, data=data: p.write_bytes(data)))
        return paths

    # ------------------------------------------------------------------------- text
    def title(self) -> Fragment:
        sc = self.scenario
        desc = (
            f"<p class='simlib-note'>{esc(sc.description.strip())}</p>"
            if sc.description.strip()
            else ""
        )
        return Fragment(
            f"<h1>{esc(sc.name)}: should we pin certificates, and how?</h1>{desc}"
            f"<p>{sc.start} → {sc.end} ({sc.days:,} days), {sc.fleet.users:,} users, "
            f"{len(sc.hosts)} host(s), releases every {sc.fleet.release_every_days} days; "
            f"{len(self.table)} strategies compared (expected values: exact arithmetic over "
            "strategy × app version × day).</p>"
        )

    def scenario_notes(self) -> Fragment | None:
        """What loading the scenario assumed (extrapolated intermediates, profiles assumed
        early, a CA's exit) as a list, or ``None`` when it assumed nothing."""
        if not self.notes:
            return None
        items = "".join(f"<li>{esc(n)}</li>" for n in self.notes)
        return Fragment(
            '<div class="simlib-notes" id="scenario-notes"><p><b>Notes on this scenario</b> '
            "(what loading it assumed):</p>"
            f'<ul class="simlib-note">{items}</ul></div>'
        )

    def answer(self) -> Fragment:
        rec = self.recommended
        return Fragment(
            '<div class="simlib-answer" id="recommendation"><p><b>Recommendation: '
            f'<span id="recommended">{esc(rec.label)}</span></b>.</p>'
            f"<p>{esc(rec.why)}</p></div>"
        )

    def ranked(self) -> Fragment:
        from simlib.report.calendar_table import assumed_lockouts

        rule = str(self.table.attrs.get("rule", ""))
        notes = "".join(  # a lockout resting on an assumed event says so under the table
            f"<p class='simlib-note assumed-lockout'>{esc(t)}</p>"
            for t in assumed_lockouts(self.result, self._calendar(), self.table)
        )
        return Fragment(
            f"<p>{esc(rule[:1].upper() + rule[1:])}.</p>" + ranked_table_html(self.table) + notes
        )

    def findings_list(self) -> Fragment:
        if not self.findings:
            return Fragment(
                "<p>No platform trap, pin expiry, pinned update check or incurable lockout was "
                "detected in this scenario.</p>"
            )
        items = "".join(
            f"<li><b>{esc(f.kind.replace('_', ' '))}</b>: {esc(f.text)}</li>" for f in self.findings
        )
        return Fragment(f"<ul id='findings'>{items}</ul>")

    # ------------------------------------------------------------------------- figures
    def lockout_figure(self) -> Picture:
        res = self.result
        rows = -(-len(self.table) // 3)
        return picture(
            lambda fig: plot_lockout_panels(res.timeseries, res.issuances, res.releases, fig=fig),
            "lockout over time, one panel per strategy",
            (12, 2.4 * max(1, rows) + 0.9),
        )

    def platform_figures(self) -> list[Picture]:
        """One figure per strategy whose platforms' locked shares differ."""
        split = platform_lockout(self.result).pivot(
            index="strategy", columns="platform", values="locked_share"
        )
        if split.shape[1] < 2:
            return []
        differ = split[(split.max(axis=1) - split.min(axis=1)) > PLATFORM_GAP]
        shares = {p: s.share for p, s in self.scenario.fleet.platforms.items()}
        ts = self.result.timeseries
        return [
            picture(
                lambda fig, n=name: plot_platform_split(ts, n, shares, fig.subplots()),
                f"{name} by platform",
                (9, 3.2),
            )
            for name in self.table["strategy"]
            if name in differ.index
        ]

    def no_platform_difference(self) -> Fragment:
        platforms = [p for p, s in self.scenario.fleet.platforms.items() if s.share > 0]
        if len(platforms) < 2:
            return Fragment(f"<p>The fleet has one platform ({esc(', '.join(platforms))}).</p>")
        return Fragment(
            f"<p>{esc(' and '.join(platforms))} users are locked out in the same proportion (within "
            f"{PLATFORM_GAP:.1%} of user-days) under every strategy.</p>"
        )

    def pareto_figures(self) -> list[Picture | Fragment]:
        """One frontier per attack class some strategy protects against; a note names the
        attack classes no strategy stops (their chart would be a row of zeros)."""
        front = pareto(self.table)
        attacks = list(dict.fromkeys(front["attack"]))
        stopped = [a for a in attacks if front.loc[front["attack"] == a, "protected"].max() > 0]
        out: list[Picture | Fragment] = [
            picture(
                lambda fig, a=a: plot_pareto(front, a, fig.subplots()),
                f"Pareto frontier, {readable(a)}",
                (9, 4.3),
            )
            for a in stopped
        ]
        nobody = [readable(a) for a in attacks if a not in stopped]
        if nobody:
            out.append(
                Fragment(
                    f"<p>No strategy in this scenario protects against {esc(', '.join(nobody))}, so "
                    "there is no trade-off to chart.</p>"
                )
            )
        return out

    def coverage_figure(self) -> Picture | None:
        if not any(c.startswith("mean_protected_") for c in self.result.summary):
            return None
        return picture(
            lambda fig: plot_coverage_readable(self.result.summary, fig.subplots()),
            "coverage by attack class",
            (10, 4.3),
        )

    # ------------------------------------------------------------------------- tables
    def _calendar(self) -> pd.DataFrame:
        from simlib.analysis.risk_calendar import calendar

        if getattr(self, "_cal", None) is None:  # ranked() and risk_calendar() both read it
            self._cal = calendar(self.scenario, today=self.scenario.start, result=self.result)
        return self._cal

    def risk_calendar(self) -> Fragment:
        """The dated events from the scenario start: which strategies each one breaks (every
        breaking event shown, the recommended strategy's and the largest first)."""
        from simlib.report.calendar_table import calendar_rows

        cal = self._calendar()
        if cal.empty:
            return Fragment("<p>No dated event falls within the horizon.</p>")
        frame, left_out = calendar_rows(cal, self.recommended.strategy)
        if frame.empty:
            return Fragment("<p>No dated event breaks any strategy within the horizon.</p>")
        note = (
            f"<p class='simlib-note'>{left_out} harmless event(s) (breaking no strategy) not "
            "shown: <code>simlib calendar</code> lists them all.</p>"
            if left_out
            else ""
        )
        return Fragment(table_html(frame, table_id="calendar") + note)

    def assumptions(self) -> Fragment:
        """Every input (given, derived or default) and the cost inputs, each with its source."""
        from simlib.report.inputs import assumption_count, scenario_inputs, stated_notes

        inputs = scenario_inputs(self.scenario)
        cost = self.inputs.assumptions
        cost_rows = pd.DataFrame({
            "section": "costs",
            "input": [p + (f"[{a}]" if a else "") for p, a in zip(cost["parameter"], cost["attack"], strict=True)],
            "value": [f"{v:g}" for v in cost["value"]],
            "origin": ["given" if self.inputs.from_scenario else "default"] * len(cost),
            "source": [f"{s} ({c})" for s, c in zip(cost["source"], cost["confidence"], strict=True)],
        })  # fmt: skip
        frame = pd.concat([inputs, cost_rows], ignore_index=True)
        counts = frame["origin"].value_counts()
        origins = (
            f"{counts.get('unknown', 0)} of a scenario built in Python or changed by overrides "
            "(which are defaults cannot be told; check them all)"
            if counts.get("unknown")
            else f"{counts.get('given', 0)} given in the scenario, {counts.get('derived', 0)} "
            f"derived from shorthands and real-world data, {counts.get('default', 0)} defaults; "
            f"<b>{assumption_count(frame)} assumptions</b> to check (the defaults, and the "
            "unconfirmed or extrapolated real-world values, each saying so in its source)"
        )
        head = (
            f"<p>{len(frame)} inputs: {origins}. Cost inputs "
            + (
                "come from the scenario's economics."
                if self.inputs.from_scenario
                else "are defaults (data/world/cost-defaults.csv): assumptions, not facts — replace them "
                "with your own figures."
            )
            + "</p>"
        )
        notes = "".join(
            f"<p><b>{esc(k)}</b>: {esc(v)}</p>" for k, v in stated_notes(self.scenario).items()
        )
        return Fragment(head + notes + table_html(frame, table_id="assumptions"))

    def robustness(
        self, *, max_simulations: int | None = None, replications: int | None = None
    ) -> Fragment:
        """What would change the answer: per assumption, the value at which the recommended
        strategies change (:func:`~simlib.report.robustness.one_way`), and a Monte Carlo band
        on the ranked table (:func:`~simlib.report.mc_band.mc_band`)."""
        from simlib.report import mc_band as mcb
        from simlib.report import robustness as rb

        cap = rb.MAX_SIMULATIONS if max_simulations is None else max_simulations
        reps = mcb.REPLICATIONS if replications is None else replications
        ow = rb.one_way(self.result, self.inputs, max_simulations=cap)
        band = mcb.mc_band(self.result, self.inputs, replications=reps)
        now = ", ".join(ow.answer) + (" (tied)" if len(ow.answer) > 1 else "")
        parts = [
            f"<p>{len(ow.rows)} assumption(s) varied one at a time, every other input at its "
            f"value, over the range shown; the recommendation now: <b>{esc(now)}</b>. Where it "
            "changes, a grid of two values on each side finds it and bisection narrows it to 1 % "
            "of the current value (shares: 0.005; whole numbers: adjacent values); a change that "
            f"reverts between two grid values is not seen. {ow.simulations} simulation(s) of the "
            f"{ow.max_simulations} allowed"
            + ("; <b>the cap cut the search</b> where a row says so" if ow.capped else "")
            + ".</p>"
        ]
        if not ow.costs_rank:
            parts.append(
                "<p>The cost inputs do not rank (no economics block), so they cannot change "
                "the recommendation.</p>"
            )
        if ow.skipped:
            why = "; ".join(f"{esc(p)} ({esc(r)})" for p, r in ow.skipped.items())
            parts.append(f"<p class='simlib-note'>Not varied: {why}.</p>")
        parts.append(
            table_html(ow.frame(), table_id="sensitivity")
            if ow.rows
            else "<p>No numeric assumption to vary.</p>"
        )
        parts.append(f"<p>{esc(mcb.band_text(band, ow.answer))}</p>")
        parts.append(table_html(mcb.band_frame(band), table_id="mc-band"))
        return Fragment("".join(parts))

    def prerequisites(self) -> Fragment:
        """What must be in place before shipping the recommended strategy, and its config."""
        from simlib.report.prerequisites import prerequisites

        # Tied strategies each get their own list: one of them may already have what the
        # other needs (a backup pin from another CA).
        parts: list[str] = []
        for k, best in enumerate(self.recommended.tied or (self.recommended.strategy,)):
            row = self.table[self.table["strategy"] == best].iloc[0]
            pre = prerequisites(
                self.result, best, incurable_user_days=float(row["incurable_user_days"])
            )
            tied = " (tied)" if len(self.recommended.tied) > 1 else ""
            table_id = "prerequisites" if k == 0 else f"prerequisites-{k + 1}"
            parts += [f"<p>For <b>{esc(best)}</b>{tied}:</p>", table_html(pre, table_id=table_id)]
            parts += self._snippet(best)
        return Fragment("".join(parts))

    def pins_over_ct(self) -> Fragment:
        """What pins add over CT + monitoring, against the lockouts they cost: exposure
        user-days per attack instance with and without pins (:mod:`simlib.report.ct_monitoring`;
        docs/model.md, "CT enforcement and monitoring")."""
        from simlib.report.ct_monitoring import pins_over_ct, pins_over_ct_html

        got = pins_over_ct(self.result)
        return Fragment(pins_over_ct_html(got, self.recommended.strategy, self.scenario.days))

    def _snippet(self, best: str) -> list[str]:
        from simlib.report.prerequisites import config_snippet

        parts: list[str] = []
        snippet = config_snippet(self.result, best)
        if snippet is not None and snippet.command:
            parts.append(
                f"<p>{esc(snippet.note)}</p><pre class='simlib-snippet'>{esc(snippet.command)}</pre>"
            )
        if snippet is not None:
            for fmt_name, text in snippet.files.items():
                parts.append(
                    f"<p><b>{esc(fmt_name)}</b></p><pre class='simlib-snippet'>{esc(text)}</pre>"
                )
            for fmt_name, why in snippet.refused.items():
                parts.append(
                    f"<p><b>{esc(fmt_name)}</b>: not written — {esc(why.rstrip('.'))}.</p>"
                )
        return parts
