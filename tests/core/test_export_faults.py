"""Writing a model's files on a full or read-only disk, and what killed exports leave: one clear message,
exit 1, nothing torn left behind (real tmpfs mounts; skipped where the test cannot mount)."""

import os
import time

import pytest
import torch
from faults import tmpfs
from reference_nets import ResnetGenerator, get_norm_layer, randomize

from training_core.cli_models import models_main
from training_core.library_import import import_reference
from training_core.store import ModelLibrary


def _reference_file(tmp_path, ngf=8, n_blocks=2):
    net = randomize(ResnetGenerator(3, 3, ngf, get_norm_layer("instance"), n_blocks=n_blocks))
    path = tmp_path / f"ngf{ngf}.pth"
    torch.save(net.state_dict(), path)
    return path


def _said(caplog, capsys):
    text = caplog.text + capsys.readouterr().err
    assert "Traceback" not in text and "SafetensorError" not in text and "unexpected error" not in text
    return text


def test_a_disk_that_fills_while_the_generator_file_is_written_says_it_is_full(tmp_path, monkeypatch, caplog, capsys):
    """safetensors removed its torn file before the disk-full check looked, so the user read "SafetensorError"."""
    weights = _reference_file(tmp_path, ngf=32, n_blocks=6)  # about 8 MB of weights
    with tmpfs(tmp_path / "lib", size="4m") as home:  # room for the record, and 4 MB free after the failure
        monkeypatch.setenv("GAN_STUDIO_HOME", str(home))
        assert models_main(["import", str(weights), "--name", "big"]) == 1
        assert "is full" in _said(caplog, capsys) and str(home) in caplog.text
        assert ModelLibrary().list() == []
        assert not [p for p in home.rglob("*") if p.is_file()]  # no torn weights, no hidden model


@pytest.fixture
def library_model(tmp_path):
    pytest.importorskip("onnxscript")
    import_reference([_reference_file(tmp_path)], "ink", ModelLibrary())
    return "ink"


@pytest.mark.slow  # an ONNX export traces the network: about 10 s on 2 CPU cores
def test_onnx_export_to_a_read_only_disk_is_refused_before_exporting(tmp_path, library_model, caplog, capsys):
    with tmpfs(tmp_path / "ro", read_only=True) as folder:
        started = time.monotonic()
        assert models_main(["export", library_model, "--onnx", str(folder / "ink.onnx")]) == 1
        assert time.monotonic() - started < 5  # told at once, not after the export
        said = _said(caplog, capsys)
        assert "read-only disk: make it writable, or export into another folder" in said and str(folder) in said


@pytest.mark.slow
def test_onnx_export_to_a_full_disk_says_so_and_leaves_nothing(tmp_path, library_model, caplog, capsys):
    with tmpfs(tmp_path / "full", size="64k") as folder:  # the export is over 100 kB
        assert models_main(["export", library_model, "--onnx", str(folder / "ink.onnx")]) == 1
        assert "is full" in _said(caplog, capsys) and str(folder) in caplog.text
        assert list(folder.iterdir()) == []


@pytest.mark.slow
def test_an_export_cleans_up_what_killed_exports_left_and_nothing_else(tmp_path, library_model):
    out = tmp_path / "exports"
    out.mkdir()
    old = time.time() - 3600
    killed = [out / ".ink.onnx.a1b2c3d4.tmp", out / ".other model.ONNX.q1w2e3r4.tmp"]
    kept = [
        out / ".ink.onnx.fresh123.tmp",  # another export writing right now
        out / ".photo.png.abcd1234.tmp",  # a conversion's, not ours to judge
        out / "notes.onnx.tmp",  # the user's
    ]
    for path in killed + kept:
        path.write_bytes(b"\0" * 1000)
    for path in killed + kept[1:]:
        os.utime(path, (old, old))
    assert models_main(["export", library_model, "--onnx", str(out / "ink.onnx")]) == 0
    assert not any(p.exists() for p in killed) and all(p.exists() for p in kept)
    assert (out / "ink.onnx").stat().st_size > 1000
