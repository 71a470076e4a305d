"""Live loss curves (QtCharts), readable by an artist: plain names, two scales, smoothing.

The losses that say how far the output is from what it should be (L1,
cycle, identity) are tens of times larger than the adversarial ones, so they
get the left axis and the adversarial ones the right: neither flattens the
other. Curves are smoothed (an exponential moving average, as TensorBoard
does) and thinned so long runs stay fast. Hovering a curve says what it
means and what good looks like.

Live steps arrive a few times a second, however many iterations that is; a
resumed run's history comes from the metrics log, one mean per ten
iterations. Both are drawn as one point per ten iterations, smoothed over
iterations rather than points, so a resume continues the curve it showed,
at the same grain and on the same scale.
"""

from __future__ import annotations

from PySide6.QtCharts import QChart, QChartView, QLineSeries, QValueAxis
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QCursor, QPainter
from PySide6.QtWidgets import QToolTip

MAX_POINTS = 1500  # per series; older points are thinned to every second one beyond this
SMOOTHING = 0.8  # weight of the past per bin in the displayed curve
BIN = 10  # iterations per drawn point: the metrics log's line (the trainer's LOG_EVERY)

# loss key -> (plain name, what it means and what good looks like)
LOSS_NAMES = {
    "G_L1": ("Difference from target", "How far the outputs are from the target images (L1). Should fall steadily."),
    "G_feat": (
        "Critic's view of target",
        "How differently the critic's layers see the outputs and the targets (feature matching). Should fall.",
    ),
    "G_SSIM": (
        "Structure difference",
        "How differently the outputs and the targets are shaped in small windows (1 - SSIM). Should fall.",
    ),
    "G_GAN": (
        "Generator vs critic",
        "How well the generator fools the critic. A level or slowly rising line is normal: the two compete.",
    ),
    "D_real": (
        "Critic on real images",
        "The critic's error on real images. Near 0 for long means the critic wins too easily.",
    ),
    "D_fake": ("Critic on generated", "The critic's error on generated images. Should hover, not reach 0."),
    "G_A": ("A→B vs critic", "How well A→B fools its critic. Level is normal."),
    "G_B": ("B→A vs critic", "How well B→A fools its critic. Level is normal."),
    "D_A": ("Critic of B images", "The B critic's error. Should hover, not reach 0."),
    "D_B": ("Critic of A images", "The A critic's error. Should hover, not reach 0."),
    "cycle_A": ("A→B→A round trip", "How much an A image changes when translated there and back. Should fall."),
    "cycle_B": ("B→A→B round trip", "How much a B image changes when translated there and back. Should fall."),
    "idt_A": ("B kept by A→B", "How much A→B changes images that are already B. Should stay low."),
    "idt_B": ("A kept by B→A", "How much B→A changes images that are already A. Should stay low."),
    "NCE": (
        "Content kept (patches)",
        "How hard it is to tell which patch of the input each patch of the output came from (PatchNCE). Should fall.",
    ),
    "NCE_Y": ("B kept (patches)", "The same for images that are already B, through A→B. Should fall."),
}
# Curves of the left axis (what the generator should make small); the critic's and the generator's
# adversarial terms go on the right one. PatchNCE is a difference too: CUT's only one.
DIFFERENCE_KEYS = ("G_L1", "G_feat", "G_SSIM", "cycle_A", "cycle_B", "idt_A", "idt_B", "NCE", "NCE_Y")


def plain_name(key: str) -> str:
    return LOSS_NAMES.get(key, (key, ""))[0]


