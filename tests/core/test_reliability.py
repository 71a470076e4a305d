"""Faults with real processes and real filesystem conditions; nothing the user owns may be lost."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from faults import tmpfs
from PIL import Image
from reference_nets import ResnetGenerator, get_norm_layer, randomize
from tiny import TINY_PIX2PIX, paired_report

from training_core.config import ConvertConfig
from training_core.convert.batch import BatchError, BatchJob
from training_core.convert.model_file import ModelFileError, load_generators, translator_for_model
from training_core.convert.translator import TranslateOptions, Translator
from training_core.library_import import import_reference
from training_core.models.networks import define_G
from training_core.store import ModelLibrary
from training_core.train.checkpoint import list_checkpoints, read_checkpoint
from training_core.train.control import TrainingControl
from training_core.train.events import Failed, StepMetrics
from training_core.train.trainer import Trainer


def _photos(folder, count, size=(120, 90)):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(folder / f"{i:03d}.png")
    return folder


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _translator():
    torch.manual_seed(0)
    return Translator(define_G(3, 3, 4, "resnet_1blocks", "instance"), 4, options=TranslateOptions(tile=512))


# -- batch conversion ------------------------------------------------------------------------------


def test_sigkill_during_a_batch_leaves_no_fake_outputs_and_a_true_report(tmp_path):
    net = randomize(ResnetGenerator(3, 3, 16, get_norm_layer("instance"), n_blocks=3))
    torch.save(net.state_dict(), tmp_path / "g.pth")
    import_reference([tmp_path / "g.pth"], "slow", ModelLibrary())
    src, dst = _photos(tmp_path / "photos", 40, (400, 300)), tmp_path / "out"
    before = _digest(src)
    code = "import sys; from training_core.cli_convert import convert_main; sys.exit(convert_main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "--model", "slow", "--input", str(src), "--output", str(dst), "--device", "cpu"],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(dst.glob("[0-9]*.png"))) < 5:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert _digest(src) == before
    finished = list(dst.glob("[0-9]*.png"))
    assert 5 <= len(finished) < 40
    for path in finished:  # every file that looks like an output is a whole image
        with Image.open(path) as img:
            img.load()
            assert img.size == (400, 300)
    report = json.loads((dst / "gan-studio-report.json").read_text())  # written as the job went
    for entry in report["files"]:
        if entry["status"] == "converted":
            assert os.path.exists(entry["output"])
    # A rerun with the same model and settings continues: what was converted is skipped, the rest
    # converted, the report covers all.
    config = ConvertConfig()  # the command line's defaults: one set for the CLI and the app
    rerun = BatchJob(translator_for_model(ModelLibrary().get("slow"), "AtoB", "cpu", config), src, dst, config).run()
    counts = rerun.counts()
    # An output moved into place an instant before the kill, before the ledger confirmed it, is redone.
    unconfirmed = [f for f in rerun.files if f.detail == "redone: its earlier conversion did not finish"]
    assert len(unconfirmed) <= 1, [f.detail for f in rerun.files]
    assert counts["skipped"] + len(unconfirmed) == len(finished) and counts["converted"] == 40 - counts["skipped"]
    assert not list(dst.glob(".*.tmp"))  # the killed job's temporary file is gone


def test_a_full_disk_stops_the_batch_with_a_clear_reason(tmp_path):
    src = _photos(tmp_path / "photos", 20, (300, 300))
    with tmpfs(tmp_path / "small", size="700k") as dst:
        report = BatchJob(_translator(), src, dst, ConvertConfig(format="png")).run()
        assert report.stopped.startswith("stopped: No space left on device")
        failed = [f for f in report.files if f.status == "failed"]
        assert failed and "No space left on device" in failed[0].detail
        for path in dst.glob("*.png"):  # what was written is whole
            Image.open(path).load()
        assert not [p for p in dst.iterdir() if p.name.endswith(".tmp")]
    assert len(list(src.iterdir())) == 20


def test_a_read_only_output_folder_is_refused_before_anything_runs(tmp_path):
    src = _photos(tmp_path / "photos", 2)
    with tmpfs(tmp_path / "readonly", read_only=True) as dst, pytest.raises(BatchError, match="not writable"):
        BatchJob(_translator(), src, dst, ConvertConfig())


def test_bad_input_corpus_converts_or_is_skipped_with_a_reason(tmp_path):
    src = tmp_path / "corpus"
    src.mkdir()
    rgb = np.random.default_rng(1).integers(0, 255, (40, 50, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(src / "ok photo é.jpg")
    (src / "zero.jpg").write_bytes(b"")
    (src / "text.jpg").write_text("not an image")
    Image.fromarray(rgb).save(src / "truncated.png")
    data = (src / "truncated.png").read_bytes()
    (src / "truncated.png").write_bytes(data[: len(data) // 2])
    Image.fromarray(rgb).save(src / "truncated.jpg")
    data = (src / "truncated.jpg").read_bytes()
    (src / "truncated.jpg").write_bytes(data[: len(data) // 2])
    Image.fromarray((np.arange(40 * 50).reshape(40, 50) * 30).astype(np.uint16)).save(src / "sixteen.png")
    Image.fromarray(rgb).convert("CMYK").save(src / "cmyk.jpg")
    Image.fromarray(rgb).convert("P").save(src / "palette.png", transparency=0)
    Image.fromarray(rgb).convert("LA").save(src / "grey alpha.png")
    Image.new("RGB", (1, 1)).save(src / "one.png")
    Image.new("L", (3000, 1)).save(src / "line.png")
    rotated = Image.fromarray(rgb)
    exif = rotated.getexif()
    exif[0x0112] = 6
    rotated.save(src / "rotated.jpg", exif=exif.tobytes())
    (src / "loop").mkdir()
    (src / "loop" / "back").symlink_to(src, target_is_directory=True)
    report = BatchJob(_translator(), src, tmp_path / "out", ConvertConfig(recursive=True)).run()
    status = {os.path.basename(f.input): (f.status, f.detail) for f in report.files}
    for name in (
        "ok photo é.jpg",
        "sixteen.png",
        "cmyk.jpg",
        "palette.png",
        "grey alpha.png",
        "one.png",
        "line.png",
        "rotated.jpg",
    ):
        assert status[name][0] == "converted", (name, status[name])
    assert Image.open(tmp_path / "out" / "rotated.jpg").size == (40, 50)  # EXIF rotation applied
    assert Image.open(tmp_path / "out" / "line.png").size == (3000, 1)
    for name, reason in (
        ("zero.jpg", "not an image"),
        ("text.jpg", "not an image"),
        ("truncated.png", "truncated"),
        ("truncated.jpg", "truncated"),
    ):
        assert status[name][0] == "failed" and status[name][1].startswith(reason), (name, status[name])


# -- training --------------------------------------------------------------------------------------


def test_a_full_disk_while_checkpointing_reports_and_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    import errno

    import training_core.train.checkpoint as checkpoint_module

    report = paired_report(tmp_path / "data")
    library = ModelLibrary()
    trainer = Trainer.create(
        report, "full", overrides=dict(TINY_PIX2PIX, iterations=20, checkpoint_every=3), library=library
    )
    real_save = torch.save
    saves = []

    def save(obj, path, *args, **kwargs):
        saves.append(path)
        if len(saves) == 2:  # the second checkpoint meets a full disk half-way
            with open(path, "wb") as f:
                f.write(b"PK partial")
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_save(obj, path, *args, **kwargs)

    monkeypatch.setattr(checkpoint_module.torch, "save", save)
    result = trainer.run()
    assert isinstance(result, Failed) and "No space left on device" in result.message
    assert "last saved checkpoint is intact" in result.message
    (kept,) = list_checkpoints(trainer.entry.run_dir)
    assert kept.name == "iter_000000003.pt" and read_checkpoint(kept)["iteration"] == 3
    assert not list((trainer.entry.run_dir / "checkpoints").glob(".*.tmp"))
    monkeypatch.setattr(checkpoint_module.torch, "save", real_save)
    assert Trainer.reopen("full", library=library).run().completed


@pytest.mark.parametrize("workers", [0, 4])  # with loader processes (as beside a GPU) batches are read ahead,
def test_the_dataset_folder_disappearing_mid_training_saves_and_explains(tmp_path, workers):
    """...so the first read to fail can be a held-out image's, at the first sample point."""
    import shutil

    report = paired_report(tmp_path / "data", train=12, val=2)
    control = TrainingControl()
    library = ModelLibrary()

    def vanish(event):
        if isinstance(event, StepMetrics) and event.iteration == 3:
            shutil.rmtree(tmp_path / "data")

    result = Trainer.create(
        report,
        "gone",
        overrides=dict(TINY_PIX2PIX, iterations=200, batch_size=4, sample_every=1000, num_workers=workers),
        library=library,
        control=control,
        on_event=vanish,
    ).run()
    assert isinstance(result, Failed) and "Cannot read the training data" in result.message
    assert "unreadable" in result.message or "No such file" in result.message
    entry = library.get("gone")
    assert entry.state == "failed" and list_checkpoints(entry.run_dir)


