"""Clips on the Convert tab: listed with the photos, previewed at the scrubber's frame, converted, played."""

import av
import pytest
import torch
from clips import FRAMES, photos_and_clip
from PySide6.QtCore import Qt
from PySide6.QtGui import QDesktopServices
from reference_nets import ResnetGenerator, get_norm_layer, randomize

from training_core.library_import import import_reference
from training_core.store import ModelLibrary


@pytest.fixture
def panel(make_window, qtbot, tmp_path):
    net = randomize(ResnetGenerator(3, 3, 4, get_norm_layer("instance"), n_blocks=1), seed=0)
    torch.save(net.state_dict(), tmp_path / "ink.pth")
    import_reference([tmp_path / "ink.pth"], "ink", ModelLibrary())
    window = make_window()
    panel = window.convert_panel
    window.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: panel.model.count() == 1, timeout=10_000)
    return panel


def _row(panel, name):
    return panel.files.findItems(name, Qt.MatchFlag.MatchExactly)[0]


def _rows(panel):
    items = [panel.files.topLevelItem(i) for i in range(panel.files.topLevelItemCount())]
    return {item.text(0): (item.text(1), item.text(2)) for item in items}


def _list(panel, qtbot, folder, out, count):
    panel.set_input_folder(folder)
    panel.output_edit.setText(str(out))
    qtbot.waitUntil(lambda: panel.files.topLevelItemCount() == count, timeout=10_000)


def _convert(panel, qtbot):
    panel.start_button.click()
    qtbot.waitUntil(lambda: panel.session is None, timeout=120_000)


def test_photos_and_a_clip_convert_with_the_clips_frames_shown_in_its_row(panel, qtbot, tmp_path):
    src, out = photos_and_clip(tmp_path / "in"), tmp_path / "out"
    _list(panel, qtbot, src, out, 3)
    assert set(_rows(panel)) == {"a.png", "b.jpg", "walk.mp4"}
    clip_row, seen = _row(panel, "walk.mp4"), []
    panel.files.itemChanged.connect(lambda item, column: item is clip_row and seen.append(item.text(2)))
    _convert(panel, qtbot)

    assert _rows(panel) == {"a.png": ("Converted", ""), "b.jpg": ("Converted", ""), "walk.mp4": ("Converted", "")}
    assert any(f"of {FRAMES} frames" in text for text in seen), seen
    assert "Done: 3 converted" in panel.state.text()
    with av.open(str(out / "walk.mp4")) as clip:
        assert sum(1 for _ in clip.decode(video=0)) == FRAMES


def test_the_scrubber_chooses_the_previewed_frame(panel, qtbot, tmp_path):
    src = photos_and_clip(tmp_path / "in")
    _list(panel, qtbot, src, tmp_path / "out", 3)
    panel.files.setCurrentItem(_row(panel, "a.png"))
    assert panel.scrubber.isHidden()  # photos have no frames to choose
    panel.files.setCurrentItem(_row(panel, "walk.mp4"))
    assert not panel.scrubber.isHidden()
    qtbot.waitUntil(lambda: panel.compare.before is not None and "reduced size" in panel.preview_state.text())
    qtbot.waitUntil(lambda: panel.scrubber.slider.maximum() >= 900, timeout=10_000)  # the clip's 1 s
    first, first_id = panel.compare.before.copy(), panel._preview_id
    assert "0:01.00" in panel.scrubber.time.text()

    panel.scrubber.slider.setValue(500)  # half way: the picture has moved 12 pixels
    assert panel._preview_id > first_id
    qtbot.waitUntil(lambda: panel.compare.before != first, timeout=30_000)
    assert panel.compare.before.size() == first.size() and panel.compare.after is not None
    assert panel.scrubber.time.text().startswith("0:00.50")