class LossChart(QChartView):
    def __init__(self, parent=None):
        self.chart_ = QChart()
        super().__init__(self.chart_, parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.chart_.setMargins(self.chart_.margins() * 0)
        self.x_axis, self.y_axis, self.adversarial_axis = QValueAxis(), QValueAxis(), QValueAxis()
        self.x_axis.setTitleText("iteration")
        self.x_axis.setLabelFormat("%d")
        # Short: a long title is cut to "Difference ..." on a chart a few hundred pixels high.
        self.y_axis.setTitleText("Difference")
        self.adversarial_axis.setTitleText("Critic")
        self.chart_.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        self.chart_.addAxis(self.y_axis, Qt.AlignmentFlag.AlignLeft)
        self.chart_.addAxis(self.adversarial_axis, Qt.AlignmentFlag.AlignRight)
        self.setToolTip(
            "Hover a curve for what it means. Left: how far the outputs are from what they should be "
            "(lower is better). Right: the generator against the critic that judges it (level is normal)."
        )
        self.setMinimumHeight(200)
        self.clear()

    def clear(self) -> None:
        self.chart_.removeAllSeries()
        self.series: dict[str, QLineSeries] = {}
        self.points: dict[str, list[QPointF]] = {}  # smoothed, as drawn
        self._bins: dict[str, _Bin] = {}  # each curve's newest bin, still filling
        self.x_axis.setRange(0, 10)
        self.x_axis.applyNiceNumbers()
        self.y_axis.setRange(0, 1)
        self.adversarial_axis.setRange(0, 1)

    def add(self, iteration: int, losses: dict[str, float]) -> None:
        self.add_many([(iteration, losses)])

    def add_many(self, records) -> None:
        """Append (iteration, losses) records, redrawing each series once (a resumed run's history)."""
        changed = set()
        for iteration, losses in records:
            for key, value in losses.items():
                self._append(key, iteration, value)
                changed.add(key)
        for key in changed:
            self.series[key].replace(self.points[key])
        if changed:
            self._fit()

    def axis_of(self, key: str) -> QValueAxis:
        return self.y_axis if key in DIFFERENCE_KEYS else self.adversarial_axis

    def _append(self, key: str, iteration: int, value: float) -> None:
        if key not in self.series:
            series = QLineSeries()
            series.setName(plain_name(key))
            self.chart_.addSeries(series)
            series.attachAxis(self.x_axis)
            series.attachAxis(self.axis_of(key))
            series.hovered.connect(lambda _point, on, key=key: self._explain(key, on))
            self.series[key], self.points[key] = series, []
        number = (iteration + BIN - 1) // BIN  # iterations 1-10 are bin 1, as the log's line at 10
        points, current = self.points[key], self._bins.get(key)
        if current is not None and current.number == number:
            current.add(value)
            points[-1] = QPointF(iteration, current.smoothed())
            return
        if current is None:
            self._bins[key] = current = _Bin(number, before=None, weight=0.0)
        else:  # the past fades by bins elapsed: sparse live points and dense history smooth alike
            self._bins[key] = current = _Bin(number, current.smoothed(), SMOOTHING ** (number - current.number))
        current.add(value)
        points.append(QPointF(iteration, current.smoothed()))
        if len(points) > MAX_POINTS:
            points[:] = points[::-1][::2][::-1]  # keeps the newest point, which is still filling

    def _explain(self, key: str, on: bool) -> None:
        name, meaning = LOSS_NAMES.get(key, (key, ""))
        if on:
            QToolTip.showText(QCursor.pos(), f"<b>{name}</b> ({key})<br>{meaning}", self)
        else:
            QToolTip.hideText()

    def _fit(self) -> None:
        last = [pts[-1].x() for pts in self.points.values() if pts]
        if not last:
            return
        self.x_axis.setRange(0, max(10.0, max(last)))
        self.x_axis.applyNiceNumbers()  # round tick labels for an integer axis
        for axis in (self.y_axis, self.adversarial_axis):
            # Robust top: the largest recent value, so one early spike does not flatten the curves.
            recent = sorted(p.y() for key, pts in self.points.items() if self.axis_of(key) is axis for p in pts[-200:])
            if recent:
                top = recent[int(0.98 * (len(recent) - 1))]
                axis.setRange(min(0.0, recent[0]), max(top * 1.1, 1e-3))
                axis.applyNiceNumbers()

    def point_count(self, key: str) -> int:
        return len(self.points.get(key, []))


class _Bin:
    """The losses of one curve's newest ``BIN`` iterations, and its smoothed value given the curve before."""

    def __init__(self, number: int, before: float | None, weight: float):
        self.number, self.before, self.weight = number, before, weight
        self.total, self.count = 0.0, 0

    def add(self, value: float) -> None:
        self.total += value
        self.count += 1

    def smoothed(self) -> float:
        mean = self.total / self.count
        return mean if self.before is None else self.weight * self.before + (1 - self.weight) * mean
