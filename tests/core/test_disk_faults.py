"""A library on a full or read-only disk, with real tmpfs mounts: one clear message, exit 1, nothing lost.

Skipped where the test cannot mount (not root).
"""

import os
import subprocess

import pytest
from faults import tmpfs
from tiny import TINY_PIX2PIX, paired_report

from training_core.cli import EXIT_FAILED, EXIT_OK, train_main
from training_core.cli_models import models_main
from training_core.store import ModelLibrary
from training_core.train.events import Failed
from training_core.train.trainer import Trainer

TINY = ["--netG", "unet_32", "--ngf", "8", "--ndf", "8", "--preprocess", "crop", "--size", "32", "--device", "cpu"]


def _fill(folder, leave_bytes):
    """A filler file that leaves about ``leave_bytes`` free on ``folder``'s disk."""
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    filler = folder / "filler"
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free - leave_bytes))
    return filler


def _no_traceback(caplog, capsys):
    text = caplog.text + capsys.readouterr().err
    assert "Traceback" not in text and "SafetensorError" not in text and "enforce fail" not in text
    return text


def test_a_disk_that_fills_up_during_training_stops_it_clearly_and_loses_nothing(tmp_path, monkeypatch, caplog, capsys):
    report = paired_report(tmp_path / "data")
    with tmpfs(tmp_path / "lib", size="12m") as home:
        monkeypatch.setenv("GAN_STUDIO_HOME", str(home))
        assert train_main(["--data", str(report.root), "--name", "full", "--iterations", "2", *TINY]) == EXIT_OK
        filler = _fill(home, 600_000)  # room for model.json, not for a checkpoint
        caplog.clear()
        assert train_main(["--resume", "full", "--iterations", "4", *TINY[-2:]]) == EXIT_FAILED
        text = _no_traceback(caplog, capsys)
        assert "is full" in text and str(home) in text and "MB more needed" in text
        assert "the last saved checkpoint is intact" in text
        assert not [p for p in home.rglob(".*.tmp")]  # no torn file left behind
        filler.unlink()
        assert train_main(["--resume", "full", "--iterations", "4", *TINY[-2:]]) == EXIT_OK
        assert ModelLibrary().get("full").record.iterations == 4


def test_a_tiny_disk_refuses_a_new_model_clearly(tmp_path, monkeypatch, caplog, capsys):
    report = paired_report(tmp_path / "data")
    with tmpfs(tmp_path / "lib", size="12k") as home:
        monkeypatch.setenv("GAN_STUDIO_HOME", str(home))
        _fill(home, 0)
        assert train_main(["--data", str(report.root), "--name", "tiny", "--iterations", "2", *TINY]) == EXIT_FAILED
        assert "is full" in _no_traceback(caplog, capsys)
        assert ModelLibrary().list() == []


def test_a_read_only_library_can_be_listed_and_refuses_changes_clearly(tmp_path, monkeypatch, caplog, capsys):
    report = paired_report(tmp_path / "data")
    with tmpfs(tmp_path / "lib", size="20m") as home:
        monkeypatch.setenv("GAN_STUDIO_HOME", str(home))
        library = ModelLibrary()
        trainer = Trainer.create(
            report, "frozen", overrides=dict(TINY_PIX2PIX, iterations=2), library=library, device="cpu"
        )
        library.update(trainer.entry, state="running")  # as a crashed run leaves it: shown as interrupted
        if subprocess.run(["mount", "-o", "remount,ro", str(home)], capture_output=True).returncode:
            pytest.skip("cannot remount read-only here")
        try:
            capsys.readouterr()
            assert models_main(["list"]) == EXIT_OK
            assert "interrupted" in capsys.readouterr().out
            for args in (["rename", "frozen", "thawed"], ["delete", "frozen", "--yes"]):
                caplog.clear()
                assert models_main(args) == EXIT_FAILED
                assert "read-only" in _no_traceback(caplog, capsys)
            for args in (["--resume", "frozen", *TINY[-2:]], ["--data", str(report.root), "--name", "new", *TINY]):
                caplog.clear()
                assert train_main(args) == EXIT_FAILED, args
                assert "read-only" in _no_traceback(caplog, capsys)
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(home)], capture_output=True)
        assert [e.name for e in ModelLibrary().list()] == ["frozen"]


def test_a_failed_trainer_run_on_a_full_disk_returns_a_failure_event(tmp_path, monkeypatch):
    report = paired_report(tmp_path / "data")
    with tmpfs(tmp_path / "lib", size="12m") as home:
        library = ModelLibrary(home / "models")
        trainer = Trainer.create(
            report, "f", overrides=dict(TINY_PIX2PIX, iterations=3, checkpoint_every=1), library=library, device="cpu"
        )
        _fill(home, 300_000)
        result = trainer.run()
        assert isinstance(result, Failed) and "is full" in result.message
