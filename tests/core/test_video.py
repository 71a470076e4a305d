"""Clips convert frame by frame: frames, timing and sound kept, flicker held down, resumable after a kill.

The clips are made here with PyAV (64x48, 24 frames at 24 fps, a sine tone in
AAC); the generator is a tiny untrained ResNet, as in test_batch.py.
"""

import argparse
import hashlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from clips import FPS, FRAMES, H, W, make_clip, picture
from PIL import Image

from training_core.convert.settings import add_options
from training_core.convert.translator import TranslateOptions, Translator
from training_core.convert.video import VideoError, VideoOptions, VideoProgress, convert_video
from training_core.convert.video_cli import add_video_options, is_clip, run_clip
from training_core.errors import GanStudioError
from training_core.models.networks import define_G

REPO = Path(__file__).resolve().parents[2]


def _translator():
    torch.manual_seed(0)
    return Translator(define_G(3, 3, 4, "resnet_1blocks", "instance"), 4, options=TranslateOptions(tile=512))


@pytest.fixture
def translator():
    return _translator()


def _frames(path):
    with av.open(str(path)) as clip:
        return [(f.pts, f.time, f.to_ndarray(format="rgb24")) for f in clip.decode(video=0)]


def _audio_packets(path):
    with av.open(str(path)) as clip:
        return [(p.pts, bytes(p)) for p in clip.demux(audio=0) if p.size]


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_a_clip_converts_with_its_frames_timing_and_sound(tmp_path, translator):
    clip = make_clip(tmp_path / "walk.mp4")
    before = _digest(tmp_path)
    events = []
    report = convert_video(
        translator, clip, tmp_path / "out" / "walk.mp4", VideoOptions(segment_seconds=0.25), events.append
    )

    assert _digest(tmp_path) == before  # the input untouched
    src, out = _frames(clip), _frames(tmp_path / "out" / "walk.mp4")
    assert len(out) == len(src) == FRAMES
    assert [t for _, t, _ in out] == pytest.approx([t for _, t, _ in src], abs=1e-6)
    assert out[0][2].shape == (H, W, 3)
    assert _audio_packets(tmp_path / "out" / "walk.mp4") == _audio_packets(clip)
    with av.open(str(tmp_path / "out" / "walk.mp4")) as back:
        assert abs(float(back.duration / 1e6) - FRAMES / FPS) <= 1 / FPS + 0.05
        assert back.streams.video[0].average_rate == FPS
    assert report.frames == FRAMES and report.audio_streams == 1 and not report.cancelled
    assert report.duration_s == pytest.approx(FRAMES / FPS, abs=1 / FPS)
    assert [e.frames_done for e in events] == list(range(1, FRAMES + 1))
    assert all(isinstance(e, VideoProgress) and e.frames_total == FRAMES for e in events)
    assert events[-1].frames_per_s > 0
    assert "flicker index" in report.text() and report.flicker_index > 0
    # Nothing left beside the output but the output itself: no work folder, no temporary file.
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["walk.mp4"]


def test_variable_frame_rate_timestamps_and_rotation_are_kept(tmp_path, translator):
    pts = [0, 1, 2, 4, 5, 8, 9, 10, 13, 14, 15, 16]  # gaps: a phone that dropped frames
    clip = make_clip(tmp_path / "vfr.mp4", frames=len(pts), pts=pts, rotation=90, audio=False)
    convert_video(translator, clip, tmp_path / "vfr-out.mp4", VideoOptions(segment_seconds=0.2))

    src, out = _frames(clip), _frames(tmp_path / "vfr-out.mp4")
    assert [t for _, t, _ in out] == pytest.approx([t for _, t, _ in src], abs=1e-6)
    with av.open(str(tmp_path / "vfr-out.mp4")) as back:
        assert next(back.decode(video=0)).rotation == 90