def test_play_opens_the_converted_clip_and_says_where_it_is_when_no_player_does(panel, qtbot, tmp_path, monkeypatch):
    src, out = photos_and_clip(tmp_path / "in"), tmp_path / "out"
    opened, answer = [], {"ok": True}

    def open_url(url):
        opened.append(url.toLocalFile())
        return answer["ok"]

    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(open_url))
    _list(panel, qtbot, src, out, 3)
    panel.files.setCurrentItem(_row(panel, "walk.mp4"))
    assert not panel.play_button.isEnabled()  # nothing converted yet
    _convert(panel, qtbot)
    panel.files.setCurrentItem(_row(panel, "a.png"))
    assert not panel.play_button.isEnabled()  # a photo: nothing to play
    panel.files.setCurrentItem(_row(panel, "walk.mp4"))
    assert panel.play_button.isEnabled()
    panel.play_button.click()
    assert opened == [str(out / "walk.mp4")]

    where = panel.files.visualItemRect(_row(panel, "walk.mp4")).center()
    qtbot.mouseClick(panel.files.viewport(), Qt.MouseButton.LeftButton, pos=where)  # a double-click's first press
    qtbot.mouseDClick(panel.files.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert opened == [str(out / "walk.mp4")] * 2

    _convert(panel, qtbot)  # again: skipped, and still playable
    assert _rows(panel)["walk.mp4"][0] == "Skipped"
    panel.files.setCurrentItem(_row(panel, "a.png"))
    panel.files.setCurrentItem(_row(panel, "walk.mp4"))
    assert panel.play_button.isEnabled()

    answer["ok"] = False  # no player for MP4 on this system
    panel.play_button.click()
    assert "No player opened the clip" in panel.state.text() and str(out / "walk.mp4") in panel.state.text()


def test_a_broken_clip_is_listed_as_failed_with_its_reason(panel, qtbot, tmp_path):
    src, out = photos_and_clip(tmp_path / "in", clip=False), tmp_path / "out"
    (src / "holiday.mp4").write_text("not a video at all")
    _list(panel, qtbot, src, out, 3)
    panel.files.setCurrentItem(_row(panel, "holiday.mp4"))
    qtbot.waitUntil(lambda: "Cannot preview this file" in panel.preview_state.text(), timeout=10_000)
    assert "not a video" in panel.preview_state.text()
    _convert(panel, qtbot)
    rows = _rows(panel)
    assert rows["holiday.mp4"][0] == "Failed" and rows["holiday.mp4"][1].startswith("not a video")
    assert rows["a.png"][0] == rows["b.jpg"][0] == "Converted"
    assert "2 converted, 1 failed" in panel.state.text()
    assert not panel.play_button.isEnabled()


def test_the_clip_settings_convert_the_clips_ignore_a_passing_wheel_and_persist(panel, qtbot, tmp_path, make_window):
    import json

    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    from training_core.config import ConvertConfig
    from training_core.convert.ledger import LEDGER_NAME

    codec, quality = panel.editors["video_codec"], panel.editors["video_quality"]
    assert (codec.currentData(), quality.value(), panel.editors["hold_stats"].isChecked()) == ("h264", 18, True)
    # A wheel turned over the quality on the way down the form leaves it as it was.
    wheel = QWheelEvent(
        QPointF(5, 5), QPointF(quality.mapToGlobal(QPoint(5, 5))), QPoint(), QPoint(0, -120),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    QApplication.sendEvent(quality, wheel)
    assert quality.value() == 18

    src, out = photos_and_clip(tmp_path / "in", clip=False), tmp_path / "out"
    from clips import make_clip

    make_clip(src / "walk.mov", container="mov")
    codec.setCurrentIndex(codec.findData("hevc"))
    quality.setValue(30)
    container = panel.editors["video_container"]
    container.setCurrentIndex(container.findData("same"))
    panel.editors["hold_stats"].setChecked(False)
    _list(panel, qtbot, src, out, 3)
    _convert(panel, qtbot)

    assert _rows(panel)["walk.mov"][0] == "Converted"
    with av.open(str(out / "walk.mov")) as clip:  # its own container, which holds HEVC
        assert clip.streams.video[0].codec_context.name == "hevc"
        assert sum(1 for _ in clip.decode(video=0)) == FRAMES
    record = [json.loads(line) for line in (out / LEDGER_NAME).read_text().splitlines() if "walk.mov" in line][-1]
    assert record["settings"]["video_quality"] == "30" and record["settings"]["video_hold_stats"] == "False"
    again = make_window().convert_panel  # the next session converts with the same clip settings
    wanted = ConvertConfig(video_codec="hevc", video_quality=30, video_container="same", hold_stats=False)
    assert again._config() == wanted
