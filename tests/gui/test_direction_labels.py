"""Which half of a pair is A, which is B, and which is the input: said wherever pairs are shown."""

from PySide6.QtCore import Qt
from test_training_panel import _open
from tiny import paired_report


def _badge_is_dark(pixmap, x: int) -> bool:
    colour = pixmap.toImage().pixelColor(x, 4)  # the badge's margin, left of its text
    return colour.lightness() < 100  # the label's dark badge over even a white picture


def test_pairs_say_which_half_is_the_input_in_both_directions(make_window, qtbot, tmp_path):
    window = make_window()
    panel = window.dataset_panel
    _open(window, qtbot, paired_report(tmp_path / "data").root)
    grid, first = panel.grid, panel.grid.thumbs.index(0)
    assert "A · input" in grid.thumbs.data(first, Qt.ItemDataRole.ToolTipRole)
    assert "B · target" in grid.thumbs.data(first, Qt.ItemDataRole.ToolTipRole)
    grid.thumbs.data(first, Qt.ItemDataRole.DecorationRole)  # asks for the thumbnail
    qtbot.waitUntil(lambda: grid.thumbs.thumbnail_ready(0), timeout=10_000)
    thumbnail = grid.thumbs.data(first, Qt.ItemDataRole.DecorationRole)
    assert _badge_is_dark(thumbnail, 4) and _badge_is_dark(thumbnail, thumbnail.width() // 2 + 4)
    grid.setCurrentIndex(first)
    qtbot.waitUntil(lambda: panel.preview.has_image(), timeout=10_000)
    assert panel.preview.half_labels == ("A · input", "B · target")
    assert "A is the input" in panel.direction_hint.text()
    assert "A → B: A is the input" in window.train_panel.setup.direction_label.text()  # beside the family

    panel.direction.setCurrentIndex(1)  # B → A
    assert panel.preview.half_labels == ("A · target", "B · input")
    assert "B · input" in grid.thumbs.data(grid.thumbs.index(0), Qt.ItemDataRole.ToolTipRole)
    assert "B is the input" in panel.direction_hint.text()
    assert "B → A: B is the input" in window.train_panel.setup.direction_label.text()


def test_the_sample_strip_is_captioned_with_the_domains(make_window, qtbot, tmp_path):
    from conftest import set_tiny

    window = make_window()
    _open(window, qtbot, paired_report(tmp_path / "data").root)
    window.dataset_panel.direction.setCurrentIndex(1)  # B → A
    panel = window.train_panel
    set_tiny(panel, iterations=4)
    panel.start_button.click()
    qtbot.waitUntil(lambda: panel.session is None, timeout=60_000)
    assert "input (B) | output (made A) | target (A)" in panel.samples_caption.text()
