"""The Train tab's "New model" form: name, family, preset, and every setting from the engine's list.

Choices come from the engine (``training_core.options``, ``presets``, the
data plan): which families a dataset layout allows, what a preset sets and
how long an epoch is are asked of it, never worked out here.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
)

from training_core import options
from training_core.data.demo import DEMO_NAMES
from training_core.errors import GanStudioError
from training_core.families import families_for_layout, family
from training_core.presets import DEFAULT_PRESET, PRESETS
from training_core.store import ModelLibrary
from training_core.train.plan import preset_settings

from ..widgets.settings_form import ComboBox, SettingsForm

DIRECTION_WORDS = {
    "AtoB": "A → B: A is the input, the model learns to make B",
    "BtoA": "B → A: B is the input, the model learns to make A",
}
# Set elsewhere in the app: the direction on the Dataset tab, next to the pictures it flips.
SET_ELSEWHERE = ("direction",)


class RunSetup(QGroupBox):
    """What the next run will be. ``error`` reports settings that the engine refuses."""

    error = Signal(str)

    def __init__(self, settings, library: ModelLibrary, parent=None):
        super().__init__("New model", parent)
        self.settings = settings
        self.library = library  # asked for a free name for each new model
        self.report = None
        self._filling = False
        self.name = QLineEdit()
        self.name.setPlaceholderText("Name of the new model")
        self.family = ComboBox()  # like the settings' fields: a wheel passing over scrolls the form
        self.direction = "AtoB"
        self.direction_label = QLabel()
        self.direction_label.setToolTip("Chosen on the Dataset tab, where the A and B pictures are shown")
        self.preset = ComboBox()
        for name, preset in PRESETS.items():
            self.preset.addItem(name.capitalize(), name)
            self.preset.setItemData(self.preset.count() - 1, preset["about"], Qt.ItemDataRole.ToolTipRole)
        self.preset.setCurrentIndex(max(0, self.preset.findData(settings.value("train/preset", DEFAULT_PRESET))))
        self.preset_about = QLabel()
        self.preset_about.setWordWrap(True)
        self.preset_about.setStyleSheet("QLabel { color: palette(mid); }")
        shown = [s for s in options.SETTINGS if s.name not in SET_ELSEWHERE]
        self.basic = SettingsForm(tuple(s for s in shown if s.basic))
        self.advanced = SettingsForm(tuple(s for s in shown if not s.basic), headings=True)
        self.device = ComboBox()
        self.device.addItems(list(options.DEVICE_CHOICES))
        self.device.setCurrentText(settings.value("train/device", "auto"))
        self.device.setToolTip("auto: a CUDA or Apple GPU when there is one, else the CPU")
        self.basic.form.addRow("Device", self.device)
        self.iterations = self.basic.editor("iterations")

        self.advanced.hide()
        self.advanced_toggle = QToolButton()
        self.advanced_toggle.setText("Advanced settings")
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_toggle.toggled.connect(self._toggle_advanced)
        self.family.currentIndexChanged.connect(self._load_preset)
        self.family.currentIndexChanged.connect(self._show_direction)
        self.preset.currentIndexChanged.connect(self._load_preset)

        form = QFormLayout()
        form.addRow("Model name", self.name)
        form.addRow("Model family", self.family)
        form.addRow("Direction", self.direction_label)
        form.addRow("Preset", self.preset)
        form.addRow("", self.preset_about)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.basic)
        layout.addWidget(self.advanced_toggle)
        layout.addWidget(self.advanced)

    # -- what the form shows ---------------------------------------------------------------------
    def set_report(self, report, demo: str | None = None) -> None:
        self.report = report
        self.name.setText(self.library.new_name(DEMO_NAMES.get(demo) or report.root.name))
        self._filling = True
        self.family.clear()
        for name in families_for_layout(report.layout):  # the usual one first
            self._add_family(name)
        self.family.setCurrentIndex(0)
        self._filling = False
        self._load_preset()

    def _add_family(self, name: str) -> None:
        """One choice of family: its label, and when to pick it as the tooltip."""
        fam = family(name)
        self.family.addItem(fam.label, name)
        self.family.setItemData(self.family.count() - 1, fam.about, Qt.ItemDataRole.ToolTipRole)

    def set_direction(self, direction: str) -> None:
        self.direction = direction
        self._show_direction()

    def _show_direction(self) -> None:
        both = self.family.count() > 0 and family(self.family.currentData()).both_ways
        self.direction_label.setText("both ways: A → B and B → A" if both else DIRECTION_WORDS[self.direction])

    def show_model(self, entry) -> None:
        """A model's own name and settings (while it resumes): what it really trains with."""
        record = entry.record
        self.name.setText(entry.name)
        self.direction = record.direction if record.direction in DIRECTION_WORDS else "AtoB"
        self._filling = True
        self.family.clear()
        self._add_family(record.family)
        index = self.preset.findData(record.preset)
        if index >= 0:
            self.preset.setCurrentIndex(index)
        self._filling = False
        values = {**record.model, **record.data, **(record.train or {})}
        values["iterations"] = record.total_iterations
        for form in (self.basic, self.advanced):
            form.set_family(record.family)
            form.load(values)

    def _load_preset(self) -> None:
        if self._filling or self.report is None or self.family.count() == 0:
            return
        preset = self.preset.currentData()
        family = self.family.currentData()
        self.preset_about.setText(PRESETS[preset]["about"])
        try:
            values = preset_settings(self.report, family, preset)
        except GanStudioError as exc:
            self.error.emit(str(exc))
            return
        for form in (self.basic, self.advanced):
            form.set_family(family)
            form.load(values)

    def _toggle_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    # -- what the next run gets ------------------------------------------------------------------
    def overrides(self) -> dict:
        """The settings the user changed from the preset's, and the run's length."""
        return {**self.basic.changed(), **self.advanced.changed(), "iterations": self.iterations.value()}

    def remember(self) -> None:
        self.settings.setValue("train/preset", self.preset.currentData())
        self.settings.setValue("train/device", self.device.currentText())
