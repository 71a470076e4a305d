import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import Qt
from reference_nets import ResnetGenerator, get_norm_layer, randomize

from training_core.library_import import import_reference
from training_core.store import ModelLibrary


def _model(tmp_path, name="ink", seed=0):
    net = randomize(ResnetGenerator(3, 3, 4, get_norm_layer("instance"), n_blocks=1), seed=seed)
    torch.save(net.state_dict(), tmp_path / f"{name}.pth")
    return import_reference([tmp_path / f"{name}.pth"], name, ModelLibrary())


def _photos(folder, count=3, size=(48, 32)):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(folder / f"p{i}.png")
    return folder


@pytest.fixture
def panel(make_window, qtbot, tmp_path):
    _model(tmp_path)
    window = make_window()
    panel = window.convert_panel
    window.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: panel.model.count() == 1, timeout=10_000)
    return panel


def _rows(panel):
    return {
        panel.files.topLevelItem(i).text(0): (panel.files.topLevelItem(i).text(1), panel.files.topLevelItem(i).text(2))
        for i in range(panel.files.topLevelItemCount())
    }


def test_convert_a_folder_and_see_every_result(panel, qtbot, tmp_path):
    src = _photos(tmp_path / "photos")
    (src / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    panel.set_input_folder(src)
    panel.output_edit.setText(str(tmp_path / "out"))
    qtbot.waitUntil(lambda: panel.files.topLevelItemCount() == 4, timeout=10_000)
    panel.start_button.click()
    qtbot.waitUntil(lambda: panel.session is None, timeout=60_000)
    rows = _rows(panel)
    assert rows["p0.png"][0] == "Converted" and rows["p2.png"][0] == "Converted"
    assert rows["broken.jpg"][0] == "Failed" and rows["broken.jpg"][1].startswith("truncated")
    assert "Done: 3 converted, 1 failed. Report: gan-studio-report.txt" in panel.state.text()
    assert Image.open(tmp_path / "out" / "p1.png").size == (48, 32)
    assert panel.open_output.isEnabled()
    # Settings persist for the next session.
    assert panel.settings.value("convert/output") == str(tmp_path / "out")


def test_cancel_mid_way(panel, qtbot, tmp_path, monkeypatch):
    src = _photos(tmp_path / "photos", count=30, size=(200, 150))
    panel.set_input_folder(src)
    panel.output_edit.setText(str(tmp_path / "out"))
    qtbot.waitUntil(lambda: panel.files.topLevelItemCount() == 30, timeout=10_000)
    panel.start_button.click()
    qtbot.waitUntil(lambda: panel.progress.value() >= 2, timeout=60_000)
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.session is None, timeout=60_000)
    assert panel.state.text().startswith("Cancelled")
    converted = len(list((tmp_path / "out").glob("*.png")))
    assert 2 <= converted < 30
    assert panel.start_button.isEnabled()


def test_live_preview_shows_the_newest_selection_and_drops_stale_ones(panel, qtbot, tmp_path):
    src = _photos(tmp_path / "photos", count=6, size=(640, 480))
    panel.set_input_folder(src)
    qtbot.waitUntil(lambda: panel.files.topLevelItemCount() == 6, timeout=10_000)
    for i in range(6):  # quick clicks through the list: only the last one matters
        panel.files.setCurrentItem(panel.files.topLevelItem(i))
    last_id = panel._preview_id
    qtbot.waitUntil(lambda: panel.compare.after is not None, timeout=30_000)
    assert last_id in panel.preview.computed
    assert len(panel.preview.computed) < 6  # stale requests never ran
    assert panel.compare.before is not None and panel.compare.labels == ("Before", "ink")
    assert "reduced size" in panel.preview_state.text()


def test_preview_compares_two_models(panel, qtbot, tmp_path):
    _model(tmp_path, "wash", seed=5)
    panel.refresh_models()  # shows wash, just imported
    panel.model.setCurrentIndex(panel.model.findData("ink"))
    panel.compare_with.setCurrentIndex(panel.compare_with.findData("wash"))
    panel.set_input_folder(_photos(tmp_path / "photos", count=1))
    qtbot.waitUntil(lambda: panel.files.topLevelItemCount() == 1, timeout=10_000)
    panel.files.setCurrentItem(panel.files.topLevelItem(0))
    qtbot.waitUntil(lambda: panel.compare.after is not None, timeout=30_000)
    assert set(panel.compare.labels) == {"ink", "wash"}


