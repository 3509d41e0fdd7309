"""The explorer in ipywidgets: its controls (``continuous_update=False``), the figure as a PNG
image (works in a plain JupyterLab, no ipympl), the headline numbers and any error on one line."""

from __future__ import annotations

import html
import math
from typing import Any, Protocol

import ipywidgets as w

from simlib.report.explorer.controls import LIFETIME_RANGE, SPEED_RANGE


class Explorer(Protocol):
    """What the widget uses of :class:`~simlib.report.explorer.session.Explorer` (a protocol:
    ``session`` imports this module, so this one never imports ``session``)."""

    scenario: Any
    strategies: list[str]
    hosts: list[str]
    settings_: dict[str, Any]

    def png(self) -> bytes: ...
    def headline(self, **values: Any) -> Any: ...
    def update(self, **values: Any) -> Any: ...


def widget(explorer: Explorer) -> w.VBox:
    """An ipywidgets box driving ``explorer``: each change updates it and shows its new PNG."""
    d = explorer.settings_
    lo, hi = LIFETIME_RANGE
    style = {"description_width": "initial"}
    layout = w.Layout(width="320px")
    controls: dict[str, Any] = {
        "update_speed": w.FloatLogSlider(
            value=d["update_speed"], base=2, min=math.log2(SPEED_RANGE[0]),
            max=math.log2(SPEED_RANGE[1]), step=0.25, description="update speed ×",
            continuous_update=False, style=style, layout=layout, readout_format=".2f",
        ),
        "lifetime_days": w.IntSlider(
            value=d["lifetime_days"], min=min(lo, d["lifetime_days"]), max=max(hi, d["lifetime_days"]),
            step=1, description="certificate lifetime (days)", continuous_update=False,
            style=style, layout=layout,
        ),
        "android_share": w.FloatSlider(
            value=d["android_share"], min=0.0, max=1.0, step=0.05, description="Android share",
            continuous_update=False, style=style, layout=layout, readout_format=".0%",
        ),
        "strategy": w.Dropdown(
            options=explorer.strategies, value=d["strategy"], description="strategy", style=style,
            layout=layout,
        ),
    }  # fmt: skip
    policies = {
        host: w.Dropdown(
            options=[(f"as configured ({_policy_name(spec.key_policy)})", None), ("reuse", "reuse"),
                     ("rotate (new key each renewal)", "rotate")],
            value=(d["key_policy"] or {}).get(host), description=f"key policy: {host}",
            style=style, layout=layout,
        )
        for host, spec in zip(explorer.hosts, explorer.scenario.hosts, strict=True)
    }  # fmt: skip
    image = w.Image(value=explorer.png(), format="png")
    status = w.HTML(value=html.escape(str(explorer.headline())))

    def changed(_change=None) -> None:
        values = {name: c.value for name, c in controls.items()}
        values["key_policy"] = {h: c.value for h, c in policies.items()}
        try:
            headline = explorer.update(**values)
        except Exception as exc:  # shown on one line; the figure keeps the last good state
            status.value = (
                f"<span style='color:#b00'>{html.escape(str(exc).splitlines()[0])}</span>"
            )
            return
        image.value = explorer.png()
        status.value = html.escape(str(headline))

    for c in [*controls.values(), *policies.values()]:
        c.observe(changed, names="value")
    left = w.VBox([controls["strategy"], controls["update_speed"], controls["lifetime_days"]])
    right = w.VBox([controls["android_share"], *policies.values()])
    return w.VBox([w.HBox([left, right]), status, image])


def _policy_name(policy: Any) -> str:
    return policy if isinstance(policy, str) else f"rotate every {policy.rotate_every}"
