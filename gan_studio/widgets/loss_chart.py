"""Live loss curves (QtCharts): one line per loss, x = iteration, thinned so long runs stay fast."""

from __future__ import annotations

from PySide6.QtCharts import QChart, QChartView, QLineSeries, QValueAxis
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPainter

MAX_POINTS = 1500  # per series; older points are thinned to every second one beyond this


class LossChart(QChartView):
    def __init__(self, parent=None):
        self.chart_ = QChart()
        super().__init__(self.chart_, parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.chart_.setMargins(self.chart_.margins() * 0)
        self.x_axis, self.y_axis = QValueAxis(), QValueAxis()
        self.x_axis.setTitleText("iteration")
        self.x_axis.setLabelFormat("%d")
        self.y_axis.setTitleText("loss")
        self.chart_.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        self.chart_.addAxis(self.y_axis, Qt.AlignmentFlag.AlignLeft)
        self.setMinimumHeight(180)
        self.clear()

    def clear(self) -> None:
        self.chart_.removeAllSeries()
        self.series: dict[str, QLineSeries] = {}
        self.points: dict[str, list[QPointF]] = {}
        self.x_axis.setRange(0, 10)
        self.x_axis.applyNiceNumbers()
        self.y_axis.setRange(0, 1)

    def add(self, iteration: int, losses: dict[str, float]) -> None:
        self.add_many([(iteration, losses)])

    def add_many(self, records) -> None:
        """Append (iteration, losses) records, redrawing each series once (a resumed run's history)."""
        changed = set()
        for iteration, losses in records:
            for name, value in losses.items():
                self._append(name, iteration, value)
                changed.add(name)
        for name in changed:
            self.series[name].replace(self.points[name])
        if changed:
            self._fit()

    def _append(self, name: str, iteration: int, value: float) -> None:
        if name not in self.series:
            series = QLineSeries()
            series.setName(name)
            self.chart_.addSeries(series)
            series.attachAxis(self.x_axis)
            series.attachAxis(self.y_axis)
            self.series[name], self.points[name] = series, []
        points = self.points[name]
        points.append(QPointF(iteration, value))
        if len(points) > MAX_POINTS:
            points[:] = points[::2]

    def _fit(self) -> None:
        xs = [p.x() for pts in self.points.values() for p in pts[-1:]]
        ys = [p.y() for pts in self.points.values() for p in pts]
        if not ys:
            return
        self.x_axis.setRange(0, max(10.0, max(xs)))
        self.x_axis.applyNiceNumbers()  # round tick labels for an integer axis
        # Robust top: the largest recent value, so one early spike does not flatten the curves.
        recent = sorted(p.y() for pts in self.points.values() for p in pts[-200:])
        top = recent[int(0.98 * (len(recent) - 1))] if recent else max(ys)
        self.y_axis.setRange(min(0.0, min(ys)), max(top * 1.1, 1e-3))

    def point_count(self, name: str) -> int:
        return len(self.points.get(name, []))
