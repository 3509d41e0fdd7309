"""The interactive explorer: controls that re-simulate a scenario and redraw one figure in place.

:class:`Explorer` (``session``) takes a scenario (parameters in ``__init__``) and offers five
controls (``controls``: ``update_speed``, ``lifetime_days``, ``key_policy``, ``android_share``,
``strategy``), each mapped to dotted-path overrides of that scenario
(:func:`simlib.apply_overrides`). A control at the scenario's own value produces no override.
:meth:`Explorer.update` validates values, simulates once per distinct set of overrides (cached),
moves the artists of one figure (``figure``) and returns the :class:`Headline` numbers.
:meth:`Explorer.widget` wraps it in ipywidgets (``widget``) that show the figure as a PNG; under
papermill call ``update`` directly and display the explorer (``_repr_png_``).
"""

from simlib.report.explorer.controls import CONTROLS
from simlib.report.explorer.figure import canvas_png
from simlib.report.explorer.session import Explorer, Headline

__all__ = ["CONTROLS", "Explorer", "Headline", "canvas_png"]