def test_out_of_memory_in_training_is_explained_and_resumable(tmp_path, monkeypatch):
    report = paired_report(tmp_path / "data")
    library = ModelLibrary()
    trainer = Trainer.create(
        report, "oom", overrides=dict(TINY_PIX2PIX, iterations=10, checkpoint_every=3), library=library
    )
    from training_core.models.pix2pix import Pix2PixModel

    real_step = Pix2PixModel.step
    calls = []

    def step(self):
        calls.append(1)
        if len(calls) == 5:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 4.00 GiB")
        return real_step(self)

    monkeypatch.setattr(Pix2PixModel, "step", step)
    result = trainer.run()
    assert isinstance(result, Failed) and "ran out of memory (RAM) at iteration 4" in result.message
    assert library.get("oom").state == "failed"
    monkeypatch.setattr(Pix2PixModel, "step", real_step)
    resumed = Trainer.reopen("oom", library=library).run()
    assert resumed.completed and resumed.iteration == 10


# -- untrusted model files ---------------------------------------------------------------------------


@pytest.fixture
def two_models(tmp_path):
    library = ModelLibrary()
    for name in ("good", "victim"):
        net = randomize(ResnetGenerator(3, 3, 4, get_norm_layer("instance"), n_blocks=1))
        torch.save(net.state_dict(), tmp_path / f"{name}.pth")
        import_reference([tmp_path / f"{name}.pth"], name, library)
    return library


