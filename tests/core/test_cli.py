import json
import os
import subprocess
import sys

import pytest
from safetensors import safe_open
from tiny import TINY_CLI, paired_report

from training_core.cli import EXIT_OK, EXIT_PAUSED, EXIT_USAGE, train_main
from training_core.cli_models import models_main
from training_core.store import ModelLibrary
from training_core.train.checkpoint import list_checkpoints

TINY_ARGS = [
    *TINY_CLI,
    "--device",
    "cpu",
    "--sample-every",
    "2",
]


def test_train_then_manage_models_end_to_end(tmp_path, capsys):
    report = paired_report(tmp_path / "data")
    assert train_main(["--data", str(report.root), "--name", "Ink", "--iterations", "4", *TINY_ARGS]) == EXIT_OK
    entry = ModelLibrary().get("Ink")
    assert entry.state == "finished" and entry.record.iterations == 4
    assert sorted(p.name for p in (entry.run_dir / "samples").iterdir()) == ["iter_000000002.png", "iter_000000004.png"]
    with safe_open(entry.weights_path, "pt") as f:
        assert f.metadata()["family"] == "pix2pix"
        assert json.loads(f.metadata()["config"])["netG"] == "unet_32"
        assert all(k.startswith("AtoB.") for k in f.keys())

    # Continue the finished model to a longer total.
    assert train_main(["--resume", "ink", "--iterations", "6"]) == EXIT_OK
    assert ModelLibrary().get("Ink").record.iterations == 6

    capsys.readouterr()
    assert models_main(["list"]) == EXIT_OK
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split() == ["NAME", "FAMILY", "STATE", "ITERATIONS", "UPDATED"]
    assert listing[1].split()[:4] == ["Ink", "pix2pix", "finished", "6/6"]
    assert models_main(["show", "Ink"]) == EXIT_OK
    shown = capsys.readouterr().out
    assert shown.startswith("Ink  (pix2pix, finished)") and "6 of 6 iterations" in shown and "unet_32" in shown
    assert models_main(["show", "Ink", "--json"]) == EXIT_OK
    record = json.loads(capsys.readouterr().out)
    assert record["state"] == "finished" and record["model"]["netG"] == "unet_32"
    assert models_main(["rename", "Ink", "Ink v2"]) == EXIT_OK
    assert models_main(["delete", "Ink v2"]) == EXIT_USAGE  # not a terminal and no --yes: refused
    assert models_main(["delete", "Ink v2", "--yes"]) == EXIT_OK
    assert ModelLibrary().list() == []


def test_demo_uses_the_built_in_project(tmp_path):
    assert train_main(["--demo", "--iterations", "2", *TINY_ARGS]) == EXIT_OK
    (entry,) = ModelLibrary().list()
    assert entry.name.startswith("Demo shapes") and entry.record.dataset["layout"] == "aligned"
    assert entry.record.dataset["val_source"] == "val/ folder"


def test_bad_input_gives_exit_code_2_and_a_clear_message(tmp_path, caplog):
    assert train_main(["--data", str(tmp_path / "missing")]) == EXIT_USAGE
    assert "Dataset folder not found" in caplog.text
    report = paired_report(tmp_path / "data")
    assert train_main(["--data", str(report.root), "--size", "100", "--netG", "unet_32"]) == EXIT_USAGE
    assert "crop_size 100 is not a multiple of 32" in caplog.text
    assert train_main([]) == EXIT_USAGE
    assert "--demo" in caplog.text
    assert train_main(["--resume", "nothing-here"]) == EXIT_USAGE
    assert "no model named 'nothing-here'" in caplog.text
    assert train_main(["--data", str(report.root), "--family", "cyclegan"]) == EXIT_USAGE
    assert "CycleGAN needs two folders" in caplog.text
    assert models_main(["show", "nope"]) == EXIT_USAGE


def test_cyclegan_with_one_domain_entirely_broken_is_refused_naming_the_files(tmp_path, caplog):
    from tiny import unpaired_report

    report = unpaired_report(tmp_path / "u")
    for path in (tmp_path / "u" / "data" / "trainA").iterdir():
        path.write_bytes(b"")
    assert train_main(["--data", str(report.root), "--name", "half", "--device", "cpu"]) == EXIT_USAGE
    assert "domain A" in caplog.text and "outline0.png: not an image" in caplog.text
    assert "Traceback" not in caplog.text and "Resume" not in caplog.text
    assert ModelLibrary().list() == []


