"""What the decision report's sections return: HTML fragments and rendered figures, both
displayable in Jupyter and kept by nbconvert (:mod:`simlib.report.document` builds them)."""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.figure import Figure

from simlib.errors import escape_controls
from simlib.report.plots import figure_png
from simlib.report.style import styled

__all__ = ["Fragment", "Picture", "picture"]


@dataclass(frozen=True)
class Fragment:
    """A piece of HTML (Jupyter displays it; nbconvert keeps it)."""

    html: str

    def _repr_html_(self) -> str:
        return self.html


@dataclass(frozen=True)
class Picture:
    """A rendered figure: PNG bytes and a description (Jupyter shows the PNG)."""

    png: bytes
    alt: str

    def _repr_png_(self) -> tuple[bytes, dict[str, str]]:
        return self.png, {"alt": self.alt}  # the report template writes it as alt text


def picture(build, alt: str, size: tuple[float, float]) -> Picture:
    with styled():
        fig = Figure(figsize=size, layout="constrained")
        build(fig)
        return Picture(figure_png(fig), escape_controls(alt))  # alt text names strategies
