"""The Convert tab's editors: one per entry of the conversion settings' list, with its saved value.

The list (``training_core/convert/settings.py``) gives the label, the help, the
choices and the default, which the command line takes too. Lists and numbers
take a mouse wheel only once clicked into (the form's ComboBox and SpinBox): a
wheel turned on the way past leaves the settings as they were.
"""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QWidget

from training_core.convert.settings import ConvertSetting

from ..widgets.settings_form import ComboBox, SpinBox

KEY = "convert/{}"


def make_editor(setting: ConvertSetting) -> QWidget:
    if isinstance(setting.default, bool):
        editor = QCheckBox(setting.label)
    elif setting.choices:
        editor = ComboBox()
        for label, value in setting.choices:
            editor.addItem(label, value)
    else:
        editor = SpinBox()
        editor.setRange(setting.minimum, setting.maximum)
    editor.setToolTip(setting.help[:1].upper() + setting.help[1:])
    show_value(editor, setting.default)
    return editor


def value_of(editor: QWidget):
    if isinstance(editor, QCheckBox):
        return editor.isChecked()
    if isinstance(editor, QComboBox):
        return editor.currentData()
    return editor.value()


def show_value(editor: QWidget, value) -> None:
    if isinstance(editor, QCheckBox):
        editor.setChecked(bool(value))
    elif isinstance(editor, QComboBox):
        editor.setCurrentIndex(max(0, editor.findData(value)))
    else:
        editor.setValue(int(value))


def saved_value(store, setting: ConvertSetting):
    """The value saved for ``setting`` in QSettings ``store``, typed as its default; the default where
    none is saved or the saved one is not a value the setting takes."""
    raw = store.value(KEY.format(setting.name), setting.default)
    default = setting.default
    try:
        value = str(raw).lower() == "true" if isinstance(default, bool) else type(default)(raw)
    except (TypeError, ValueError):
        return default
    if setting.choices and value not in [v for _label, v in setting.choices]:
        return default
    if isinstance(value, int) and not isinstance(value, bool) and setting.maximum:
        return value if setting.minimum <= value <= setting.maximum else default
    return value


def save_value(store, setting: ConvertSetting, value) -> None:
    store.setValue(KEY.format(setting.name), value)
