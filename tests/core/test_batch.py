import hashlib
import threading
import time

import numpy as np
import pytest
import torch
from PIL import Image

from training_core.config import ConvertConfig
from training_core.convert.batch import BatchError, BatchFinished, BatchJob, BatchStarted, FileDone
from training_core.convert.translator import TranslateOptions, Translator
from training_core.models.networks import define_G


@pytest.fixture
def translator():
    torch.manual_seed(0)
    return Translator(define_G(3, 3, 4, "resnet_1blocks", "instance"), 4, options=TranslateOptions(tile=512))


def _img(path, w=40, h=30, mode="RGB", seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).convert(mode).save(path)
    return path


def _digest(folder):
    return {
        p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_folder_converts_at_full_size_and_reports_every_failure(tmp_path, translator):
    src, dst = tmp_path / "photos", tmp_path / "out"
    _img(src / "a.jpg", 41, 27)
    _img(src / "b.png", 300, 20, mode="L")
    _img(src / "c.webp", 16, 64)
    (src / "empty.jpg").write_bytes(b"")
    (src / "notes.png").write_text("hello")
    good = (src / "b.png").read_bytes()
    (src / "cut.png").write_bytes(good[: len(good) // 2])
    before = _digest(src)
    events = []
    report = BatchJob(translator, src, dst, ConvertConfig(), "m", events.append).run()

    assert _digest(src) == before  # inputs untouched
    assert Image.open(dst / "a.jpg").size == (41, 27) and Image.open(dst / "a.jpg").format == "JPEG"
    assert Image.open(dst / "b.png").size == (300, 20) and Image.open(dst / "b.png").mode == "RGB"
    assert Image.open(dst / "c.webp").size == (16, 64)
    failed = {f.input.rsplit("/", 1)[-1]: f.detail for f in report.files if f.status == "failed"}
    assert set(failed) == {"empty.jpg", "notes.png", "cut.png"}
    assert failed["empty.jpg"].startswith("not an image") and failed["cut.png"].startswith("truncated")
    assert report.counts() == {"converted": 3, "failed": 3}
    assert isinstance(events[0], BatchStarted) and events[0].total == 6
    assert [e.done for e in events if isinstance(e, FileDone)] == [1, 2, 3, 4, 5, 6]
    assert isinstance(events[-1], BatchFinished) and events[-1].counts == {"converted": 3, "failed": 3}
    text = (dst / "gan-studio-report.txt").read_text()
    assert "FAILED" in text and "cut.png" in text and "3 converted, 3 failed" in text
    assert not list(dst.glob(".*.tmp"))


def test_rerun_skips_what_exists_and_formats_are_honoured(tmp_path, translator):
    src, dst = tmp_path / "photos", tmp_path / "out"
    _img(src / "a.jpg")
    _img(src / "b.gif")
    first = BatchJob(translator, src, dst, ConvertConfig()).run()
    assert first.counts() == {"converted": 2}
    assert (dst / "b.gif.png").exists()  # GIF: written losslessly as PNG, after its whole name
    second = BatchJob(translator, src, dst, ConvertConfig()).run()
    assert second.counts() == {"skipped": 2}
    third = BatchJob(translator, src, tmp_path / "webp", ConvertConfig(format="webp", quality=80)).run()
    assert third.counts() == {"converted": 2}
    assert Image.open(tmp_path / "webp" / "a.jpg.webp").format == "WEBP"


def test_recursive_mirrors_subfolders_and_outputs_are_named_after_whole_input_names(tmp_path, translator):
    src, dst = tmp_path / "photos", tmp_path / "out"
    _img(src / "x.jpg")
    _img(src / "x.png", seed=1)
    _img(src / "trip" / "day 1" / "café.jpg")
    report = BatchJob(translator, src, dst, ConvertConfig(recursive=True, format="png")).run()
    assert report.counts() == {"converted": 3}
    outputs = sorted(str(p.relative_to(dst)) for p in dst.rglob("*.png"))
    assert outputs == ["trip/day 1/café.jpg.png", "x.jpg.png", "x.png"]


@pytest.mark.parametrize("recursive", [False, True])
def test_output_folder_equal_to_input_is_refused(tmp_path, translator, recursive):
    _img(tmp_path / "photos" / "a.jpg")
    with pytest.raises(BatchError, match="output folder is the input folder"):
        BatchJob(translator, tmp_path / "photos", tmp_path / "photos", ConvertConfig(recursive=recursive))


def test_output_inside_input_is_refused_when_recursive_and_ignored_otherwise(tmp_path, translator):
    src = tmp_path / "photos"
    _img(src / "a.jpg")
    with pytest.raises(BatchError, match="inside the input folder"):
        BatchJob(translator, src, src / "converted", ConvertConfig(recursive=True))
    report = BatchJob(translator, src, src / "converted", ConvertConfig()).run()
    assert report.counts() == {"converted": 1}
    again = BatchJob(translator, src, src / "converted", ConvertConfig()).run()
    assert again.counts() == {"skipped": 1}  # its own outputs are never taken as inputs


def test_cancel_stops_within_one_image_and_the_report_says_so(tmp_path, translator):
    src, dst = tmp_path / "photos", tmp_path / "out"
    for i in range(12):
        _img(src / f"{i}.png", seed=i)
    cancel = threading.Event()

    def on_event(event):
        if isinstance(event, FileDone) and event.done == 2:
            cancel.set()

    report = BatchJob(translator, src, dst, ConvertConfig(), on_event=on_event, cancel=cancel).run()
    assert report.cancelled
    converted = len(list(dst.glob("*.png")))
    assert 2 <= converted <= 5  # the images already in flight finish; nothing new starts
    assert '"cancelled": true' in (dst / "gan-studio-report.json").read_text()
    resumed = BatchJob(translator, src, dst, ConvertConfig()).run()
    assert resumed.counts() == {"skipped": converted, "converted": 12 - converted}


def test_unwritable_output_folder_is_refused(tmp_path, translator):
    import os

    if os.geteuid() == 0:
        pytest.skip("root can write anywhere")
    dst = tmp_path / "locked"
    dst.mkdir(mode=0o500)
    with pytest.raises(BatchError, match="not writable"):
        BatchJob(translator, _img(tmp_path / "p" / "a.png").parent, dst, ConvertConfig())


def test_watch_mode_converts_files_that_arrive_once_complete(tmp_path, translator):
    src, dst = tmp_path / "inbox", tmp_path / "out"
    _img(src / "already.png")
    cancel = threading.Event()
    job = BatchJob(translator, src, dst, ConvertConfig(), cancel=cancel)
    thread = threading.Thread(target=job.watch, kwargs={"poll_s": 0.1})
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not (dst / "already.png").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        # A file copied slowly: it must not be converted half-written.
        data = _img(tmp_path / "staging" / "new.png", 64, 48, seed=3).read_bytes()
        with open(src / "new.png", "wb") as f:
            f.write(data[:100])
            f.flush()
            time.sleep(0.8)
            f.write(data[100:])
        while not (dst / "new.png").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        cancel.set()
        thread.join(timeout=20)
    assert Image.open(dst / "new.png").size == (64, 48)
    statuses = {f.input.rsplit("/", 1)[-1]: f.status for f in job.report.files}
    assert statuses == {"already.png": "converted", "new.png": "converted"}
