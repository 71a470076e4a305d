"""Folders that hold photos and clips: each converts by its kind, with the photos' ledger, skip and report rules."""

import json
import threading

import av
import numpy as np
import pytest
import torch
from clips import FRAMES, make_clip, photos_and_clip
from PIL import Image

from training_core.config import ConvertConfig
from training_core.convert.batch import BatchJob, ClipProgress, FileDone
from training_core.convert.clip_files import clip_output_name
from training_core.convert.ledger import LEDGER_NAME
from training_core.convert.translator import TranslateOptions, Translator
from training_core.convert.video import VideoOptions
from training_core.models.networks import define_G

QUICK = VideoOptions(segment_seconds=0.25)


@pytest.fixture
def translator():
    torch.manual_seed(0)
    return Translator(define_G(3, 3, 4, "resnet_1blocks", "instance"), 4, options=TranslateOptions(tile=512))


def _frame_count(path):
    with av.open(str(path)) as clip:
        return sum(1 for _ in clip.decode(video=0))


def _done(events):
    return {e.input.name: (e.status, e.detail) for e in events if isinstance(e, FileDone)}


def test_photos_and_a_clip_convert_each_by_its_kind_and_a_rerun_skips_them(tmp_path, translator):
    src, dst = photos_and_clip(tmp_path / "in"), tmp_path / "out"
    events = []
    report = BatchJob(translator, src, dst, ConvertConfig(), "ink", events.append, video_options=QUICK).run()

    assert report.counts() == {"converted": 3}
    assert _done(events) == {"a.png": ("converted", ""), "b.jpg": ("converted", ""), "walk.mp4": ("converted", "")}
    assert Image.open(dst / "a.png").size == (40, 30)
    assert _frame_count(dst / "walk.mp4") == FRAMES
    frames = [e.frames_done for e in events if isinstance(e, ClipProgress)]
    assert frames and frames[-1] == FRAMES and frames == sorted(frames)
    assert all(e.input == src / "walk.mp4" and e.frames_total == FRAMES for e in events if isinstance(e, ClipProgress))
    # done/total count files, the clip among them
    assert [e.done for e in events if isinstance(e, FileDone)] == [1, 2, 3]
    assert {e.total for e in events if isinstance(e, FileDone)} == {3}
    ledger = [json.loads(line) for line in (dst / LEDGER_NAME).read_text().splitlines()]
    clip = [r for r in ledger if r["output"] == "walk.mp4"][-1]
    assert clip["done"] and clip["input"] == "walk.mp4" and clip["model"] == "ink" and clip["source"]["hash"]
    assert clip["settings"]["video_codec"] == "h264" and clip["weights"] == translator.weights_digest()
    assert sorted(p.name for p in dst.iterdir() if not p.name.startswith(".")) == [
        "a.png",
        "b.jpg",
        "gan-studio-report.json",
        "gan-studio-report.txt",
        "gan-studio-reports",
        "walk.mp4",
    ]

    again = []
    second = BatchJob(translator, src, dst, ConvertConfig(), "ink", again.append, video_options=QUICK).run()
    assert second.counts() == {"skipped": 3}
    assert _done(again)["walk.mp4"] == ("skipped", "already converted with this model and these settings")
    assert not [e for e in again if isinstance(e, ClipProgress)]
    assert next(e.output for e in again if isinstance(e, FileDone) and e.input.name == "walk.mp4") == dst / "walk.mp4"


def test_other_clip_settings_or_an_edited_clip_redo_it_saying_why(tmp_path, translator):
    src, dst = photos_and_clip(tmp_path / "in"), tmp_path / "out"
    BatchJob(translator, src, dst, ConvertConfig(), video_options=QUICK).run()
    events = []
    sharper = VideoOptions(segment_seconds=0.25, quality=30)
    BatchJob(translator, src, dst, ConvertConfig(), on_event=events.append, video_options=sharper).run()
    assert _done(events)["walk.mp4"] == ("converted", "redone: the setting video_quality changed (18 → 30)")
    assert _done(events)["a.png"][0] == "skipped"  # the photos' settings did not change
    make_clip(src / "walk.mp4", frames=12)  # the clip edited in place
    events = []
    BatchJob(translator, src, dst, ConvertConfig(), on_event=events.append, video_options=sharper).run()
    assert _done(events)["walk.mp4"] == ("converted", "redone: the clip changed")
    assert _frame_count(dst / "walk.mp4") == 12


