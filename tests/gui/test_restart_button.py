"""The Train tab: a model whose checkpoints are gone is refused on Resume, with a button to start it again."""

import shutil

from tiny import TINY_PIX2PIX, paired_report

from training_core.store import ModelLibrary
from training_core.train.trainer import Trainer


def test_resume_without_checkpoints_offers_start_again_which_trains_from_zero(make_window, qtbot, tmp_path):
    report = paired_report(tmp_path / "data")
    Trainer.create(report, "Ink", overrides=dict(TINY_PIX2PIX, iterations=6), device="cpu").run()
    entry = ModelLibrary().get("Ink")
    old_weights = entry.weights_path.read_bytes()
    shutil.rmtree(entry.run_dir / "checkpoints")

    window = make_window()
    panel = window.train_panel
    panel.setup.device.setCurrentText("cpu")
    panel.resume_model(entry.id)
    qtbot.waitUntil(lambda: panel.session is None, timeout=60_000)
    assert not panel.error.isHidden() and "trained 6 iterations" in panel.error.text()
    assert not panel.restart_button.isHidden()
    assert entry.weights_path.read_bytes() == old_weights and ModelLibrary().get("Ink").state == "finished"

    panel.restart_button.click()
    assert panel.restart_button.isHidden()  # one click: the run is going
    qtbot.waitUntil(lambda: panel.session is None, timeout=60_000)
    assert panel.error.isHidden()
    restarted = ModelLibrary().get("Ink")
    assert restarted.state == "finished" and restarted.record.iterations == 6
    assert restarted.weights_path.read_bytes() != old_weights  # trained again, from iteration 0
    assert panel.progress.value() == 6


def test_an_ordinary_failure_offers_no_restart(make_window, qtbot, tmp_path):
    report = paired_report(tmp_path / "data")
    Trainer.create(report, "Gone", overrides=dict(TINY_PIX2PIX, iterations=6), device="cpu").run()
    shutil.rmtree(tmp_path / "data")  # the dataset, not the checkpoints: resuming can work once it is back

    window = make_window()
    panel = window.train_panel
    panel.setup.device.setCurrentText("cpu")
    panel.resume_model(ModelLibrary().get("Gone").id, iterations=8)
    qtbot.waitUntil(lambda: panel.session is None, timeout=60_000)
    assert not panel.error.isHidden() and panel.restart_button.isHidden()