def test_watch_folder_converts_a_file_added_after_start(panel, qtbot, tmp_path):
    src = _photos(tmp_path / "inbox", count=1)
    panel.set_input_folder(src)
    panel.output_edit.setText(str(tmp_path / "out"))
    panel.watch_button.click()
    assert panel.watch_button.isChecked() and panel.session is not None
    qtbot.waitUntil(lambda: (tmp_path / "out" / "p0.png").exists(), timeout=30_000)
    Image.new("RGB", (40, 40), (200, 30, 30)).save(tmp_path / "staging.png")
    (tmp_path / "staging.png").rename(src / "later.png")
    qtbot.waitUntil(lambda: (tmp_path / "out" / "later.png").exists(), timeout=30_000)
    qtbot.waitUntil(lambda: _rows(panel).get("later.png", ("",))[0] == "Converted", timeout=10_000)
    assert "Watching" in panel.state.text()
    panel.watch_button.click()  # stop watching
    qtbot.waitUntil(lambda: panel.session is None, timeout=30_000)
    assert not panel.watch_button.isChecked()


def test_refuses_the_input_folder_as_output(panel, qtbot, tmp_path):
    src = _photos(tmp_path / "photos", count=1)
    panel.set_input_folder(src)
    panel.output_edit.setText(str(src))
    panel.start_button.click()
    qtbot.waitUntil(lambda: panel.session is None, timeout=30_000)
    assert "output folder is the input folder" in panel.state.text()
    assert sorted(p.name for p in src.iterdir()) == ["p0.png"]


def test_hostile_names_and_files_show_escaped_and_preview(panel, qtbot, tmp_path):
    import os

    src = _photos(tmp_path / "photos", count=1)
    os.rename(src / "p0.png", src / os.fsdecode(b"caf\xe9.png"))  # a name that is not UTF-8
    (src / "evil.jpg").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 9 9\n{ } loop\n")
    os.mkfifo(src / "pipe.png")
    panel.set_input_folder(src)
    panel.output_edit.setText(str(tmp_path / "out"))
    qtbot.waitUntil(lambda: panel.files.topLevelItemCount() == 3, timeout=10_000)
    assert set(_rows(panel)) == {"caf\\xe9.png", "evil.jpg", "pipe.png"}
    cafe = panel.files.findItems("caf\\xe9.png", Qt.MatchFlag.MatchExactly)[0]
    panel.files.setCurrentItem(cafe)  # the preview opens the file by its real bytes
    qtbot.waitUntil(lambda: "Preview at reduced size" in panel.preview_state.text(), timeout=30_000)
    panel.start_button.click()
    qtbot.waitUntil(lambda: panel.session is None, timeout=60_000)
    rows = _rows(panel)
    assert rows["caf\\xe9.png"][0] == "Converted"
    assert rows["evil.jpg"][1].startswith("unsupported format: EPS")
    assert rows["pipe.png"][1].startswith("not a file: a named pipe")


def test_a_relaunch_lists_the_last_folders_files_again(make_window, qtbot, tmp_path):
    _model(tmp_path)
    src = _photos(tmp_path / "photos")
    first = make_window()
    first.convert_panel.set_input_folder(src)
    qtbot.waitUntil(lambda: first.convert_panel.files.topLevelItemCount() == 3, timeout=10_000)
    first.close()  # saves the settings

    panel = make_window().convert_panel
    qtbot.waitUntil(lambda: panel.files.topLevelItemCount() == 3, timeout=10_000)
    assert panel.input_edit.text() == str(src)


def test_the_no_model_note_goes_once_a_model_exists(make_window, qtbot, tmp_path):
    window = make_window()
    panel = window.convert_panel
    assert panel.state.text().startswith("No trained model yet")
    _model(tmp_path)
    panel.refresh_models()
    assert panel.model.count() == 1 and panel.state.text() == ""


