"""The Train tab with more than one model: it always says which model and which dataset it shows."""

from conftest import set_tiny
from test_training_panel import _night_run, _open
from tiny import paired_report

from training_core.store import ModelLibrary


def _state(panel, name) -> str:
    items = [panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())]
    return next((item.text(2) for item in items if item.text(0) == name), "")


def test_a_new_model_starts_beside_a_paused_one(make_window, qtbot, tmp_path):
    window = make_window()
    panel = window.train_panel
    _open(window, qtbot, paired_report(tmp_path / "shapes").root)
    set_tiny(panel, iterations=100_000)
    panel.setup.name.setText("First")
    panel.start_button.click()
    qtbot.waitUntil(lambda: panel.progress.value() >= 3, timeout=60_000)
    qtbot.waitUntil(lambda: "ETA" in panel.rate.text(), timeout=30_000)
    panel.pause_button.click()
    qtbot.waitUntil(lambda: panel.paused, timeout=30_000)
    assert "ETA" not in panel.rate.text() and "Paused" in panel.rate.text()  # no time is running out
    assert "First" in panel.dataset_label.text() and "shapes" in panel.dataset_label.text()

    _open(window, qtbot, paired_report(tmp_path / "people").root)
    # The form is for a new model on the dataset just opened, and says what happens to the paused one.
    assert panel.setup.isEnabled() and panel.start_button.isEnabled()
    assert panel.setup.name.text().startswith("people")
    assert "people" in panel.dataset_label.text() and "First" in panel.dataset_label.text()
    set_tiny(panel, iterations=100_000)
    panel.setup.name.setText("Second")
    panel.start_button.click()
    second_runs = lambda: any(e.name == "Second" and e.state == "running" for e in ModelLibrary().list())  # noqa: E731
    qtbot.waitUntil(second_runs, timeout=60_000)
    first = ModelLibrary().get("First")
    assert first.state == "paused" and not first.in_use  # saved, stopped, and resumable
    assert "Second" in panel.dataset_label.text() and "people" in panel.dataset_label.text()
    assert "shapes" not in panel.dataset_label.text()
    models = window.models_panel
    qtbot.waitUntil(lambda: _state(models, "First") == "Stopped", timeout=10_000)  # not "Paused": nothing waits
    qtbot.waitUntil(lambda: _state(models, "Second") == "Training…", timeout=10_000)


def test_resuming_names_the_model_and_its_own_dataset_not_the_open_one(make_window, qtbot, tmp_path):
    _night_run(tmp_path, "paused")  # trained on tmp_path / "data"
    window = make_window()
    panel = window.train_panel
    _open(window, qtbot, paired_report(tmp_path / "people-outlines").root)
    assert "people-outlines" in panel.dataset_label.text()
    card = panel.resume_card
    qtbot.waitUntil(lambda: bool(card.isVisibleTo(window) and card.model_id), timeout=10_000)
    assert "Stopped at iteration 12 of 15" in card.detail.text()
    card.resume_button.click()
    header = panel.dataset_label.text()
    assert "Night run" in header and "data" in header and "people-outlines" not in header
    qtbot.waitUntil(lambda: panel.session is None, timeout=60_000)
    assert "people-outlines" in panel.dataset_label.text()  # the form is for a new model on it again