def test_the_cli_names_every_rejected_training_file_with_its_reason(tmp_path, caplog):
    report = paired_report(tmp_path / "data")
    train = tmp_path / "data" / "train"
    (train / "empty.jpg").write_bytes(b"")
    (train / "notes.png").write_text("not a picture")
    (train / "drawing.png").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n")
    caplog.set_level("INFO")
    assert train_main(["--data", str(report.root), "--name", "named", "--iterations", "1", *TINY_ARGS]) == EXIT_OK
    assert "rejected 3 files" in caplog.text
    for name, reason in (
        ("empty.jpg", "not an image (file is empty"),
        ("notes.png", "not an image (file holds text"),
        ("drawing.png", "unsupported format (EPS"),
    ):
        assert f"{train / name}: {reason}" in caplog.text


def test_a_log_gets_progress_lines_at_a_steady_cadence(tmp_path, caplog, monkeypatch):
    """Not a terminal (a log file, a job scheduler): iteration, rate, ETA and losses, every so often."""
    import training_core.cli as cli

    monkeypatch.setattr(cli, "PROGRESS_EVERY_S", 0.0)
    report = paired_report(tmp_path / "data")
    caplog.set_level("INFO")
    assert train_main(["--data", str(report.root), "--name", "logged", "--iterations", "3", *TINY_ARGS]) == EXIT_OK
    messages = [r.getMessage() for r in caplog.records]
    lines = [m for m in messages if m.startswith("iteration ") and "it/s" in m]
    assert [line.split()[1] for line in lines] == ["1/3", "2/3", "3/3"]
    assert "ETA" in lines[-1]


def test_a_cyclegan_run_logs_its_held_out_round_trip_scores(tmp_path, caplog):
    import logging

    from tiny import unpaired_report

    report = unpaired_report(tmp_path / "data", count=12)
    caplog.set_level(logging.INFO, logger="gan_studio.cli")
    argv = ["--data", str(report.root), "--name", "Cycle", "--iterations", "2", *TINY_CLI, "--sample-every", "2"]
    assert train_main([*argv, "--device", "cpu"]) == EXIT_OK
    lines = [r.getMessage() for r in caplog.records if "round trip" in r.getMessage()]
    assert lines and lines[0].startswith("iteration 2: held-out round trip L1 ") and lines[0].endswith("(2 images)")
    # The logged numbers are the run's scores, and no perfect score: two iterations of a tiny CycleGAN
    # bring nothing back unchanged (a round trip replaced by the image itself would).
    logged = [json.loads(line) for line in (ModelLibrary().get("Cycle").run_dir / "metrics.jsonl").open()]
    scores = [r["val"] for r in logged if "val" in r][0]
    assert f"L1 {scores['l1']:.4f}  PSNR {scores['psnr']:.2f} dB" in lines[0]
    assert scores["l1"] > 0.05 and scores["psnr"] < 40


@pytest.mark.skipif(os.name != "posix", reason="POSIX pipes")
def test_a_run_whose_log_reader_goes_away_pauses_with_a_checkpoint_and_ends_quietly(tmp_path):
    """`gan-studio-train ... 2>&1 | head` kept training, unseen, until the end: the pipeline never returned.

    Like a closed terminal (SIGHUP), a closed pipe pauses the run with a checkpoint, so nothing is lost
    and --resume continues it."""
    report = paired_report(tmp_path / "data")
    reader, writer = os.pipe()
    code = "import sys; from training_core.cli import train_main; sys.exit(train_main(sys.argv[1:]))"
    argv = ["--data", str(report.root), "--name", "piped", "--iterations", "100000", *TINY_ARGS]
    process = subprocess.Popen([sys.executable, "-c", code, *argv], stdout=writer, stderr=writer)
    os.close(writer)
    seen = b""
    with os.fdopen(reader, "rb", buffering=0) as log:
        while b"training on" not in seen:  # like head: read the first lines, then go
            chunk = log.read(4096)
            assert chunk, seen.decode(errors="replace")
            seen += chunk
    try:
        code = process.wait(timeout=60)
    finally:
        process.kill()
    assert code == EXIT_PAUSED
    entry = ModelLibrary().get("piped")
    assert entry.state == "paused" and 0 < entry.record.iterations < 100000
    assert list_checkpoints(entry.run_dir)[0].name == f"iter_{entry.record.iterations:09d}.pt"