def test_a_trial_range_converts_only_its_frames_and_starts_at_zero(tmp_path, translator):
    clip = make_clip(tmp_path / "long.mp4")
    report = convert_video(translator, clip, tmp_path / "trial.mp4", VideoOptions(start=0.25, duration=0.25))

    out = _frames(tmp_path / "trial.mp4")
    assert len(out) == report.frames == 6
    assert out[0][1] == pytest.approx(0.0, abs=1e-6)
    assert _audio_packets(tmp_path / "trial.mp4")  # the sound of that range comes along


def _brightness(frames):
    return [float(f.mean()) for _, _, f in frames]


def test_held_statistics_flicker_less_than_per_frame_statistics_on_a_clip_whose_light_changes(tmp_path, translator):
    # A still picture whose left half brightens frame by frame. Per-frame instance norm moves every pixel's
    # normalisation with the frame's mean: the untouched right half changes in the output. Held, it stays.
    clip = make_clip(tmp_path / "lamp.mp4", lamp=4.0, audio=False)
    held = convert_video(translator, clip, tmp_path / "held.mp4", VideoOptions(hold_stats=True))
    per_frame = convert_video(translator, clip, tmp_path / "per-frame.mp4", VideoOptions(hold_stats=False))

    assert held.statistics.startswith("held") and per_frame.statistics == "per frame"
    assert held.flicker_index < per_frame.flicker_index
    assert f"{held.flicker_index:.3f}" in held.text()

    # The right half, away from the lamp's edge (the network sees 10 px around a pixel), changes far less held.
    def right_change(path):
        frames = [f[:, W // 2 + 12 :].astype(float) for _, _, f in _frames(path)]
        return np.mean([np.abs(b - a).mean() for a, b in zip(frames, frames[1:])])

    assert right_change(tmp_path / "held.mp4") < right_change(tmp_path / "per-frame.mp4") / 3


class _Unchanged:
    """A translator that gives each frame back as it is: what colour matching does is all that changes."""

    def translate(self, image):
        return image


def test_colour_matching_holds_the_first_frames_colours(tmp_path):
    clip = make_clip(tmp_path / "lamp.mp4", lamp=4.0, audio=False, frames=12)
    plain = convert_video(_Unchanged(), clip, tmp_path / "plain.mp4")
    matched = convert_video(_Unchanged(), clip, tmp_path / "matched.mp4", VideoOptions(colour_match=True))

    assert matched.colour_match and "colours matched" in matched.text()
    lit = _brightness(_frames(tmp_path / "plain.mp4"))
    assert np.ptp(lit) > 15  # the lamp brightens the picture by about 22 grey levels
    held = _brightness(_frames(tmp_path / "matched.mp4"))
    assert np.ptp(held) < 2 and abs(held[0] - lit[0]) < 1  # every frame at the first one's brightness
    assert matched.flicker_index < plain.flicker_index == 1.0
    assert not plain.notes  # nothing to say of statistics for a translator without a network


def test_cancel_stops_within_a_frame_and_a_rerun_continues(tmp_path, translator):
    clip = make_clip(tmp_path / "walk.mp4")
    cancel = threading.Event()

    def stop_at_nine(event):
        if event.frames_done == 9:
            cancel.set()

    first = convert_video(
        translator, clip, tmp_path / "out.mp4", VideoOptions(segment_seconds=0.25), stop_at_nine, cancel
    )
    assert first.cancelled and "run it again" in first.text()
    assert not (tmp_path / "out.mp4").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".mp4")] == ["walk.mp4"]

    events = []
    second = convert_video(translator, clip, tmp_path / "out.mp4", VideoOptions(segment_seconds=0.25), events.append)
    assert second.resumed_from == 6  # the one finished segment; the frames after it are done again
    assert events[0].frames_done == 7 and events[0].resumed_from == 6
    assert len(_frames(tmp_path / "out.mp4")) == FRAMES


def test_a_rerun_with_other_settings_starts_over(tmp_path, translator):
    clip = make_clip(tmp_path / "walk.mp4", audio=False)
    cancel = threading.Event()
    options = VideoOptions(segment_seconds=0.25)
    stop = lambda event: event.frames_done == 13 and cancel.set()  # noqa: E731
    assert convert_video(translator, clip, tmp_path / "out.mp4", options, stop, cancel).cancelled
    assert (
        convert_video(
            translator, clip, tmp_path / "out.mp4", VideoOptions(segment_seconds=0.25, quality=30)
        ).resumed_from
        == 0
    )


