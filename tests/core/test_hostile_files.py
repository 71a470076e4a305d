"""Folders as a hostile world leaves them: links back into the input, PostScript named .jpg, named
pipes, undecodable names, look-alike names, stale and foreign outputs, two jobs at once.

Each test is one of the reproductions of issue 15, run with real files, real links, real pipes, real
processes and a real umask. The promise under test: no original is overwritten, no other program
is run, nothing hangs, and every refusal names the file and the reason.
"""

import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from reference_nets import ResnetGenerator, get_norm_layer, randomize

from training_core.config import ConvertConfig
from training_core.convert.batch import BatchError, BatchJob, BatchStarted
from training_core.convert.translator import TranslateOptions, Translator
from training_core.data.discover import discover
from training_core.data.images import load_rgb, probe
from training_core.errors import ImageLoadError
from training_core.library_import import import_reference
from training_core.models.networks import define_G
from training_core.store import ModelLibrary

POSIX = pytest.mark.skipif(os.name != "posix", reason="POSIX files: links, pipes, byte names, umask")
EPS_LOOP = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\n{ } loop\n"
CLI = "import sys; from training_core.cli_convert import convert_main; sys.exit(convert_main(sys.argv[1:]))"


def _translator(seed=0):
    torch.manual_seed(seed)
    return Translator(define_G(3, 3, 4, "resnet_1blocks", "instance"), 4, options=TranslateOptions(tile=512))


def _img(path, w=40, h=32, seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)).save(path)
    return path


def _sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _by_name(report):
    return {Path(f.input).name: f for f in report.files}


def _library_model(tmp_path, name="ink", n_blocks=2, ngf=8):
    net = randomize(ResnetGenerator(3, 3, ngf, get_norm_layer("instance"), n_blocks=n_blocks))
    torch.save(net.state_dict(), tmp_path / f"{name}.pth")
    import_reference([tmp_path / f"{name}.pth"], name, ModelLibrary())


@pytest.fixture
def fake_ghostscript(tmp_path, monkeypatch):
    """A `gs` first on PATH that leaves a marker if anything ever runs it."""
    bin_dir, marker = tmp_path / "fake-bin", tmp_path / "gs-was-run"
    bin_dir.mkdir()
    for name in ("gs", "gswin64c", "gswin32c"):
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\ntouch '{marker}'\nexit 0\n")
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return marker


# -- 1. a link in the output folder that leads back into the input ----------------------------------


@POSIX
@pytest.mark.parametrize("overwrite", [False, True])
def test_a_link_into_the_input_never_lets_an_original_be_overwritten(tmp_path, overwrite):
    src, dst = tmp_path / "sl" / "src", tmp_path / "sl" / "dst"
    original = _img(src / "sub" / "cat.png")
    _img(src / "dog.png", seed=1)
    dst.mkdir()
    (dst / "sub").symlink_to("../src/sub")
    before = _sha(original)
    report = BatchJob(_translator(), src, dst, ConvertConfig(recursive=True, skip_existing=not overwrite)).run()
    assert _sha(original) == before
    files = _by_name(report)
    assert files["cat.png"].status == "failed" and "input photo" in files["cat.png"].detail
    assert files["dog.png"].status == "converted"
    assert not [p for p in (src / "sub").iterdir() if p.name != "cat.png"]  # not even a temporary file


