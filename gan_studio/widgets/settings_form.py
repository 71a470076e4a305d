"""A form of engine settings generated from ``training_core.options.SETTINGS``: one editor per setting.

Each editor's kind, range, step, choices and tooltip come from the setting,
so a setting added to the engine's list appears here with no code of its own.
Rows of settings that the chosen family does not have are hidden.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QSpinBox, QWidget

from training_core.families import NAMES
from training_core.options import Setting

SECTION_TITLES = {"model": "Networks, losses and optimizers", "data": "Training images", "train": "The run"}


class _TakesWheelWhenFocused:
    """A wheel turned while passing over the field scrolls the form; only a field clicked into takes it
    (the form scrolls in a small window: Training size once went from 128 to 80 on the way down)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # not WheelFocus: the wheel alone gives no focus

    def wheelEvent(self, event):
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()  # the scroll area behind it gets it


class SpinBox(_TakesWheelWhenFocused, QSpinBox):
    pass


class DoubleSpinBox(_TakesWheelWhenFocused, QDoubleSpinBox):
    pass


class ComboBox(_TakesWheelWhenFocused, QComboBox):
    pass


def _decimals(step: float) -> int:
    return max(2, 2 - math.floor(math.log10(step))) if step < 1 else 2


def make_editor(setting: Setting) -> QWidget:
    if setting.type is bool:
        editor = QCheckBox()
    elif setting.choices:
        editor = ComboBox()
        for i, value in enumerate(setting.choices):
            editor.addItem(setting.labels[i] if setting.labels else str(value), value)
    elif setting.type is str:
        editor = ComboBox()
        editor.setEditable(True)
        editor.addItems(list(setting.suggestions))
    elif setting.type is int:
        editor = SpinBox()
        editor.setRange(int(setting.low) + setting.low_open, int(setting.high) - setting.high_open)
        editor.setSingleStep(int(setting.step))
        editor.setGroupSeparatorShown(True)
    else:
        editor = DoubleSpinBox()
        decimals = _decimals(setting.step)
        smallest = 10.0**-decimals  # an open bound is kept out by one displayed digit
        editor.setDecimals(decimals)
        editor.setRange(setting.low + smallest * setting.low_open, setting.high - smallest * setting.high_open)
        editor.setSingleStep(setting.step)
    tip = setting.help + (f" ({setting.range_text()})" if setting.type in (int, float) else "")
    editor.setToolTip(f"<b>{setting.name}</b>: {tip}")
    editor.setObjectName(setting.name)
    return editor


def set_value(editor: QWidget, value) -> None:
    if isinstance(editor, QCheckBox):
        editor.setChecked(bool(value))
    elif isinstance(editor, QComboBox) and editor.isEditable():
        editor.setCurrentText(str(value))
    elif isinstance(editor, QComboBox):
        editor.setCurrentIndex(max(0, editor.findData(value)))
    else:
        editor.setValue(value)


def get_value(editor: QWidget):
    if isinstance(editor, QCheckBox):
        return editor.isChecked()
    if isinstance(editor, QComboBox):
        return editor.currentText().strip() if editor.isEditable() else editor.currentData()
    return editor.value()


class SectionTitle(QLabel):
    """The bold heading above one section's settings."""

    def __init__(self, section: str):
        super().__init__(f"<b>{SECTION_TITLES[section]}</b>")
        self.section = section


class SettingsForm(QWidget):
    """Editors for ``settings``, in their order, under a heading per section when ``headings``
    (then each section's settings together, sections in the order they first appear)."""

    def __init__(self, settings: tuple[Setting, ...], headings: bool = False, parent=None):
        super().__init__(parent)
        self.settings = {s.name: s for s in settings}
        self.editors: dict[str, QWidget] = {}
        self.form = QFormLayout(self)
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # long labels above, not cut off
        self._family = NAMES[0]  # until set_family: the first family's settings
        self._loaded: dict = {}
        if headings:
            order = list(dict.fromkeys(s.section for s in settings))
            settings = tuple(sorted(settings, key=lambda s: order.index(s.section)))
        section = None
        for setting in settings:
            if headings and setting.section != section:
                section = setting.section
                self.form.addRow(SectionTitle(section))
            editor = self.editors[setting.name] = make_editor(setting)
            label = QLabel(setting.label)
            label.setToolTip(editor.toolTip())
            self.form.addRow(label, editor)

    def editor(self, name: str) -> QWidget:
        return self.editors[name]

    def set_family(self, family: str) -> None:
        """Show the rows of the settings that ``family`` has."""
        self._family = family
        for name, editor in self.editors.items():
            self.form.setRowVisible(editor, self.settings[name].applies_to(family))

    def load(self, values: dict) -> None:
        """Show ``values`` (by setting name); they become what :meth:`changed` compares against."""
        self._loaded = {k: v for k, v in values.items() if k in self.editors}
        for name, value in self._loaded.items():
            set_value(self.editors[name], value)

    def values(self) -> dict:
        """Every shown setting's value, by name."""
        return {
            name: get_value(editor)
            for name, editor in self.editors.items()
            if self.settings[name].applies_to(self._family)
        }

    def changed(self) -> dict:
        """The shown settings whose value the user changed since :meth:`load`."""
        return {name: value for name, value in self.values().items() if not _same(self._loaded.get(name), value)}


def _same(loaded, value) -> bool:
    if isinstance(value, float) and isinstance(loaded, (int, float)):
        return math.isclose(loaded, value, rel_tol=1e-6)  # a spin box keeps the digits it shows
    return loaded == value
