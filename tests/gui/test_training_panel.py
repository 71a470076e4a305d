import json

import pytest
from conftest import set_tiny
from tiny import paired_report

from training_core.store import ModelLibrary
from training_core.train.checkpoint import list_checkpoints
from training_core.train.control import TrainingControl
from training_core.train.events import StepMetrics
from training_core.train.trainer import Trainer


def _open(window, qtbot, folder):
    with qtbot.waitSignal(window.dataset_panel.opened, timeout=30_000):
        window.dataset_panel.open_folder(folder)


def _training(make_window, qtbot, tmp_path, name: str, past: int = 3):
    """A window whose Train tab runs a long tiny training, already past iteration ``past``."""
    window = make_window()
    _open(window, qtbot, paired_report(tmp_path / "data").root)
    panel = window.train_panel
    set_tiny(panel, iterations=100_000)
    panel.setup.name.setText(name)
    panel.start_button.click()
    qtbot.waitUntil(lambda: panel.progress.value() >= past, timeout=60_000)
    return window, panel


def test_training_shows_losses_samples_and_validation(make_window, qtbot, tmp_path):
    window = make_window()
    _open(window, qtbot, paired_report(tmp_path / "data").root)
    panel = window.train_panel
    set_tiny(panel, iterations=6)
    panel.setup.name.setText("Tiny run")
    panel.start_button.click()
    assert not panel.start_button.isEnabled() and panel.stop_button.isEnabled()
    qtbot.waitUntil(lambda: panel.session is None, timeout=60_000)
    assert panel.progress.value() == 6 and panel.progress.maximum() == 6
    assert panel.chart.point_count("G_L1") >= 1
    assert panel.samples.after is not None
    assert "On 2 held-out pairs: difference" in panel.validation.text()
    assert panel.error.isHidden()
    assert panel.start_button.isEnabled()
    entry = ModelLibrary().get("Tiny run")
    assert entry.state == "finished" and entry.record.iterations == 6
    assert entry.record.model["netG"] == "unet_32"  # what the Advanced widgets said
    window.models_panel.refresh()
    assert window.models_panel.tree.topLevelItem(0).text(2) == "Finished"


def test_pause_checkpoints_and_idles_then_resume_and_stop(make_window, qtbot, tmp_path):
    window, panel = _training(make_window, qtbot, tmp_path, "Pausable")
    panel.pause_button.click()
    qtbot.waitUntil(lambda: panel.paused, timeout=30_000)
    assert panel.pause_button.text() == "Resume" and panel.pause_button.isEnabled()
    entry = ModelLibrary().get("Pausable")
    (checkpoint,) = list_checkpoints(entry.run_dir)
    assert entry.state == "paused"
    at_pause = panel.progress.value()
    qtbot.wait(500)
    assert panel.progress.value() == at_pause  # the worker idles
    assert int(checkpoint.stem.split("_")[1]) == panel.session.worker.trainer.iteration

    panel.pause_button.click()  # resume
    qtbot.waitUntil(lambda: panel.progress.value() > at_pause + 2, timeout=60_000)
    assert panel.pause_button.text() == "Pause"
    panel.stop_button.click()
    qtbot.waitUntil(lambda: panel.session is None, timeout=60_000)
    entry = ModelLibrary().get("Pausable")
    assert entry.state == "paused" and entry.record.iterations > at_pause


def test_gpu_style_failure_is_shown_in_words(make_window, qtbot, tmp_path, monkeypatch):
    import torch

    window = make_window()
    _open(window, qtbot, paired_report(tmp_path / "data").root)
    panel = window.train_panel
    set_tiny(panel, iterations=10)

    def out_of_memory(self):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr("training_core.models.pix2pix.Pix2PixModel.step", out_of_memory)
    panel.start_button.click()
    qtbot.waitUntil(lambda: panel.session is None, timeout=60_000)
    assert not panel.error.isHidden()
    assert "ran out of memory" in panel.error.text() and "smaller preset" in panel.error.text()
    assert ModelLibrary().list()[0].state == "failed"  # and resumable


def _night_run(tmp_path, state: str, **settings):
    """A model stopped at iteration 12 of 15, left paused or (as after a crash) interrupted."""
    report = paired_report(tmp_path / "data")
    library = ModelLibrary()
    control = TrainingControl()

    def stop_at_12(event):
        if isinstance(event, StepMetrics) and event.iteration == 12:
            control.stop()

    overrides = dict(netG="unet_32", ngf=8, ndf=8, crop_size=32, iterations=15, sample_every=4, **settings)
    Trainer.create(
        report, "Night run", overrides=overrides, library=library, control=control, on_event=stop_at_12
    ).run()
    if state == "interrupted":  # as if the app had crashed: the state says running, nobody holds the lock
        library.update(library.get("Night run"), state="running")
    return library


WORDS = {"interrupted": "Interrupted", "paused": "Stopped"}  # "paused" on disk: it ended with a checkpoint