def test_a_broken_clip_is_one_failed_file_and_the_others_convert(tmp_path, translator):
    src, dst = photos_and_clip(tmp_path / "in", clip=False), tmp_path / "out"
    (src / "holiday.mp4").write_text("not a video at all")
    (src / "cut.mov").write_bytes(make_clip(tmp_path / "whole.mov", container="mov").read_bytes()[:3000])
    report = BatchJob(translator, src, dst, ConvertConfig(), video_options=QUICK).run()

    failed = {f.input.rsplit("/", 1)[-1]: f.detail for f in report.files if f.status == "failed"}
    assert failed["holiday.mp4"].startswith("not a video")
    assert "truncated" in failed["cut.mov"] or "damaged" in failed["cut.mov"]
    assert report.counts() == {"converted": 2, "failed": 2}
    assert not (dst / "holiday.mp4").exists() and not list(dst.glob("cut.mov*"))
    assert not [p for p in dst.iterdir() if p.name.endswith((".video-work", ".tmp"))]
    assert "holiday.mp4: not a video" in (dst / "gan-studio-report.txt").read_text()


def test_a_file_gan_studio_did_not_write_is_kept_unless_overwriting_is_asked(tmp_path, translator):
    src, dst = photos_and_clip(tmp_path / "in"), tmp_path / "out"
    dst.mkdir()
    (dst / "walk.mp4").write_bytes(b"the user's own film")
    report = BatchJob(translator, src, dst, ConvertConfig(), video_options=QUICK).run()
    clip = next(f for f in report.files if f.input.endswith("walk.mp4"))
    assert clip.status == "failed" and "GAN Studio did not write it" in clip.detail
    assert (dst / "walk.mp4").read_bytes() == b"the user's own film"

    overwrite = ConvertConfig(skip_existing=False)
    report = BatchJob(translator, src, dst, overwrite, video_options=QUICK).run()
    assert next(f for f in report.files if f.input.endswith("walk.mp4")).status == "converted"
    assert _frame_count(dst / "walk.mp4") == FRAMES


def test_a_cancelled_clip_leaves_no_output_and_a_rerun_continues_from_its_segments(tmp_path, translator):
    src, dst = photos_and_clip(tmp_path / "in"), tmp_path / "out"
    cancel = threading.Event()
    events = []

    def on_event(event):
        events.append(event)
        if isinstance(event, ClipProgress) and event.frames_done >= 14:
            cancel.set()

    report = BatchJob(translator, src, dst, ConvertConfig(), None, on_event, cancel, video_options=QUICK).run()
    assert report.cancelled and not (dst / "walk.mp4").exists()
    assert "walk.mp4" not in _done(events)  # not finished: not reported as converted or failed

    events = []
    report = BatchJob(translator, src, dst, ConvertConfig(), on_event=events.append, video_options=QUICK).run()
    progress = [e for e in events if isinstance(e, ClipProgress)]
    assert progress[0].resumed_from >= 6 and progress[0].frames_done > progress[0].resumed_from
    assert _done(events)["walk.mp4"] == ("converted", "") and _frame_count(dst / "walk.mp4") == FRAMES


def test_cancel_stops_within_a_clip_at_once(tmp_path, translator):
    import time

    src, dst = photos_and_clip(tmp_path / "in"), tmp_path / "out"
    cancel = threading.Event()
    when = {}

    def on_event(event):
        if isinstance(event, ClipProgress) and not cancel.is_set():
            when["cancelled"] = time.perf_counter()
            cancel.set()

    BatchJob(translator, src, dst, ConvertConfig(), None, on_event, cancel, video_options=QUICK).run()
    assert time.perf_counter() - when["cancelled"] < 1.0


def test_clip_outputs_are_mp4_by_default_or_keep_a_container_that_holds_the_codec():
    names = ("a.mp4", "b.MOV", "c.mkv", "d.webm", "e.avi", "f.m4v")
    assert [clip_output_name(n) for n in names] == [
        "a.mp4",
        "b.MOV.mp4",
        "c.mkv.mp4",
        "d.webm.mp4",
        "e.avi.mp4",
        "f.m4v.mp4",
    ]
    assert [clip_output_name(n, "same") for n in names] == [
        "a.mp4",
        "b.MOV",
        "c.mkv",
        "d.webm.mp4",  # WebM holds VP9, not H.264
        "e.avi.mp4",
        "f.m4v.mp4",
    ]
    assert [clip_output_name(n, "same", "vp9") for n in names[:4]] == ["a.mp4", "b.MOV.mp4", "c.mkv", "d.webm"]


def test_a_folders_clips_keep_their_container_when_asked_with_its_codec_and_sound(tmp_path, translator):
    src, dst = photos_and_clip(tmp_path / "in", clip=False), tmp_path / "out"
    make_clip(src / "walk.mov", container="mov")
    make_clip(src / "dance.webm", container="webm", codec="libvpx-vp9", audio_codec="libopus")
    config = ConvertConfig(video_container="same", video_codec="vp9", video_quality=40)
    report = BatchJob(translator, src, dst, config).run()
    assert report.counts() == {"converted": 4}
    # VP9 fits WebM, not MOV: the MOV clip becomes MP4, the WebM clip stays WebM, each with its sound.
    for name, container in (("walk.mov.mp4", "mp4"), ("dance.webm", "webm")):
        with av.open(str(dst / name)) as clip:
            assert container in clip.format.name
            assert clip.streams.video[0].codec_context.name == "vp9" and len(clip.streams.audio) == 1
        assert _frame_count(dst / name) == FRAMES
    ledger = [json.loads(line) for line in (dst / LEDGER_NAME).read_text().splitlines()]
    assert {r["settings"]["video_quality"] for r in ledger if r["output"] == "dance.webm"} == {"40"}


