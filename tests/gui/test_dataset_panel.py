from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt
from tiny import paired_report


def _photos(folder: Path, count: int = 5) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        Image.fromarray(rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)).save(folder / f"photo{i}.png")
    return folder


def test_opening_a_dataset_shows_report_thumbnails_and_preview(make_window, qtbot, tmp_path):
    window = make_window()
    report = paired_report(tmp_path / "data")
    panel = window.dataset_panel
    with qtbot.waitSignal(panel.opened, timeout=30_000):
        panel.open_folder(report.root)
    assert "paired images" in panel.summary.text() and "train: 12 images" in panel.summary.text()
    assert panel.rejects.isHidden()
    grid = panel.grid
    assert grid.model().rowCount() == 14  # 12 train + 2 val
    qtbot.waitUntil(lambda: grid.thumbs.thumbnail_ready(0), timeout=10_000)
    grid.setCurrentIndex(grid.model().index(3, 0))
    qtbot.waitUntil(panel.preview.has_image, timeout=10_000)
    # The train panel learned about the dataset and may start.
    assert window.train_panel.report is panel.report
    assert window.train_panel.setup.family.currentData() == "pix2pix"
    assert window.train_panel.start_button.isEnabled()


def test_bad_files_are_listed_with_their_reasons(make_window, qtbot, tmp_path):
    window = make_window()
    folder = _photos(tmp_path / "photos")
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "notes.png").write_text("this is text")
    good = (folder / "photo0.png").read_bytes()
    (folder / "cut.png").write_bytes(good[: len(good) // 2])
    panel = window.dataset_panel
    with qtbot.waitSignal(panel.opened, timeout=30_000):
        panel.open_folder(folder)
    assert panel.rejects.isVisibleTo(window)
    rows = {
        panel.rejects.item(r, 0).text(): panel.rejects.item(r, 1).text() for r in range(panel.rejects.rowCount())
    }  # names within the dataset folder
    assert rows == {"empty.jpg": "not an image", "notes.png": "not an image", "cut.png": "truncated"}
    tips = {panel.rejects.item(r, 0).toolTip() for r in range(panel.rejects.rowCount())}
    assert tips == {str(folder / name) for name in rows}  # the whole path on hover; the cell elides its middle
    assert panel.rejects.textElideMode() == Qt.TextElideMode.ElideMiddle
    assert "3 files can't be used" in panel.summary.text()
    assert panel.grid.model().rowCount() == 5  # the good photos are still there


def test_a_folder_without_images_says_so(make_window, qtbot, tmp_path):
    window = make_window()
    (tmp_path / "empty").mkdir()
    panel = window.dataset_panel
    panel.open_folder(tmp_path / "empty")
    qtbot.waitUntil(lambda: "cannot be used" in panel.summary.text(), timeout=10_000)
    assert "No images found" in panel.summary.text()
    assert panel.open_button.isEnabled()


def test_direction_toggle_reaches_the_train_panel(make_window, qtbot, tmp_path):
    window = make_window()
    report = paired_report(tmp_path / "data")
    with qtbot.waitSignal(window.dataset_panel.opened, timeout=30_000):
        window.dataset_panel.open_folder(report.root)
    window.dataset_panel.direction.setCurrentIndex(1)
    assert window.train_panel.direction == "BtoA"


def test_many_images_load_lazily(make_window, qtbot, tmp_path):
    """Only the rows the view shows are loaded: a big folder does not mean thousands of decodes."""
    window = make_window()
    folder = tmp_path / "many"
    folder.mkdir()
    tile = Image.new("RGB", (32, 32), (90, 120, 200))
    for i in range(600):
        tile.save(folder / f"{i}.png")
    panel = window.dataset_panel
    with qtbot.waitSignal(panel.opened, timeout=60_000):
        panel.open_folder(folder)
    qtbot.waitUntil(lambda: panel.grid.thumbs.thumbnail_ready(0), timeout=10_000)
    qtbot.wait(300)
    loaded = len(panel.grid.thumbs._cache)
    assert 0 < loaded < 200
    panel.grid.scrollToBottom()
    qtbot.waitUntil(lambda: panel.grid.thumbs.thumbnail_ready(599), timeout=10_000)
    assert panel.grid.thumbs.data(panel.grid.model().index(599, 0), Qt.ItemDataRole.DisplayRole) == "599"


def test_checking_a_folder_can_be_cancelled(make_window, qtbot, tmp_path):
    window = make_window()
    folder = _photos(tmp_path / "photos", count=300)
    panel = window.dataset_panel
    panel.open_folder(folder)
    assert panel.cancel_button.isVisible()
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.cancel_button.isHidden(), timeout=30_000)
    assert "was cancelled" in panel.summary.text() and panel.report is None
    assert panel.open_button.isEnabled()
    with qtbot.waitSignal(panel.opened, timeout=60_000):  # and the same folder opens afterwards
        panel.open_folder(folder)