_KILLED_WORKER = """
import os, sys, time
sys.path.insert(0, {repo!r})
sys.path.insert(0, {tests!r})
from test_video import _translator
from training_core.convert.video import VideoOptions, convert_video

def progress(event):
    if event.frames_done == 14 and os.environ.get("STOP_AT_14"):  # inside the third segment
        open({marker!r}, "w").close()
        time.sleep(600)

convert_video(_translator(), {clip!r}, {output!r}, VideoOptions(segment_seconds=0.25), progress)
"""


def _run_worker(tmp_path, clip, output, stop):
    code = _KILLED_WORKER.format(
        repo=str(REPO),
        tests=str(Path(__file__).parent),
        marker=str(tmp_path / "half"),
        clip=str(clip),
        output=str(output),
    )
    env = dict(os.environ, STOP_AT_14="1" if stop else "")
    return subprocess.Popen([sys.executable, "-c", code], env=env, cwd=tmp_path)


def _wait_for(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_conversion_killed_at_half_resumes_with_the_same_frames(tmp_path, translator):
    clip = make_clip(tmp_path / "walk.mp4")
    whole = tmp_path / "whole.mp4"
    convert_video(translator, clip, whole, VideoOptions(segment_seconds=0.25))

    output = tmp_path / "resumed.mp4"
    worker = _run_worker(tmp_path, clip, output, stop=True)
    try:
        _wait_for(lambda: (tmp_path / "half").exists() or worker.poll() is not None)
        assert worker.poll() is None, "the worker ended before it was killed"
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert not output.exists()  # nothing looks finished
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".mp4") and p.name not in ("walk.mp4", "whole.mp4")]

    report = convert_video(translator, clip, output, VideoOptions(segment_seconds=0.25))
    assert report.resumed_from == 12  # two finished segments of six frames
    resumed, uninterrupted = _frames(output), _frames(whole)
    assert len(resumed) == FRAMES
    assert all(a[0] == b[0] and np.array_equal(a[2], b[2]) for a, b in zip(resumed, uninterrupted))
    assert _audio_packets(output) == _audio_packets(clip)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def _audio_only(path):
    with av.open(str(path), "w", format="mp4") as out:
        tone = out.add_stream("aac", rate=44100)
        samples = np.zeros((1, 44100), np.float32)
        sound = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        sound.sample_rate, sound.pts = 44100, 0
        for packet in [*tone.encode(sound), *tone.encode()]:
            out.mux(packet)
    return path


