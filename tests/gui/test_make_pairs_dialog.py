"""Make Pairs from Artworks: the live preview follows the settings, the dataset is made and opens."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "core"))

import pytest  # noqa: E402
from test_pair_makers import artwork  # noqa: E402

from gan_studio.settings import open_settings  # noqa: E402
from gan_studio.widgets.make_pairs_dialog import MakePairsDialog  # noqa: E402


@pytest.fixture
def artworks(tmp_path):
    folder = tmp_path / "art"
    folder.mkdir()
    for i in range(5):
        artwork(seed=i, size=(160, 120)).save(folder / f"piece {i}.png")
    return folder


@pytest.fixture
def dialog(qtbot):
    dialog = MakePairsDialog(open_settings())
    qtbot.addWidget(dialog)
    dialog.show()
    yield dialog
    dialog.wait_until_done()


def _made_image(dialog, i=0):
    pixmap = dialog.preview_labels[i][1].pixmap()
    return None if pixmap is None or pixmap.isNull() else pixmap.toImage()


def test_the_preview_shows_the_input_side_and_follows_the_sliders(dialog, qtbot, artworks):
    dialog.folder_edit.setText(str(artworks))
    dialog._folder_changed()
    qtbot.waitUntil(lambda: _made_image(dialog) is not None, timeout=20_000)
    assert dialog.output_edit.text().endswith("art pairs (lines)")  # suggested beside the artworks
    shown = [_made_image(dialog, i) for i in range(4)]
    assert all(image is not None for image in shown)
    assert not dialog.sliders["colours"].isVisible() and dialog.sliders["detail"].isVisible()
    before = _made_image(dialog)
    dialog.sliders["detail"].setValue(10)
    qtbot.waitUntil(lambda: _made_image(dialog) != before, timeout=20_000)
    dialog.kind.setCurrentIndex(dialog.kind.findData("flat"))
    assert dialog.sliders["colours"].isVisible() and not dialog.sliders["detail"].isVisible()
    assert dialog.output_edit.text().endswith("art pairs (flat)")


def test_create_makes_the_dataset_and_hands_it_on(dialog, qtbot, artworks, tmp_path):
    made = []
    dialog.dataset_made.connect(made.append)
    dialog.folder_edit.setText(str(artworks))
    dialog._folder_changed()
    dialog.kind.setCurrentIndex(dialog.kind.findData("grey"))
    dialog.output_edit.setText(str(tmp_path / "grey pairs"))
    dialog.create_button.click()
    qtbot.waitUntil(lambda: bool(made), timeout=30_000)
    assert made == [tmp_path / "grey pairs"]
    assert len(list((tmp_path / "grey pairs" / "B").rglob("*.png"))) == 5


def test_an_output_inside_the_artworks_is_refused_with_the_reason(dialog, qtbot, artworks):
    dialog.folder_edit.setText(str(artworks))
    dialog.output_edit.setText(str(artworks / "pairs"))
    dialog.create_button.click()
    qtbot.waitUntil(lambda: "inside it" in dialog.state.text(), timeout=20_000)
    qtbot.waitUntil(lambda: dialog.create_button.isEnabled(), timeout=5_000)
    assert not (artworks / "pairs").exists()


def test_the_dataset_tab_opens_the_made_dataset_ready_to_train(make_window, qtbot, artworks, tmp_path):
    from gan_studio.widgets.make_pairs_dialog import MakePairsDialog

    window = make_window()
    panel = window.dataset_panel
    panel.make_pairs_button.click()
    qtbot.waitUntil(lambda: bool(panel.findChildren(MakePairsDialog)), timeout=5_000)
    dialog = panel.findChildren(MakePairsDialog)[0]
    dialog.folder_edit.setText(str(artworks))
    dialog.output_edit.setText(str(tmp_path / "made"))
    dialog.create_button.click()
    qtbot.waitUntil(lambda: panel.report is not None and panel.report.root == tmp_path / "made", timeout=30_000)
    assert panel.report.layout == "paired" and panel.report.count() == 5