@POSIX
def test_an_output_file_that_is_a_link_to_an_input_is_refused(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    original = _img(src / "a.png")
    dst.mkdir()
    (dst / "a.png").symlink_to(original)
    before = _sha(original)
    for skip in (True, False):
        report = BatchJob(_translator(), src, dst, ConvertConfig(skip_existing=skip)).run()
        assert report.files[0].status == "failed" and "refused" in report.files[0].detail
    assert _sha(original) == before


@POSIX
def test_the_cli_reproduction_with_overwrite_outputs_keeps_the_original(tmp_path):
    _library_model(tmp_path)
    src, dst = tmp_path / "sl" / "src", tmp_path / "sl" / "dst"
    original = _img(src / "sub" / "cat.png")
    dst.mkdir()
    (dst / "sub").symlink_to("../src/sub")
    before = _sha(original)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            CLI,
            "--model",
            "ink",
            "--input",
            str(src),
            "--output",
            str(dst),
            "--recursive",
            "--overwrite-outputs",
            "--device",
            "cpu",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr  # the file failed, and says why
    assert _sha(original) == before
    assert "cat.png" in result.stderr and "refused" in result.stderr


# -- 2. PostScript named .jpg: never handed to Ghostscript ------------------------------------------


def test_postscript_named_jpg_is_refused_at_once_without_running_anything(tmp_path, fake_ghostscript):
    evil = tmp_path / "in" / "evil.jpg"
    evil.parent.mkdir()
    evil.write_bytes(EPS_LOOP)
    started = time.perf_counter()
    with pytest.raises(ImageLoadError) as err:
        load_rgb(evil)
    assert time.perf_counter() - started < 1.0
    assert err.value.reason == "unsupported format" and err.value.detail.startswith("EPS")
    report = BatchJob(_translator(), evil.parent, tmp_path / "out", ConvertConfig()).run()
    assert report.counts() == {"failed": 1} and report.files[0].detail.startswith("unsupported format: EPS")
    assert not fake_ghostscript.exists()


def test_a_harmless_eps_is_reported_not_converted(tmp_path, fake_ghostscript):
    src = tmp_path / "in"
    src.mkdir()
    Image.new("RGB", (32, 32), "red").save(src / "drawing.eps")  # a real EPS file Pillow wrote
    os.rename(src / "drawing.eps", src / "drawing.png")
    _img(src / "photo.png")
    report = BatchJob(_translator(), src, tmp_path / "out", ConvertConfig()).run()
    files = _by_name(report)
    assert files["drawing.png"].status == "failed" and "EPS" in files["drawing.png"].detail
    assert files["photo.png"].status == "converted"
    assert not fake_ghostscript.exists()


def _non_raster_folder(folder):
    """Files whose content is a format that Pillow hands to other programs, or no image at all."""
    folder.mkdir(parents=True)
    (folder / "loop.jpg").write_bytes(EPS_LOOP)
    (folder / "page.png").write_bytes(b"%!PS-Adobe-3.0\n/Times-Roman findfont\nshowpage\n")
    (folder / "binary-eps.tif").write_bytes(b"\xc5\xd0\xd3\xc6" + bytes(60))
    (folder / "doc.jpg").write_bytes(b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n")
    (folder / "layers.png").write_bytes(b"8BPS\x00\x01" + bytes(40))
    (folder / "vector.webp").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    (folder / "phone.jpg").write_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(40))
    (folder / "script.bmp").write_text("#!/bin/sh\necho hi\n")
    return folder


@POSIX
def test_scanning_and_converting_non_raster_files_starts_no_program(tmp_path, fake_ghostscript):
    """Real processes: the CLI converts, and a dataset scan runs, with a `gs` on PATH that would tell."""
    _library_model(tmp_path)
    folder = _non_raster_folder(tmp_path / "hostile")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            CLI,
            "--model",
            "ink",
            "--input",
            str(folder),
            "--output",
            str(tmp_path / "out"),
            "--device",
            "cpu",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr  # every file failed, each with its reason
    report = json.loads((tmp_path / "out" / "gan-studio-report.json").read_text())
    reasons = {Path(f["input"]).name: f["detail"] for f in report["files"]}
    assert len(reasons) == 8 and all(f["status"] == "failed" for f in report["files"])
    assert reasons["doc.jpg"].startswith("unsupported format: PDF")
    assert reasons["phone.jpg"].startswith("unsupported format: HEIF")
    scan = (
        "import sys; from training_core.data.discover import discover\n"
        "try:\n    discover(sys.argv[1])\nexcept Exception as e:\n    print(e)"
    )
    result = subprocess.run([sys.executable, "-c", scan, str(folder)], capture_output=True, text=True, timeout=60)
    assert "8 files rejected" in result.stdout, result.stdout + result.stderr
    assert not fake_ghostscript.exists()


def test_no_child_process_is_started_while_scanning_or_converting(tmp_path, monkeypatch):
    folder = _non_raster_folder(tmp_path / "hostile")
    _img(folder / "real.png")
    started = []
    real_popen_init = subprocess.Popen.__init__

    def record(self, *args, **kwargs):
        started.append(args[0] if args else kwargs.get("args"))
        return real_popen_init(self, *args, **kwargs)

    monkeypatch.setattr(subprocess.Popen, "__init__", record)
    monkeypatch.setattr(os, "system", lambda *a: started.append(a) or 1)
    report = discover(folder)
    assert len(report.rejected) == 8
    BatchJob(_translator(), folder, tmp_path / "out", ConvertConfig()).run()
    assert started == []


# -- 3. named pipes and other special files -----------------------------------------------------------


@POSIX
def test_a_named_pipe_is_skipped_without_being_opened_by_batches_and_scans(tmp_path):
    src = tmp_path / "in"
    _img(src / "a.jpg")
    _img(src / "c.png", seed=2)
    os.mkfifo(src / "b.jpg")
    outcome = {}

    def work():
        outcome["batch"] = BatchJob(_translator(), src, tmp_path / "out", ConvertConfig()).run()
        outcome["scan"] = discover(src)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "a named pipe blocked the batch or the scan"
    files = _by_name(outcome["batch"])
    assert files["b.jpg"].status == "failed" and "named pipe" in files["b.jpg"].detail
    assert files["a.jpg"].status == files["c.png"].status == "converted"
    rejected = {r.path.name: r for r in outcome["scan"].rejected}
    assert rejected["b.jpg"].reason == "not a file" and "named pipe" in rejected["b.jpg"].detail
    assert outcome["scan"].count() == 2


@POSIX
def test_a_file_swapped_for_a_pipe_after_listing_is_still_not_waited_on(tmp_path, monkeypatch):
    """The check is on what was opened, not only on what was listed."""
    import training_core.data.images as images

    os.mkfifo(tmp_path / "late.png")
    regular = os.stat(_img(tmp_path / "ok.png"))
    monkeypatch.setattr(images.os, "stat", lambda path, *a, **k: regular)  # the listing saw a regular file
    started = time.perf_counter()
    with pytest.raises(ImageLoadError) as err:
        probe(tmp_path / "late.png")
    assert err.value.reason == "not a file" and time.perf_counter() - started < 1.0


@POSIX
def test_ctrl_c_stops_a_batch_promptly_with_a_true_report(tmp_path):
    _library_model(tmp_path, "slow", n_blocks=3, ngf=16)
    src, dst = tmp_path / "photos", tmp_path / "out"
    for i in range(30):
        _img(src / f"{i:03d}.png", 300, 300, seed=i)
    proc = subprocess.Popen(
        [sys.executable, "-c", CLI, "--model", "slow", "--input", str(src), "--output", str(dst), "--device", "cpu"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(dst.glob("0*.png")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=30)  # the image in flight finishes, nothing more
    assert code == 130, proc.stderr.read().decode()
    report = json.loads((dst / "gan-studio-report.json").read_text())
    assert report["cancelled"] and report["counts"].get("converted", 0) < 30


@pytest.mark.parametrize("how", ["cancel", "ctrl-c"])
def test_a_dataset_scan_stops_within_a_file_when_cancelled_or_interrupted(tmp_path, how):
    from training_core.errors import DatasetError

    folder = tmp_path / "big"
    for i in range(300):
        _img(folder / f"{i:04d}.png", 64, 64, seed=i)
    cancel, probed = threading.Event(), []

    def progress(done, total):
        probed.append(done)
        if done == 5:
            if how == "cancel":
                cancel.set()  # the app's Cancel button
            else:
                raise KeyboardInterrupt  # reaches the waiting main thread as Ctrl-C does

    expected = DatasetError if how == "cancel" else KeyboardInterrupt
    with pytest.raises(expected):
        discover(folder, progress=progress, cancel=cancel, workers=2)
    time.sleep(0.2)
    assert len(probed) < 150  # most of the 300 were never opened


# -- 4. file names that are not UTF-8 ---------------------------------------------------------------


@POSIX
def test_undecodable_file_names_are_converted_and_reported_escaped(tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    broken = os.fsdecode(b"broken-\xe9.jpg")
    (src / broken).write_bytes(b"x")
    _img(src / os.fsdecode(b"caf\xe9.png"))
    report = BatchJob(_translator(), src, dst, ConvertConfig()).run()
    assert report.counts() == {"converted": 1, "failed": 1}
    assert (dst / os.fsdecode(b"caf\xe9.png")).is_file()  # the output keeps the very bytes of the name
    text = (dst / "gan-studio-report.txt").read_text(encoding="utf-8")
    assert "broken-\\xe9.jpg: not an image" in text
    saved = json.loads((dst / "gan-studio-report.json").read_text(encoding="utf-8"))
    assert {Path(f["input"]).name for f in saved["files"]} == {"broken-\\xe9.jpg", "caf\\xe9.png"}
    rerun = BatchJob(_translator(), src, dst, ConvertConfig()).run()  # the ledger holds the name too
    assert _by_name(rerun)["caf\\xe9.png"].status == "skipped"


@POSIX
def test_the_cli_prints_undecodable_names(tmp_path):
    _library_model(tmp_path)
    src = tmp_path / "in"
    src.mkdir()
    (src / os.fsdecode(b"broken-\xe9.jpg")).write_bytes(b"x")
    result = subprocess.run(
        [sys.executable, "-c", CLI, "--model", "ink", "--input", str(src), "--output", str(tmp_path / "out")],
        capture_output=True,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert result.returncode == 1 and b"Traceback" not in result.stderr
    assert b"broken-\\xe9.jpg" in result.stderr


# -- 5. names with the same stem ------------------------------------------------------------------


def test_files_with_one_stem_get_their_own_stable_outputs(tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    _img(src / "IMG_1.png")
    first = BatchJob(_translator(), src, dst, ConvertConfig()).run()
    assert first.counts() == {"converted": 1}
    kept = _sha(dst / "IMG_1.png")
    _img(src / "IMG_1.gif", seed=3)
    _img(src / "IMG_0.jpg", seed=4)  # sorts first: must not shift anybody's name
    second = _by_name(BatchJob(_translator(), src, dst, ConvertConfig()).run())
    assert second["IMG_1.png"].status == "skipped"
    assert second["IMG_1.gif"].status == "converted" and Path(second["IMG_1.gif"].output).name == "IMG_1.gif.png"
    assert _sha(dst / "IMG_1.png") == kept
    assert sorted(p.name for p in dst.glob("IMG_*")) == ["IMG_0.jpg", "IMG_1.gif.png", "IMG_1.png"]


def test_two_inputs_never_share_an_output(tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    _img(src / "a.gif")
    _img(src / "a.gif.png", seed=1)  # its own name is what a.gif would become
    files = _by_name(BatchJob(_translator(), src, dst, ConvertConfig()).run())
    assert files["a.gif.png"].status == "converted"
    assert files["a.gif"].status == "failed" and "belongs to the photo a.gif.png" in files["a.gif"].detail


def test_watching_names_new_files_like_a_batch(tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    _img(src / "IMG_1.png")
    cancel = threading.Event()
    job = BatchJob(_translator(), src, dst, ConvertConfig(), cancel=cancel)
    watcher = threading.Thread(target=job.watch, kwargs={"poll_s": 0.1}, daemon=True)
    watcher.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (dst / "IMG_1.png").exists():
        time.sleep(0.05)
    kept = _sha(dst / "IMG_1.png")
    _img(src / "IMG_1.gif", seed=3)
    while time.monotonic() < deadline and not (dst / "IMG_1.gif.png").exists():
        time.sleep(0.05)
    cancel.set()
    watcher.join(30)
    assert (dst / "IMG_1.gif.png").exists() and _sha(dst / "IMG_1.png") == kept
    assert {f.status for f in job.report.files} == {"converted"}


# -- 6. stale outputs, and files the converter did not write ------------------------------------------


def test_another_model_or_other_settings_convert_again_and_say_why(tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    for i in range(3):
        _img(src / f"{i}.jpg", seed=i)
    BatchJob(_translator(seed=0), src, dst, ConvertConfig()).run()
    first = _sha(dst / "0.jpg")
    same = BatchJob(_translator(seed=0), src, dst, ConvertConfig()).run()
    assert same.counts() == {"skipped": 3}
    other = BatchJob(_translator(seed=1), src, dst, ConvertConfig()).run()
    assert other.counts() == {"converted": 3, "redone": 3} and _sha(dst / "0.jpg") != first
    assert all(f.detail == "redone: the model's weights changed (trained further)" for f in other.files)
    assert "3 converted (3 redone)" in (dst / "gan-studio-report.txt").read_text()
    quality = BatchJob(_translator(seed=1), src, dst, ConvertConfig(quality=70)).run()
    assert quality.counts() == {"converted": 3, "redone": 3}
    assert BatchJob(_translator(seed=1), src, dst, ConvertConfig(quality=70)).run().counts() == {"skipped": 3}


def test_a_file_the_converter_did_not_write_is_kept_unless_overwriting_is_asked(tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    _img(src / "a.png")
    mine = _img(dst / "a.png", seed=9)  # the user's own file, where the output would go
    before = _sha(mine)
    report = BatchJob(_translator(), src, dst, ConvertConfig()).run()
    assert report.files[0].status == "failed" and "did not write it" in report.files[0].detail
    assert _sha(mine) == before
    replaced = BatchJob(_translator(), src, dst, ConvertConfig(skip_existing=False)).run()
    assert replaced.counts() == {"converted": 1, "redone": 1} and _sha(mine) != before


def test_outputs_of_gan_studio_0_1_are_recognised_and_redone(tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    _img(src / "a.png")
    _img(dst / "a.png", seed=5)
    (dst / "gan-studio-report.json").write_text(
        json.dumps({"files": [{"input": str(src / "a.png"), "output": str(dst / "a.png"), "status": "converted"}]})
    )
    report = BatchJob(_translator(), src, dst, ConvertConfig()).run()
    assert report.files[0].redone and "earlier version" in report.files[0].detail


def test_an_output_whose_conversion_was_cut_short_is_redone(tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    _img(src / "a.png")
    job = BatchJob(_translator(), src, dst, ConvertConfig())
    job.run()
    job.ledger.claim("a.png", job.ledger.get("a.png"))  # claimed again, never confirmed: killed mid-write
    report = BatchJob(_translator(), src, dst, ConvertConfig()).run()
    assert report.files[0].redone and "did not finish" in report.files[0].detail


# -- 7. two conversions into one output folder ----------------------------------------------------------


def test_a_second_job_into_the_same_folder_is_refused_naming_the_first(tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    _img(src / "a.png")
    first = BatchJob(_translator(), src, dst, ConvertConfig(), model_name="ink")
    with pytest.raises(BatchError, match=r"another conversion is writing into .*model ink"):
        BatchJob(_translator(), src, dst, ConvertConfig())
    first.run()
    assert BatchJob(_translator(), src, dst, ConvertConfig()).run().counts() == {"skipped": 1}  # released


@POSIX
def test_two_real_processes_converting_into_one_folder(tmp_path):
    """The first keeps the folder (it watches for more photos); the second is refused, harming nothing."""
    _library_model(tmp_path)
    src, dst = tmp_path / "photos", tmp_path / "out"
    for i in range(6):
        _img(src / f"{i}.png", 64, 64, seed=i)
    args = ["--model", "ink", "--input", str(src), "--output", str(dst), "--device", "cpu"]
    first = subprocess.Popen(
        [sys.executable, "-c", CLI, *args, "--watch"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(list(dst.glob("*.png"))) < 6:
            time.sleep(0.05)
        second = subprocess.run(
            [sys.executable, "-c", CLI, *args, "--overwrite-outputs"], capture_output=True, text=True, timeout=120
        )
    finally:
        first.send_signal(signal.SIGINT)
        first.wait(timeout=60)
    assert second.returncode == 2 and "another conversion is writing into" in second.stderr
    assert "process " in second.stderr and "model ink" in second.stderr  # names the running one
    report = json.loads((dst / "gan-studio-report.json").read_text())
    assert report["counts"] == {"converted": 6}
    for i in range(6):
        with Image.open(dst / f"{i}.png") as img:
            img.load()


# -- 8. ONNX export never replaces a file it did not write ----------------------------------------------


def test_onnx_export_refuses_other_names_and_foreign_files(tmp_path):
    from training_core.cli_models import models_main

    _library_model(tmp_path)
    photo = _img(tmp_path / "photo.png")
    before = _sha(photo)
    assert models_main(["export", "ink", "--onnx", str(photo)]) == 2
    assert _sha(photo) == before
    foreign = tmp_path / "theirs.onnx"
    foreign.write_bytes(b"somebody else's model")
    assert models_main(["export", "ink", "--onnx", str(foreign)]) == 2
    assert foreign.read_bytes() == b"somebody else's model"


def test_onnx_export_replaces_its_own_export_and_a_foreign_file_when_asked(tmp_path):
    pytest.importorskip("onnxscript")
    from training_core.cli_models import models_main

    _library_model(tmp_path)
    out = tmp_path / "ink.onnx"
    assert models_main(["export", "ink", "--onnx", str(out)]) == 0
    assert models_main(["export", "ink", "--onnx", str(out)]) == 0  # our own export: replaced
    foreign = tmp_path / "theirs.onnx"
    foreign.write_bytes(b"x")
    assert models_main(["export", "ink", "--onnx", str(foreign), "--overwrite"]) == 0
    assert foreign.stat().st_size > 1000


# -- 9. created files follow the umask ---------------------------------------------------------------


@pytest.fixture
def umask():
    previous = os.umask(0o022)
    yield lambda value: os.umask(value)
    os.umask(previous)


@POSIX
@pytest.mark.parametrize("mask,mode", [(0o022, 0o644), (0o027, 0o640)])
def test_outputs_models_and_reports_follow_the_umask(tmp_path, umask, mask, mode):
    from tiny import TINY_PIX2PIX, paired_report

    from training_core.train.trainer import Trainer

    umask(mask)
    src, dst = tmp_path / "in", tmp_path / "out"
    _img(src / "a.png")
    BatchJob(_translator(), src, dst, ConvertConfig()).run()
    files = [dst / "a.png", dst / "gan-studio-report.json", dst / "gan-studio-report.txt"]
    trainer = Trainer.create(paired_report(tmp_path / "data"), "perm", overrides=dict(TINY_PIX2PIX, iterations=2))
    assert trainer.run().completed
    entry = ModelLibrary().get("perm")
    files += [entry.path / "model.json", entry.weights_path, *entry.run_dir.rglob("*.pt")]
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == mode, path


# -- 11. temporary files of killed processes ------------------------------------------------------------


def test_stale_temporary_files_are_removed_when_the_library_or_a_batch_starts(tmp_path):
    from training_core import store
    from training_core.runlock import RunLock

    root = tmp_path / "models"
    idle, busy = root / "idle", root / "busy"
    for folder in (idle, busy):
        (folder / "run").mkdir(parents=True)
        (folder / "model.json").write_text(json.dumps({"family": "pix2pix", "name": folder.name}))
    old = time.time() - 3600
    stale = [
        idle / ".generator.safetensors.a1b2c3d4.tmp",
        idle / ".model.json.x9y8z7w6.tmp",
        idle / "run" / ".ckpt-000010.pt.q1w2e3r4.tmp",
    ]
    for path in stale:
        path.write_bytes(b"\0" * 1024)
        os.utime(path, (old, old))
    fresh = idle / ".model.json.fresh123.tmp"  # another window is writing it right now
    fresh.write_bytes(b"{}")
    training = busy / ".generator.safetensors.k9k9k9k9.tmp"
    training.write_bytes(b"\0")
    os.utime(training, (old, old))
    keep = idle / "notes.tmp"
    keep.write_text("not ours")
    os.utime(keep, (old, old))
    store._tidied.clear()
    with RunLock(busy / "run"):
        assert {e.name for e in ModelLibrary(root).list()} == {"idle", "busy"}
    assert not any(p.exists() for p in stale)
    assert fresh.exists() and training.exists() and keep.exists()

    src, dst = tmp_path / "in", tmp_path / "out"
    _img(src / "a.png")
    (dst / "sub").mkdir(parents=True)
    leftover = dst / "sub" / ".a.png.abcd1234.tmp"
    leftover.write_bytes(b"\0" * 4096)
    BatchJob(_translator(), src, dst, ConvertConfig()).run()
    assert not leftover.exists()


# -- beyond the reproductions ---------------------------------------------------------------------


@POSIX
@pytest.mark.parametrize("name", [".gan-studio-convert.lock", ".gan-studio-outputs.jsonl"])
def test_our_own_files_in_the_output_folder_never_lead_to_an_input(tmp_path, name):
    """The lock is truncated and the ledger appended to in place: as links to a photo they would ruin it."""
    src, dst = tmp_path / "in", tmp_path / "out"
    original = _img(src / "a.png")
    dst.mkdir()
    (dst / name).symlink_to(original)
    before = _sha(original)
    with pytest.raises(BatchError, match="not a regular file"):
        BatchJob(_translator(), src, dst, ConvertConfig())
    os.unlink(dst / name)
    os.mkfifo(dst / name)  # and a pipe would block
    with pytest.raises(BatchError, match="not a regular file"):
        BatchJob(_translator(), src, dst, ConvertConfig())
    assert _sha(original) == before


@POSIX
def test_odd_entries_in_the_input_folder_fail_alone(tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    _img(src / "ok.png")
    (src / "dangling.jpg").symlink_to(tmp_path / "nowhere.jpg")
    (src / "zero.jpg").symlink_to("/dev/zero")
    long_name = "x" * (255 - len(".gif")) + ".gif"  # its output name (+".png") is too long for the disk
    _img(tmp_path / "long.gif")
    os.rename(tmp_path / "long.gif", src / long_name)
    (src / "report.jpg").write_text("\n".join(["line"] * 3))  # text with newlines in the name's file
    newline_name = "two\nlines.png"
    _img(src / newline_name, seed=2)
    files = _by_name(BatchJob(_translator(), src, dst, ConvertConfig()).run())
    assert files["ok.png"].status == files[newline_name].status == "converted"
    assert files["dangling.jpg"].detail.startswith("unreadable")
    assert files["zero.jpg"].detail.startswith("not a file: a character device")
    assert files[long_name].status == "failed" and "File name too long" in files[long_name].detail
    assert (dst / "gan-studio-report.txt").is_file()


@POSIX
def test_an_output_folder_that_is_a_link_to_the_input_is_refused(tmp_path):
    src = tmp_path / "in"
    _img(src / "a.png")
    (tmp_path / "out").symlink_to(src)
    with pytest.raises(BatchError, match="output folder is the input folder"):
        BatchJob(_translator(), src, tmp_path / "out", ConvertConfig())
    (tmp_path / "nested").symlink_to(src / "sub", target_is_directory=True)
    (src / "sub").mkdir()
    with pytest.raises(BatchError, match="inside the input folder"):
        BatchJob(_translator(), src, tmp_path / "nested", ConvertConfig(recursive=True))


def test_a_photo_removed_during_the_batch_fails_alone(tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    for i in range(4):
        _img(src / f"{i}.png", seed=i)

    def remove_the_last(event):
        if isinstance(event, BatchStarted):  # listed and planned, not yet opened
            (src / "3.png").unlink()

    report = BatchJob(_translator(), src, dst, ConvertConfig(), on_event=remove_the_last).run()
    files = _by_name(report)
    assert files["3.png"].status == "failed" and "No such file" in files["3.png"].detail
    assert [files[f"{i}.png"].status for i in range(3)] == ["converted"] * 3


# -- issue 30: long names, litter of killed exports -------------------------------------------------


@POSIX
@pytest.mark.parametrize("name", ["x" * 251 + ".png", "é" * 121 + "abcd.png", "x" * 200 + ".generator.safetensors"])
def test_a_file_with_the_longest_name_the_disk_takes_is_written_atomically(tmp_path, name):
    """The temporary name once added 14 bytes to the name: names of 242-255 bytes failed "File name too long"."""
    from training_core.fsutil import TEMP_NAME, atomic_path, remove_stale_temp_files

    assert len(os.fsencode(name)) <= 255
    with atomic_path(tmp_path / name) as tmp:
        tmp.write_bytes(b"whole")
        assert TEMP_NAME.match(tmp.name) and len(os.fsencode(tmp.name)) <= 64
        assert tmp.name.endswith(f"{Path(name).suffix}.{tmp.name[-12:-4]}.tmp")  # a cleaner by suffix knows it
        torn = tmp_path / "killed" / tmp.name  # what a kill at this moment would leave
        torn.parent.mkdir()
        torn.write_bytes(b"torn")
    assert (tmp_path / name).read_bytes() == b"whole"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "killed"])
    assert remove_stale_temp_files(tmp_path / "killed", recursive=False, older_than_s=0, suffix=Path(name).suffix) == 1


@POSIX
def test_a_photo_with_a_name_of_246_bytes_converts(tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    name = "é" * 120 + "ab.png"  # 246 bytes: its output has the same name
    _img(src / name)
    files = _by_name(BatchJob(_translator(), src, dst, ConvertConfig()).run())
    assert files[name].status == "converted", files[name].detail
    with Image.open(dst / name) as img:
        assert img.size == (40, 32)


# -- issue 30 (trust): a watched photo that failed while half-copied, then converted -------------


def _wait_for(condition, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _result(name, status):
    from training_core.convert.batch import FileResult

    return FileResult(f"/in/{name}", f"/out/{name}" if status == "converted" else None, status, f"{status} once")


@pytest.mark.parametrize(
    "history,expected",
    [
        ([("late.png", "failed"), ("late.png", "converted")], [("late.png", "converted")]),
        ([("late.png", "failed"), ("late.png", "failed")], [("late.png", "failed")]),
        ([("a.png", "converted"), ("late.png", "failed"), ("b.png", "skipped")], None),
        (
            [("late.png", "failed"), ("a.png", "converted"), ("late.png", "converted")],
            [("a.png", "converted"), ("late.png", "converted")],
        ),
    ],
)
def test_a_later_result_for_the_same_input_replaces_its_earlier_one(history, expected):
    from training_core.convert.watch import latest_result_per_input

    files = [_result(name, status) for name, status in history]
    kept = latest_result_per_input(files)
    assert [(Path(f.input).name, f.status) for f in kept] == (expected or history)
    assert kept[-1] is files[-1]


def test_a_watched_photo_that_failed_half_copied_and_then_converted_counts_as_converted(tmp_path):
    src, dst = tmp_path / "in", tmp_path / "out"
    _img(src / "first.png")
    _img(tmp_path / "whole.png", seed=5)
    whole = (tmp_path / "whole.png").read_bytes()
    events, cancel = [], threading.Event()
    job = BatchJob(_translator(), src, dst, ConvertConfig(), on_event=events.append, cancel=cancel)
    watching = threading.Thread(target=job.watch, kwargs={"poll_s": 0.1}, daemon=True)
    watching.start()
    try:
        _wait_for(lambda: (dst / "first.png").exists())
        (src / "late.png").write_bytes(whole[: len(whole) // 2])  # a copy that stalled half-way
        _wait_for(lambda: any(getattr(e, "status", "") == "failed" for e in events))
        (src / "late.png").write_bytes(whole)  # the copy completes
        _wait_for(lambda: (dst / "late.png").exists())
    finally:
        cancel.set()
        watching.join(30)
    assert [(Path(f.input).name, f.status) for f in job.report.files] == [
        ("first.png", "converted"),
        ("late.png", "converted"),
    ]
    assert not job.report.counts().get("failed")  # what gan-studio-convert's exit code reads
    assert "FAILED" not in (dst / "gan-studio-report.txt").read_text()


def _deny_listing(monkeypatch, folder):
    """os.scandir refuses this folder as a permission problem would (the tests may run as root)."""
    real_scandir, denied = os.scandir, os.path.realpath(folder)

    def scandir(path="."):
        if os.path.realpath(path) == denied:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


@pytest.mark.parametrize("recursive", [False, True])
def test_a_folder_named_like_a_photo_and_an_unreadable_subfolder_are_in_the_conversion_report(
    tmp_path, monkeypatch, recursive
):
    src, dst = tmp_path / "in", tmp_path / "out"
    _img(src / "a.png")
    (src / "x.jpg").mkdir()
    _img(src / "locked" / "b.png")
    _deny_listing(monkeypatch, src / "locked")
    files = _by_name(BatchJob(_translator(), src, dst, ConvertConfig(recursive=recursive)).run())
    assert files["a.png"].status == "converted"
    if recursive:  # x.jpg/ is walked like any folder; locked/ cannot be
        assert "x.jpg" not in files
        assert files["locked"].status == "failed" and "cannot be read" in files["locked"].detail
    else:  # locked/ was never going to be read
        assert files["x.jpg"].status == "failed" and "folder named like an image" in files["x.jpg"].detail
        assert "locked" not in files