def test_gan_studio_convert_converts_a_folders_clip_with_the_video_options(tmp_path):
    from reference_nets import ResnetGenerator, get_norm_layer, randomize

    from training_core.cli_convert import convert_main
    from training_core.library_import import import_reference
    from training_core.store import ModelLibrary

    net = randomize(ResnetGenerator(3, 3, 4, get_norm_layer("instance"), n_blocks=1), seed=0)
    torch.save(net.state_dict(), tmp_path / "ink.pth")
    import_reference([tmp_path / "ink.pth"], "ink", ModelLibrary())
    src, dst = photos_and_clip(tmp_path / "in"), tmp_path / "out"
    (src / "holiday.mov").write_text("not a video")
    argv = ["--model", "ink", "--input", str(src), "--output", str(dst), "--device", "cpu", "--video-quality", "30"]
    assert convert_main(argv) == 1  # one file failed: the report says which
    assert _frame_count(dst / "walk.mp4") == FRAMES and (dst / "a.png").is_file()
    ledger = [json.loads(line) for line in (dst / LEDGER_NAME).read_text().splitlines()]
    assert [r["settings"]["video_quality"] for r in ledger if r["output"] == "walk.mp4" and r["done"]] == ["30"]
    assert "holiday.mov: not a video" in (dst / "gan-studio-report.txt").read_text()
    assert convert_main(["--model", "ink", "--input", str(src), "--output", str(dst), "--video-quality", "99"]) == 2


def test_frame_at_decodes_the_frame_shown_at_a_time_and_names_a_file_that_is_no_clip(tmp_path):
    from clips import picture

    from training_core.convert.video_io import clip_seconds, frame_at
    from training_core.convert.video_probe import VideoError

    clip = make_clip(tmp_path / "walk.mp4")
    assert clip_seconds(clip) == pytest.approx(1.0, abs=0.05)

    def nearest(frame):  # which source picture a decoded frame is (H.264 changes pixels a little)
        return int(np.argmin([np.abs(frame.astype(int) - picture(i).astype(int)).mean() for i in range(FRAMES)]))

    assert nearest(frame_at(clip, 0.0)) == 0
    assert nearest(frame_at(clip, 0.5)) == 12
    assert nearest(frame_at(clip, 99.0)) == FRAMES - 1  # past the end: the last frame
    (tmp_path / "notes.mp4").write_text("hello")
    with pytest.raises(VideoError, match="notes.mp4: not a video"):
        frame_at(tmp_path / "notes.mp4", 0.0)


def test_a_disk_that_fills_during_a_clip_stops_the_batch_with_the_reason(tmp_path, translator):
    from faults import tmpfs

    src = tmp_path / "in"
    src.mkdir()
    for name in ("a.mp4", "b.mp4", "c.mp4"):
        make_clip(src / name, frames=48)
    with tmpfs(tmp_path / "small", size="64k") as disk:
        report = BatchJob(translator, src, disk, ConvertConfig(), video_options=QUICK).run()
        failed = [f for f in report.files if f.status == "failed"]
        assert report.stopped.startswith("stopped: No space left on device")
        assert len(failed) == 1 and "is full" in failed[0].detail and "run it again" in failed[0].detail
        assert len(report.files) < 3  # the clips after it were not tried
        assert not [p for p in disk.rglob("*") if p.name.endswith(".tmp")]


def test_watch_mode_converts_a_clip_that_arrives_once_it_stops_growing(tmp_path, translator):
    import time

    src, dst = photos_and_clip(tmp_path / "inbox", clip=False), tmp_path / "out"
    data = make_clip(tmp_path / "walk.mp4").read_bytes()
    cancel = threading.Event()
    events = []
    job = BatchJob(translator, src, dst, ConvertConfig(), None, events.append, cancel, video_options=QUICK)
    thread = threading.Thread(target=job.watch, kwargs={"poll_s": 0.1})
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not (dst / "b.jpg").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        # A clip copied slowly: read half-written, it would fail as truncated.
        with open(src / "walk.mp4", "wb") as f:
            f.write(data[: len(data) // 3])
            f.flush()
            time.sleep(0.8)
            f.write(data[len(data) // 3 :])
        while not (dst / "walk.mp4").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        cancel.set()
        thread.join(timeout=60)
    assert _frame_count(dst / "walk.mp4") == FRAMES
    assert [e.status for e in events if isinstance(e, FileDone) and e.input.name == "walk.mp4"] == ["converted"]
    assert {f.input.rsplit("/", 1)[-1]: f.status for f in job.report.files} == {
        "a.png": "converted",
        "b.jpg": "converted",
        "walk.mp4": "converted",
    }