@pytest.mark.parametrize("state", ["interrupted", "paused"])
def test_a_restarted_window_shows_the_unfinished_run_on_the_train_tab_and_resumes_it(
    make_window, qtbot, tmp_path, state
):
    _night_run(tmp_path, state, gan_mode="lsgan", n_layers_D=2, netD="n_layers")
    window = make_window()
    panel = window.train_panel
    card = panel.resume_card
    qtbot.waitUntil(lambda: card.isVisibleTo(window), timeout=10_000)
    assert window.tabs.currentWidget() is panel  # the first thing a returning user sees
    assert "Night run" in card.title.text()
    assert f"{WORDS[state]} at iteration 12 of 15" in card.detail.text() and "stopped just now" in card.detail.text()
    assert card.thumbnail.pixmap() is not None and not card.thumbnail.pixmap().isNull()  # its latest sample
    assert window.models_panel.selected_id() == card.model_id  # and the Models tab has it selected

    card.resume_button.click()
    # While it runs, the greyed form shows this model: its name and its own settings, not the last preset's.
    assert panel.setup.name.text() == "Night run" and not panel.setup.isEnabled()
    advanced = panel.setup.advanced
    assert advanced.editor("gan_mode").currentData() == "lsgan" and advanced.editor("n_layers_D").value() == 2
    assert panel.setup.iterations.value() == 15
    assert card.isHidden()
    assert panel.chart.point_count("G_L1") == 1  # the history before the stop (iteration 10): the curve continues
    qtbot.waitUntil(lambda: panel.session is None, timeout=60_000)
    entry = ModelLibrary().get("Night run")
    assert entry.state == "finished" and entry.record.iterations == 15
    assert panel.progress.value() == 15
    xs = [p.x() for p in panel.chart.points["G_L1"]]
    assert xs[0] == 10 and xs == sorted(xs) and xs[-1] == 15
    assert card.isHidden()  # nothing unfinished is left


def test_discarding_an_unfinished_run_asks_then_deletes_it(make_window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    _night_run(tmp_path, "paused")
    window = make_window()
    models, card = window.models_panel, window.train_panel.resume_card
    qtbot.waitUntil(lambda: models.tree.topLevelItemCount() == 1 and card.isVisibleTo(window), timeout=10_000)
    answers = [QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(QMessageBox, "question", lambda *a: answers.pop(0))
    card.discard_button.click()  # cancelled: nothing happens
    assert ModelLibrary().get("Night run").state == "paused" and card.isVisibleTo(window)
    card.discard_button.click()
    assert not ModelLibrary().list() and card.isHidden()
    qtbot.waitUntil(lambda: models.tree.topLevelItemCount() == 0, timeout=10_000)


def test_first_run_offers_the_demo_project(make_window, qtbot):
    window = make_window()
    panel = window.train_panel
    qtbot.waitUntil(lambda: panel.report is not None, timeout=60_000)
    assert window.tabs.currentWidget() is panel
    assert panel.banner.isVisibleTo(window) and "demo project" in panel.banner.text()
    assert panel.start_button.isEnabled()
    assert panel.report.layout == "aligned" and panel.report.count("train") == 48
    assert window.device_label.text().startswith(("CPU", "CUDA", "Apple"))


@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGHUP"), reason="POSIX signals")
@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGHUP"])
def test_a_logout_signal_pauses_training_with_a_checkpoint_and_closes(make_window, qtbot, tmp_path, signal_name):
    import os
    import signal

    from gan_studio.quit_signals import quit_on_signals

    window, panel = _training(make_window, qtbot, tmp_path, "Logout")
    previous = quit_on_signals(window)
    try:
        os.kill(os.getpid(), getattr(signal, signal_name))
        os.kill(os.getpid(), getattr(signal, signal_name))  # the impatient second one changes nothing
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=60_000)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    entry = ModelLibrary().get("Logout")
    assert entry.state == "paused"
    (checkpoint,) = list_checkpoints(entry.run_dir)
    assert int(checkpoint.stem.split("_")[1]) == entry.record.iterations >= 3


def test_quitting_while_paused_says_it_is_paused(make_window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    window, panel = _training(make_window, qtbot, tmp_path, "Quitting", past=2)
    panel.pause_button.click()
    qtbot.waitUntil(lambda: panel.paused, timeout=30_000)
    asked = []
    monkeypatch.setattr(
        QMessageBox, "question", lambda parent, title, text, *a: asked.append(text) or QMessageBox.StandardButton.Cancel
    )
    window.close()
    assert asked and asked[0].startswith("Training is paused. Quit?") and window.isVisible()


def test_a_cyclegan_run_shows_its_held_out_round_trip_scores(make_window, qtbot, tmp_path):
    from tiny import unpaired_report

    window = make_window()
    _open(window, qtbot, unpaired_report(tmp_path / "unpaired", count=12).root)
    panel = window.train_panel
    set_tiny(panel, iterations=4)
    assert panel.setup.family.currentData() == "cyclegan"
    panel.start_button.click()
    qtbot.waitUntil(lambda: panel.session is None, timeout=60_000)
    assert panel.error.isHidden(), panel.error.text()
    assert panel.validation.text().startswith("Round trip (there and back) of 2 held-out images: difference")
    # The numbers shown are the run's last scores, and no perfect score: four iterations of a tiny
    # CycleGAN bring nothing back unchanged (a round trip replaced by the image itself would).
    logged = [json.loads(line) for line in (ModelLibrary().list()[0].run_dir / "metrics.jsonl").open()]
    last = [r["val"] for r in logged if "val" in r][-1]
    assert f"difference {last['l1']:.3f} " in panel.validation.text()
    assert f"PSNR {last['psnr']:.1f} dB" in panel.validation.text()
    assert last["l1"] > 0.05 and last["psnr"] < 40
