"""The first hour's small things: the wheel, the compare view's S key, plain words, the Help menu."""

import logging
from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QScrollArea
from test_training_panel import _open
from tiny import paired_report

from gan_studio.widgets.compare_view import CompareView
from gan_studio.widgets.settings_form import SettingsForm
from training_core import options

ROOT = Path(__file__).resolve().parents[2]


def _wheel(widget, steps: int = -1) -> bool:
    """Turn the wheel over ``widget``; True when it took the turn (an ignored one goes on to the scroll area)."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(
        centre,
        QPointF(widget.mapToGlobal(widget.rect().center())),
        QPoint(0, 0),
        QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def test_a_wheel_passing_over_a_number_field_scrolls_the_form_and_leaves_the_value(qtbot):
    form = SettingsForm(tuple(options.SETTINGS), headings=True)
    scroll = QScrollArea()
    scroll.setWidget(form)
    scroll.resize(400, 200)
    qtbot.addWidget(scroll)
    scroll.show()
    qtbot.waitExposed(scroll)
    size = form.editor("crop_size")
    size.setValue(128)
    # Passed over, the field leaves the turn to the form behind it (Qt hands an ignored wheel to the parent).
    assert not _wheel(size) and size.value() == 128
    combo = form.editor("netG")
    before = combo.currentIndex()
    assert not _wheel(combo) and combo.currentIndex() == before
    from gan_studio.panels.run_setup import RunSetup
    from gan_studio.settings import open_settings
    from training_core.store import ModelLibrary

    setup = RunSetup(open_settings(), ModelLibrary())
    qtbot.addWidget(setup)
    setup.device.setCurrentIndex(0)
    assert not _wheel(setup.device) and setup.device.currentIndex() == 0  # the form's own choices too
    assert size.focusPolicy() == Qt.FocusPolicy.StrongFocus  # the wheel alone gives it no focus
    size.setFocus()
    qtbot.waitUntil(size.hasFocus)
    _wheel(size, steps=1)
    assert size.value() != 128  # clicked into, it takes the wheel as ever


def test_the_s_key_tells_who_shows_the_mode(qtbot):
    from PySide6.QtGui import QImage

    view = CompareView()
    qtbot.addWidget(view)
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    view.set_images(image, image)
    seen = []
    view.side_by_side_changed.connect(seen.append)
    qtbot.keyClick(view, Qt.Key.Key_S)
    qtbot.keyClick(view, Qt.Key.Key_S)
    assert seen == [True, False]
    view.set_side_by_side(False)  # set from outside to what it is: nothing to tell
    assert seen == [True, False]


def test_the_log_and_the_chart_speak_plainly(make_window, qtbot, tmp_path, caplog):
    from conftest import set_tiny

    caplog.set_level(logging.INFO)  # what the app logs (its main() sets INFO), as its log pane shows it
    window = make_window()
    _open(window, qtbot, paired_report(tmp_path / "data").root)
    panel = window.train_panel
    set_tiny(panel, iterations=4)
    panel.start_button.click()
    qtbot.waitUntil(lambda: panel.session is None, timeout=60_000)
    qtbot.waitUntil(lambda: "learnt in training" in window.log_pane.toPlainText(), timeout=10_000)
    text = window.log_pane.toPlainText()
    for jargon in ("normalisation", "running statistics", "held-out L1", "validation L1"):
        assert jargon not in text
    assert "difference from target" in text.lower()
    assert (panel.chart.y_axis.titleText(), panel.chart.adversarial_axis.titleText()) == ("Difference", "Critic")


def _readme_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Using the app") : text.index("## From the command line")]
    # Pictures and how they are made belong to the repository's page, not to the app's help.
    paragraphs = [p.strip() for p in section.split("\n\n") if p.strip()]
    kept = [p for p in paragraphs if not p.startswith(("![", "|", "The screenshots"))]
    return "\n\n".join(kept)


def test_help_shows_how_to_use_the_app_and_opens_the_models_folder(make_window, qtbot, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    from gan_studio.assets import resource_path

    assert resource_path("using-the-app.md").read_text(encoding="utf-8").strip() == _readme_section()
    window = make_window()
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    actions = {a.text().replace("&", ""): a for a in help_menu.actions()}
    actions["Using GAN Studio"].trigger()
    dialog = window.help_dialog
    qtbot.waitUntil(dialog.isVisible)
    assert "Convert Folder" in dialog.text.toPlainText() and "Resume" in dialog.text.toPlainText()
    dialog.close()
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    actions["Open Models Folder"].trigger()
    assert opened == [str(window.library.root)] and Path(opened[0]).is_dir()
