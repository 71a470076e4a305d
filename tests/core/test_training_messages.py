"""Training's refusals and failures in words a user can act on: the setting they gave, the reason, the fix."""

import pytest
from PIL import Image
from tiny import TINY_CLI, TINY_PIX2PIX, paired_report

from training_core.cli import EXIT_USAGE, train_main
from training_core.data.discover import discover
from training_core.models.pix2pix import Pix2PixModel
from training_core.store import ModelLibrary
from training_core.train.events import Failed
from training_core.train.trainer import Trainer

CPU = [*TINY_CLI, "--device", "cpu", "--iterations", "2"]


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError(
            "[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate memory: you tried "
            "to allocate 4294967296 bytes. Error code 12 (Cannot allocate memory)"
        ),
        MemoryError(),
    ],
    ids=["torch-allocator", "python"],
)
def test_running_out_of_memory_on_the_cpu_gives_cpu_advice_and_stays_resumable(tmp_path, monkeypatch, error):
    report = paired_report(tmp_path / "data")
    trainer = Trainer.create(report, "ram", overrides=dict(TINY_PIX2PIX, iterations=6), device="cpu")
    real_step, calls = Pix2PixModel.step, []

    def step(self):
        calls.append(1)
        if len(calls) == 3:
            raise error
        return real_step(self)

    monkeypatch.setattr(Pix2PixModel, "step", step)
    result = trainer.run()
    assert isinstance(result, Failed) and "ran out of memory (RAM) at iteration 2" in result.message
    assert "Close other programs" in result.message and "smaller preset" in result.message
    assert "batch size" in result.message and "training size" in result.message
    assert "unexpected" not in result.message and "CUDA" not in result.message and "GPU" not in result.message
    assert ModelLibrary().get("ram").state == "failed"
    monkeypatch.setattr(Pix2PixModel, "step", real_step)
    assert Trainer.reopen("ram", device="cpu").run().completed


def test_a_hold_out_that_leaves_nothing_to_train_on_is_refused_before_a_model_exists(tmp_path, caplog):
    report = paired_report(tmp_path / "data", train=12, val=0)
    assert train_main(["--data", str(report.root), *CPU, "--val-fraction", "0.99"]) == EXIT_USAGE
    assert "val_fraction 0.99 holds out all 12 training pairs" in caplog.text and "Traceback" not in caplog.text
    assert "val_fraction" in caplog.text.split("holds out")[1]  # ... and says what to use instead
    assert ModelLibrary().list() == []


def test_a_crop_size_beyond_the_limit_names_the_crop_size_not_the_load_size(tmp_path, caplog):
    report = paired_report(tmp_path / "data")
    assert train_main(["--data", str(report.root), *CPU, "--crop-size", "8193"]) == EXIT_USAGE
    assert "crop_size must be in [16, 8,192], got 8193" in caplog.text and "load_size" not in caplog.text
    assert ModelLibrary().list() == []


def test_the_largest_crop_size_loads_at_the_limit_rather_than_beyond_it():
    from training_core.presets import resolve

    _, data, _ = resolve("pix2pix", "quick", overrides={"crop_size": 8192})
    assert data.crop_size == 8192 and data.load_size == 8192  # the preset's ratio would ask for 9153


def _mixed_sizes(folder):
    """The demo's aligned 32 px pairs, every other one enlarged to 64 px."""
    report = paired_report(folder, val=0)
    for i, path in enumerate(sorted((report.root / "train").iterdir())):
        if i % 2:
            with Image.open(path) as image:
                image.resize((image.width * 2, image.height * 2)).save(path)
    return discover(report.root)


def test_images_of_different_sizes_in_one_batch_say_so_not_that_a_file_is_unreadable(tmp_path, caplog):
    report = _mixed_sizes(tmp_path / "mixed")
    argv = ["--data", str(report.root), *CPU, "--preprocess", "none", "--batch-size", "2", "--name", "mixed"]
    assert train_main(argv) != 0
    assert "different sizes cannot share a batch" in caplog.text
    assert "batch size 1" in caplog.text and "resize" in caplog.text
    assert "readable copy" not in caplog.text and "Traceback" not in caplog.text


@pytest.mark.parametrize(
    "extra,complaint",
    [
        (["--demo", "--data", "DATA"], "--demo trains on the built-in demo project: leave out --data"),
        (["DATA", "--demo"], "--demo trains on the built-in demo project: leave out --data"),
        (["--resume", "Ink", "--demo"], "--resume continues a model on its own data and settings: leave out --demo"),
        (["--resume", "Ink", "--data", "DATA"], "--resume continues a model on its own data and settings"),
    ],
)
def test_two_things_to_train_at_once_are_refused_and_nothing_is_created(tmp_path, caplog, extra, complaint):
    report = paired_report(tmp_path / "data")
    argv = [str(report.root) if arg == "DATA" else arg for arg in extra]
    assert train_main([*argv, *CPU]) == EXIT_USAGE
    assert complaint in caplog.text
    assert ModelLibrary().list() == []