def _bad_clips(folder):
    good = make_clip(folder / "good.mp4").read_bytes()
    (folder / "notes.mp4").write_text("a shopping list, not a video\n" * 20)
    (folder / "empty.mov").write_bytes(b"")
    (folder / "cut.mp4").write_bytes(good[: len(good) // 2])  # a copy that stopped half-way
    (folder / "odd-codec.mp4").write_bytes(good.replace(b"avc1", b"zzz1"))  # a codec nothing here decodes
    _audio_only(folder / "voice.mp4")
    return {
        "notes.mp4": "not a video",
        "empty.mov": "empty file",
        "cut.mp4": "truncated or damaged",
        "odd-codec.mp4": "cannot be decoded here",
        "voice.mp4": "no video stream",
    }


def test_bad_clips_are_refused_naming_the_file_and_nothing_is_written(tmp_path, translator):
    src, out = tmp_path / "clips", tmp_path / "out"
    src.mkdir()
    expected = _bad_clips(src)
    before = _digest(src)
    for name, reason in expected.items():
        with pytest.raises(VideoError) as caught:
            convert_video(translator, src / name, out / f"{name}.mp4")
        assert isinstance(caught.value, GanStudioError)
        assert str(caught.value).startswith(str(src / name)) and reason in str(caught.value), str(caught.value)
        assert "Traceback" not in str(caught.value) and "\n" not in str(caught.value)
    assert _digest(src) == before
    assert not out.exists() or not list(out.iterdir())
    # The good clip of the same folder still converts.
    assert convert_video(translator, src / "good.mp4", out / "good.mp4").frames == FRAMES


def test_a_clip_cut_after_its_index_is_truncated_not_short(tmp_path, translator):
    # The index first (as phones and editors write them), the pictures cut off: the frames stop early.
    clip = make_clip(tmp_path / "whole.mp4", audio=False)
    fast = tmp_path / "indexed-first.mp4"
    with av.open(str(clip)) as src, av.open(str(fast), "w", format="mp4", options={"movflags": "faststart"}) as dst:
        stream = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                dst.mux(packet)
    data = fast.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) * 2 // 3])

    with pytest.raises(VideoError, match="truncated") as caught:
        convert_video(translator, tmp_path / "cut.mp4", tmp_path / "out.mp4")
    assert "cut.mp4" in str(caught.value)
    assert not (tmp_path / "out.mp4").exists()


def test_the_output_is_never_the_input_nor_a_file_already_there(tmp_path, translator):
    clip = make_clip(tmp_path / "walk.mp4", audio=False, frames=4)
    before = clip.read_bytes()
    (tmp_path / "link.mp4").symlink_to(clip)
    for output in (clip, tmp_path / "link.mp4", tmp_path / "." / "walk.mp4"):
        with pytest.raises(VideoError, match="would be the input"):
            convert_video(translator, clip, output, VideoOptions(overwrite=True))
    (tmp_path / "mine.mp4").write_bytes(b"the user's own file")
    with pytest.raises(VideoError, match="exists already"):
        convert_video(translator, clip, tmp_path / "mine.mp4")
    assert (tmp_path / "mine.mp4").read_bytes() == b"the user's own file"
    with pytest.raises(GanStudioError, match="must end in"):
        convert_video(translator, clip, tmp_path / "walk.txt")
    assert clip.read_bytes() == before
    convert_video(translator, clip, tmp_path / "mine.mp4", VideoOptions(overwrite=True))
    assert len(_frames(tmp_path / "mine.mp4")) == 4


@pytest.mark.parametrize(
    "options, field",
    [
        (VideoOptions(codec="prores"), "codec"),
        (VideoOptions(quality=60), "quality"),
        (VideoOptions(start=float("nan")), "start"),
        (VideoOptions(duration=0), "duration"),
        (VideoOptions(segment_seconds=float("inf")), "segment_seconds"),
    ],
)
def test_bad_options_are_refused_naming_the_setting(tmp_path, translator, options, field):
    clip = make_clip(tmp_path / "walk.mp4", audio=False, frames=2)
    with pytest.raises(GanStudioError, match=field):
        convert_video(translator, clip, tmp_path / "out.mp4", options)
    assert not (tmp_path / "out.mp4").exists()


def test_a_disk_that_fills_while_encoding_stops_clearly_and_leaves_nothing_finished(tmp_path, translator):
    from faults import tmpfs

    clip = make_clip(tmp_path / "walk.mp4")
    with tmpfs(tmp_path / "small", size="64k") as disk:
        with pytest.raises(VideoError) as caught:
            convert_video(translator, clip, disk / "walk.mp4", VideoOptions(segment_seconds=0.25, quality=0))
        message = str(caught.value)
        assert "walk.mp4" in message and "full" in message, message
        visible = [
            p.name for p in disk.rglob("*") if not any(part.startswith(".") for part in p.relative_to(disk).parts)
        ]
        assert visible == []
        assert not [p for p in disk.rglob("*.tmp")]


class _Inverting:
    """A translator that prepares its input first, as PreparedTranslator does (here: the negative)."""

    def __init__(self, inner):
        self.inner = inner

    def prepare(self, image):
        return Image.fromarray(255 - np.asarray(image))

    def translate(self, image):
        return self.inner.translate(self.prepare(image))


def test_a_wrapping_translator_has_its_network_statistics_held_on_its_prepared_input(tmp_path, translator):
    clip = make_clip(tmp_path / "dusk.mp4", lamp=4.0, audio=False, frames=12)
    wrapped = convert_video(_Inverting(translator), clip, tmp_path / "held.mp4")
    per_frame = convert_video(_Inverting(translator), clip, tmp_path / "own.mp4", VideoOptions(hold_stats=False))
    assert wrapped.statistics.startswith("held")
    assert wrapped.flicker_index < per_frame.flicker_index


def _chapters(path):
    """(start, end, title) of each chapter, in seconds to the millisecond."""
    with av.open(str(path)) as clip:
        return [
            (
                round(float(c["start"] * c["time_base"]), 3),
                round(float(c["end"] * c["time_base"]), 3),
                c["metadata"]["title"],
            )
            for c in clip.chapters()
        ]


@pytest.mark.parametrize("container", ["mp4", "matroska"])
def test_chapters_are_kept_and_a_trial_range_keeps_those_within_it_from_zero(tmp_path, translator, container):
    suffix = ".mp4" if container == "mp4" else ".mkv"
    marks = [(0.0, 0.5, "Street"), (0.5, 1.0, "Square")]
    clip = make_clip(tmp_path / f"walk{suffix}", container=container, chapters=marks)
    convert_video(translator, clip, tmp_path / f"all{suffix}", VideoOptions(segment_seconds=0.25))
    assert _chapters(tmp_path / f"all{suffix}") == marks
    trial = VideoOptions(segment_seconds=0.25, start=0.25, duration=0.5)
    convert_video(translator, clip, tmp_path / f"trial{suffix}", trial)
    assert _chapters(tmp_path / f"trial{suffix}") == [(0.0, 0.25, "Street"), (0.25, 0.5, "Square")]


def _subtitles(path):
    """(start in seconds, the packet's bytes) of each subtitle, the empty ones MP4 writes between them left out."""
    with av.open(str(path)) as clip:
        if not clip.streams.subtitles:
            return []
        stream = clip.streams.subtitles[0]
        return [(round(float(p.pts * stream.time_base), 3), bytes(p)) for p in clip.demux(stream) if p.size > 2]


def test_subtitles_are_copied_where_the_container_carries_them_and_named_where_not(tmp_path, translator):
    lines = [(0.1, 0.4, "Left at the corner"), (0.6, 0.9, "Then straight on")]
    mp4 = make_clip(tmp_path / "walk.mp4", subtitles=lines)
    report = convert_video(translator, mp4, tmp_path / "out.mp4", VideoOptions(segment_seconds=0.25))
    assert _subtitles(tmp_path / "out.mp4") == _subtitles(mp4) and len(_subtitles(mp4)) == 2
    assert report.subtitle_streams == 1 and "subtitle streams: 1" in report.text()

    mkv = make_clip(tmp_path / "walk.mkv", container="matroska", subtitles=lines)
    convert_video(translator, mkv, tmp_path / "out.mkv", VideoOptions(segment_seconds=0.25))
    assert [text for _, text in _subtitles(tmp_path / "out.mkv")] == [b"Left at the corner", b"Then straight on"]

    # MP4's timed text has no place in Matroska: the clip converts, its sound kept, and the note says so.
    report = convert_video(translator, mp4, tmp_path / "from-mp4.mkv", VideoOptions(segment_seconds=0.25))
    assert _subtitles(tmp_path / "from-mp4.mkv") == [] and report.audio_streams == 1
    assert any("subtitle stream" in note and "mov_text" in note for note in report.notes)


def test_overlapped_decode_network_and_encode_write_the_sequential_paths_bytes(tmp_path, translator):
    clip = make_clip(tmp_path / "walk.mp4")
    one_by_one = VideoOptions(segment_seconds=0.25, overlap=False)
    convert_video(translator, clip, tmp_path / "sequential.mp4", one_by_one)
    report = convert_video(translator, clip, tmp_path / "overlapped.mp4", VideoOptions(segment_seconds=0.25))
    assert report.frames == FRAMES
    assert (tmp_path / "overlapped.mp4").read_bytes() == (tmp_path / "sequential.mp4").read_bytes()
    assert one_by_one.frame_settings() == VideoOptions(segment_seconds=0.25).frame_settings()  # a resume may switch


def test_the_translator_holds_measured_statistics_for_other_images_and_lets_them_go(translator):
    rng = np.random.default_rng(0)
    dark = torch.from_numpy(rng.uniform(-1, -0.2, (1, 3, 32, 40)).astype(np.float32))
    light = torch.from_numpy(rng.uniform(0.2, 1, (1, 3, 32, 40)).astype(np.float32))
    own_dark, own_light = translator.translate_tensor(dark), translator.translate_tensor(light)
    state = {name: tensor.clone() for name, tensor in translator.net.state_dict().items()}
    stats = translator.measure_statistics(dark)
    assert translator.measures_per_image() and len(stats) == 7  # resnet_1blocks: seven instance norms
    with translator.hold_statistics(stats):
        held_dark, held_light = translator.translate_tensor(dark), translator.translate_tensor(light)
    assert torch.allclose(held_dark, own_dark, atol=1e-4)  # its own statistics, measured then held
    assert (held_light - own_light).abs().mean() > 0.05  # the light image normalised as the dark one
    assert torch.equal(translator.translate_tensor(light), own_light)  # let go after
    after = translator.net.state_dict()  # holding added nothing to the network's state, nor changed it
    assert after.keys() == state.keys() and all(torch.equal(after[name], state[name]) for name in state)
    with (
        pytest.raises(ValueError, match="2 sets of statistics for 7 norm layers"),
        translator.hold_statistics(stats[:2]),
    ):
        pass


def test_plain_translators_without_a_network_convert_per_frame(tmp_path):
    class Grey:
        def translate(self, image):
            return image.convert("L").convert("RGB")

    clip = make_clip(tmp_path / "walk.mp4", frames=6)
    report = convert_video(Grey(), clip, tmp_path / "grey.mkv")
    assert report.statistics == "per frame" and report.audio_streams == 1
    out = _frames(tmp_path / "grey.mkv")
    assert len(out) == 6 and np.ptp(out[0][2].astype(int), axis=2).max() <= 6  # grey, give or take the codec
    # The same audio packets; Matroska counts time in milliseconds from 0, so only their bytes are compared.
    assert [data for _, data in _audio_packets(tmp_path / "grey.mkv")] == [data for _, data in _audio_packets(clip)]


def _clip_args(*argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", type=Path)
    parser.add_argument("--output", type=Path)
    add_options(parser)  # the settings: --video-quality and the others
    add_video_options(parser)
    return parser.parse_args([str(a) for a in argv])


def test_the_command_line_converts_a_clip_and_says_why_it_cannot(tmp_path, translator, caplog):
    caplog.set_level(logging.INFO)
    clip = make_clip(tmp_path / "walk.mp4", frames=6)
    assert is_clip(clip) and not is_clip(tmp_path)
    args = _clip_args("--input", clip, "--output", tmp_path / "out", "--start", 0.05, "--video-quality", 30)
    assert run_clip(translator, args) == 0
    out = _frames(tmp_path / "out" / "walk.mp4")
    assert len(out) == 4 and out[0][1] == 0  # the frames from 0.05 s on: the third to the sixth, from 0
    assert "flicker index" in caplog.text

    caplog.clear()
    (tmp_path / "notes.mov").write_text("not a clip")
    assert run_clip(translator, _clip_args("--input", tmp_path / "notes.mov", "--output", tmp_path / "o.mp4")) == 1
    assert "notes.mov: not a video" in caplog.text and "Traceback" not in caplog.text
    assert run_clip(translator, _clip_args("--input", clip, "--output", tmp_path / "q.mp4", "--video-quality", 99)) == 2
    assert "quality" in caplog.text and not (tmp_path / "q.mp4").exists()


def test_one_clip_into_a_folder_is_named_as_in_a_folder_s_conversion_so_its_container_setting_holds(
    tmp_path, translator
):
    clip = make_clip(tmp_path / "walk.mov", frames=3)
    assert run_clip(translator, _clip_args("--input", clip, "--output", tmp_path / "mp4")) == 0
    assert [p.name for p in (tmp_path / "mp4").iterdir() if not p.name.startswith(".")] == ["walk.mov.mp4"]
    assert (
        run_clip(translator, _clip_args("--input", clip, "--output", tmp_path / "own", "--video-container", "same"))
        == 0
    )
    assert [p.name for p in (tmp_path / "own").iterdir() if not p.name.startswith(".")] == ["walk.mov"]


def test_gan_studio_convert_converts_a_clip_with_a_library_model(tmp_path, monkeypatch, caplog):
    from reference_nets import ResnetGenerator, get_norm_layer, randomize

    from training_core.cli_convert import convert_main
    from training_core.cli_models import models_main

    caplog.set_level(logging.INFO)
    monkeypatch.setenv("GAN_STUDIO_HOME", str(tmp_path / "home"))
    torch.save(
        randomize(ResnetGenerator(3, 3, 8, get_norm_layer("instance"), n_blocks=1)).state_dict(), tmp_path / "g.pth"
    )
    assert models_main(["import", str(tmp_path / "g.pth"), "--name", "ink"]) == 0
    clip = make_clip(tmp_path / "walk.mp4", frames=8)

    base = ["--model", "ink", "--input", str(clip), "--device", "cpu"]
    assert convert_main([*base, "--output", str(tmp_path / "out.mp4"), "--colour-match"]) == 0
    assert len(_frames(tmp_path / "out.mp4")) == 8 and _audio_packets(tmp_path / "out.mp4") == _audio_packets(clip)
    assert "colours matched" in caplog.text
    assert convert_main([*base, "--output", str(tmp_path / "out.mp4")]) == 1  # there already: kept
    assert "exists already" in caplog.text
    assert convert_main([*base, "--output", str(clip), "--overwrite-video"]) == 1
    assert "would be the input" in caplog.text
    with pytest.raises(SystemExit) as usage:
        convert_main([*base, "--output", str(tmp_path / "x.mp4"), "--video-codec", "prores"])
    assert usage.value.code == 2


def _pcm_clip(path):
    """A .mov with non-square pixels (4:3) and PCM sound, which MP4 cannot carry as it is."""
    with av.open(str(path), "w", format="mov") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = W, H, "yuv420p"
        video.codec_context.sample_aspect_ratio = Fraction(4, 3)
        sound = out.add_stream("pcm_s16le", rate=8000, layout="mono")
        for i in range(6):
            frame = av.VideoFrame.from_ndarray(picture(i), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            for packet in video.encode(frame):
                out.mux(packet)
        samples = av.AudioFrame.from_ndarray(np.zeros((1, 2000), np.int16), format="s16", layout="mono")
        samples.sample_rate, samples.pts = 8000, 0
        for packet in [*video.encode(), *sound.encode(samples), *sound.encode()]:
            out.mux(packet)
    return path


def test_pixel_aspect_is_kept_and_sound_mp4_cannot_carry_is_named(tmp_path, translator):
    clip = _pcm_clip(tmp_path / "wide.mov")
    to_mp4 = convert_video(translator, clip, tmp_path / "wide.mp4")
    assert to_mp4.audio_streams == 0 and "pcm_s16le" in to_mp4.notes[0] and ".mov" in to_mp4.notes[0]
    to_mov = convert_video(translator, clip, tmp_path / "wide-out.mov", VideoOptions(codec="hevc"))
    assert to_mov.audio_streams == 1 and not to_mov.notes
    for name in ("wide.mp4", "wide-out.mov"):
        with av.open(str(tmp_path / name)) as back:
            assert back.streams.video[0].sample_aspect_ratio == Fraction(4, 3)
    with av.open(str(tmp_path / "wide-out.mov")) as back:
        assert back.streams.video[0].codec_context.name == "hevc" and len(list(back.decode(video=0))) == 6
