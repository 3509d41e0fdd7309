"""Labels of scatter points placed so they overlap nothing and stay inside the axes."""

from __future__ import annotations

from matplotlib.artist import Artist
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

#: Where a point's label may go, nearest first: offset from the point (points), alignment.
_SPOTS: tuple[tuple[float, float, str, str], ...] = (
    (4, 4, "left", "bottom"),
    (4, -4, "left", "top"),
    (-4, 4, "right", "bottom"),
    (-4, -4, "right", "top"),
    (0, 7, "center", "bottom"),
    (0, -7, "center", "top"),
    *(
        (4 * sx, (4 + 11 * k) * sy, "left" if sx > 0 else "right", "bottom" if sy > 0 else "top")
        for k in (1, 2, 3)
        for sy in (1, -1)
        for sx in (1, -1)
    ),
)
_RELPOS = {"left": 0.0, "center": 0.5, "right": 1.0}
#: Spots from here on are far from the point: the label gets a leader line.
_NEAR_SPOTS = 6
#: Half the side of the square a label keeps clear around its own marker, and around other
#: points (wider: a label right next to another point would read as that point's), in points.
_OWN_CLEAR, _OTHER_CLEAR = 3.5, 9.0


def _overlap(a: Bbox, b: Bbox) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w * h if w > 0 and h > 0 else 0.0


class LabelPlacer(Artist):
    """Moves each point label to the first of :data:`_SPOTS` where it covers no other label,
    comes near no other point and lies inside the axes (else to the spot that overlaps least;
    running out of the axes counts ten times). Runs at draw time, before the labels (lower zorder), once the
    layout has sized the axes, so offsets measured here hold in the saved figure."""

    zorder = 0

    def __init__(self, labels: list[Annotation]) -> None:
        super().__init__()
        self.labels = labels
        self.set_in_layout(False)

    def draw(self, renderer) -> None:
        ax = self.axes
        frame = ax.get_window_extent(renderer)
        points = [ax.transData.transform(label.xy) for label in self.labels]

        def square(i: int, half: float) -> Bbox:
            (x, y), h = points[i], renderer.points_to_pixels(half)
            return Bbox.from_extents(x - h, y - h, x + h, y + h)

        placed: list[Bbox] = []
        for i, label in enumerate(self.labels):
            avoid = placed + [
                square(j, _OWN_CLEAR if j == i else _OTHER_CLEAR) for j in range(len(points))
            ]
            best: tuple[float, int, Bbox] | None = None
            for k, spot in enumerate(_SPOTS):
                box = self._try(label, spot, renderer)
                outside = box.width * box.height - _overlap(box, frame)
                cost = sum(_overlap(box, a) for a in avoid) + 10 * outside
                if best is None or cost < best[0]:
                    best = (cost, k, box)
                if cost == 0:
                    break
            assert best is not None  # _SPOTS is not empty
            self._try(label, _SPOTS[best[1]], renderer)
            if label.arrow_patch is not None:
                label.arrow_patch.set_visible(best[1] >= _NEAR_SPOTS)
            placed.append(best[2])

    @staticmethod
    def _try(label: Annotation, spot: tuple[float, float, str, str], renderer) -> Bbox:
        dx, dy, ha, va = spot
        label.xyann = (dx, dy)
        label.set_horizontalalignment(ha)
        label.set_verticalalignment(va)
        # the leader line leaves from the corner nearest the point (matplotlib reads "relpos"
        # of arrowprops only when the annotation is made, this attribute at every draw)
        label._arrow_relpos = (_RELPOS[ha], 0.0 if va == "bottom" else 1.0)
        label.update_positions(renderer)
        return Text.get_window_extent(label, renderer)  # the text alone, not its leader line