def test_a_truncated_weights_file_is_refused_clearly(two_models):
    victim = two_models.get("victim").weights_path
    victim.write_bytes(victim.read_bytes()[:200])
    with pytest.raises(ModelFileError, match="cannot be read .* damaged or incomplete"):
        load_generators(victim)
    assert {e.name for e in two_models.list()} == {"good", "victim"}
    load_generators(two_models.get("good").weights_path)


def test_weights_with_the_wrong_shapes_are_refused_clearly(two_models, tmp_path):
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    path = two_models.get("victim").weights_path
    with safe_open(str(path), "pt") as f:
        metadata = f.metadata()
    tensors = load_file(path)
    config = json.loads(metadata["config"])
    config["ngf"] = 16  # the description no longer matches the tensors
    save_file(tensors, str(path), metadata={**metadata, "config": json.dumps(config)})
    with pytest.raises(ModelFileError, match="do not fit a resnet_1blocks generator with ngf 16"):
        load_generators(path)


def test_a_model_folder_without_weights_is_refused_and_the_rest_still_listed(two_models):
    two_models.get("victim").weights_path.unlink()
    with pytest.raises(ModelFileError, match="has no trained weights yet"):
        load_generators(two_models.get("victim").weights_path)
    assert {e.name for e in two_models.list()} == {"good", "victim"}


def test_a_model_json_that_is_not_json_marks_only_that_model_damaged(two_models):
    victim = two_models.get("victim")
    (victim.path / "model.json").write_text("{'pickle': true")
    states = {e.name: e.state for e in two_models.list()}
    assert states == {"good": states["good"], victim.id: "damaged"} and states["good"] != "damaged"


@pytest.mark.parametrize(
    "change,message",
    [
        ({"ngf": 4096}, r"ngf must be in \[1, 256\], got 4096"),
        ({"netG": "resnet_100000blocks"}, "netG 'resnet_100000blocks' is not valid"),
        ({"netG": "unet_1048576"}, "netG 'unet_1048576' is not valid"),
        ({"input_nc": 10_000}, r"input_nc must be in \[1, 4\], got 10000"),
        (None, "must be a JSON object"),
    ],
)
def test_tampered_network_settings_are_refused_before_anything_is_allocated(tmp_path, change, message):
    """A model file's metadata decides what is built: it is checked against bounds first."""
    from safetensors.torch import save_file

    net = randomize(ResnetGenerator(3, 3, 8, get_norm_layer("instance"), n_blocks=2))
    torch.save(net.state_dict(), tmp_path / "g.pth")
    entry = import_reference([tmp_path / "g.pth"], "t", ModelLibrary())
    with safe_open_file(entry.weights_path) as (metadata, tensors):
        config = json.loads(metadata["config"])
    metadata["config"] = "[1]" if change is None else json.dumps({**config, **change})
    save_file(tensors, str(entry.weights_path), metadata=metadata)
    with pytest.raises(ModelFileError, match=message):
        load_generators(entry.weights_path)


def safe_open_file(path):
    import contextlib

    from safetensors import safe_open

    @contextlib.contextmanager
    def opened():
        with safe_open(str(path), "pt") as f:
            yield dict(f.metadata()), {k: f.get_tensor(k) for k in f.keys()}

    return opened()
