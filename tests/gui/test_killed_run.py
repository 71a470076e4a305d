"""A command-line run killed in a terminal reads "interrupted" in an open app as soon as the CLI says so."""

import os
import signal
import subprocess
import sys
import time

import pytest
from tiny import TINY_CLI, paired_report

from training_core.store import ModelLibrary

pytestmark = [pytest.mark.skipif(os.name != "posix", reason="uses SIGKILL"), pytest.mark.slow]  # a real run: ~15 s
LAUNCH = "import sys; from training_core.cli import train_main; sys.exit(train_main(sys.argv[1:]))"
# No checkpoint or sample after the start: the kill is followed by no write that a folder watcher could see.
QUIET = ["--sample-every", "1000000", "--checkpoint-every", "1000000", "--iterations", "10000000"]
ARGS = [*TINY_CLI, "--device", "cpu", *QUIET]


def _state(panel, name) -> str:
    """The State column of the model called ``name`` ("" while it is not listed)."""
    items = [panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())]
    return next((item.text(2) for item in items if item.text(0) == name), "")


def test_a_killed_command_line_run_shows_as_interrupted_with_resume(make_window, qtbot, tmp_path):
    window = make_window()
    panel = window.models_panel
    report = paired_report(tmp_path / "data")
    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, "--data", str(report.root), "--name", "night", *ARGS],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        qtbot.waitUntil(
            lambda: proc.poll() is not None or _state(panel, "night") == "Training…",
            timeout=120_000,
        )
        assert proc.poll() is None, "training ended early"
        qtbot.waitUntil(lambda: not panel._refresh_soon.isActive())  # what the start wrote is all shown
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert ModelLibrary().get("night").state == "interrupted"  # what gan-studio-models list says
    killed = time.monotonic()
    qtbot.waitUntil(lambda: _state(panel, "night") == "Interrupted", timeout=5_000)
    assert time.monotonic() - killed < 3  # within a couple of seconds, with no refresh by hand
    panel.tree.topLevelItem(0).setSelected(True)
    assert panel.resume_button.isEnabled() and panel.resume_button.text() == "Resume"
    card = window.train_panel.resume_card  # the Train tab offers it too
    qtbot.waitUntil(lambda: bool(card.isVisibleTo(window.train_panel) and card.model_id == "night"), timeout=5_000)
    assert "Interrupted" in card.detail.text() and card.resume_button.isEnabled()