def _answer_next_dialog(qtbot, button_text):
    """Click the button whose text starts with ``button_text`` in the next modal dialog."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    seen = {}

    def click():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        seen["text"] = box.text()
        next(b for b in box.buttons() if b.text().startswith(button_text)).click()

    QTimer.singleShot(20, click)
    return seen


def test_converting_with_another_model_keeps_the_first_models_results_in_their_place(panel, qtbot, tmp_path):
    _model(tmp_path, "wash", seed=1)
    panel.refresh_models()
    src, out = _photos(tmp_path / "photos", count=2), tmp_path / "out"
    panel.set_input_folder(src)
    panel.output_edit.setText(str(out))
    panel.model.setCurrentIndex(panel.model.findData("ink"))
    panel.start_button.click()
    qtbot.waitUntil(lambda: panel.session is None, timeout=60_000)
    first = (out / "p0.png").read_bytes()
    panel.model.setCurrentIndex(panel.model.findData("wash"))
    seen = _answer_next_dialog(qtbot, "Convert into")  # the default: keep ink's, write into out/wash
    panel.start_button.click()
    qtbot.waitUntil(lambda: panel.session is None, timeout=60_000)
    assert "ink (2)" in seen["text"]
    assert (out / "p0.png").read_bytes() == first
    assert (out / "wash" / "p0.png").is_file()
    assert "Done: 2 converted" in panel.state.text() and "wash" in panel.state.text()
    seen = _answer_next_dialog(qtbot, "Replace")
    panel.start_button.click()
    qtbot.waitUntil(lambda: panel.session is None, timeout=60_000)
    assert "(2 redone)" in panel.state.text() and (out / "p0.png").read_bytes() != first


def test_the_model_list_says_each_models_state_and_shows_a_new_one_first(panel, qtbot, tmp_path):
    assert panel.model.currentText() == "ink · pix2pix · finished"  # imported generators: no iterations known
    _model(tmp_path, "wash", seed=1)
    panel.refresh_models()
    assert panel.model.currentData() == "wash"  # just imported (or trained): the one to try
    panel.model.setCurrentIndex(panel.model.findData("ink"))
    panel.model.activated.emit(panel.model.currentIndex())  # the user's own choice then holds
    _model(tmp_path, "third", seed=2)
    panel.refresh_models()
    assert panel.model.currentData() == "ink"


def test_the_s_key_ticks_the_side_by_side_box(panel, qtbot):
    from PySide6.QtCore import Qt

    assert not panel.side_by_side.isChecked()
    qtbot.keyClick(panel.compare, Qt.Key.Key_S)
    assert panel.side_by_side.isChecked() and panel.compare.side_by_side
    qtbot.keyClick(panel.compare, Qt.Key.Key_S)
    assert not panel.side_by_side.isChecked()


def test_the_settings_are_the_lists_with_its_defaults_and_persist(panel, make_window):
    """The Convert tab converts with ConvertConfig() until changed, as gan-studio-convert does."""
    from training_core.config import ConvertConfig
    from training_core.convert.settings import CONVERT_SETTINGS

    assert set(panel.editors) == {s.name for s in CONVERT_SETTINGS if s.in_app}
    assert {"norm", "precision"} <= set(panel.editors)  # the two the app had not shown
    assert panel._config() == ConvertConfig()
    panel.editors["precision"].setCurrentIndex(panel.editors["precision"].findData("fp32"))
    panel.editors["quality"].setValue(80)
    panel._save()
    panel.settings.setValue("convert/tile", "not a number")  # damaged saved values: the defaults
    panel.settings.setValue("convert/scale", "huge")
    again = make_window().convert_panel
    assert again._config() == ConvertConfig(precision="fp32", quality=80)


def test_a_folder_named_like_a_photo_is_listed_with_its_reason(panel, qtbot, tmp_path):
    src = _photos(tmp_path / "photos", count=1)
    (src / "holiday.jpg").mkdir()
    panel.set_input_folder(src)
    qtbot.waitUntil(lambda: panel.files.topLevelItemCount() == 2, timeout=10_000)
    rows = _rows(panel)
    assert rows["p0.png"][0] == "Waiting"
    assert rows["holiday.jpg"][0] == "Failed" and "folder" in rows["holiday.jpg"][1]
