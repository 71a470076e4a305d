"""Clips convert frame by frame: frames, timing and sound kept, flicker held down, resumable after a kill.

The clips are made here with PyAV (64x48, 24 frames at 24 fps, a sine tone in
AAC); the generator is a tiny untrained ResNet, as in test_batch.py.
"""

import hashlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from training_core.convert.translator import TranslateOptions, Translator
from training_core.convert.video import VideoOptions, VideoProgress, convert_video
from training_core.models.networks import define_G

REPO = Path(__file__).resolve().parents[2]
W, H, FRAMES, FPS = 64, 48, 24, 24


def _translator():
    torch.manual_seed(0)
    return Translator(define_G(3, 3, 4, "resnet_1blocks", "instance"), 4, options=TranslateOptions(tile=512))


@pytest.fixture
def translator():
    return _translator()


def _picture(i, drift=0.0, seed=0):
    """A textured frame moving one pixel a frame; ``drift`` brightens it frame by frame (grey levels)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(40, 200, (H, W * 2, 3)).astype(np.float32)
    frame = base[:, i % W : i % W + W] + drift * i
    return np.clip(frame, 0, 255).astype(np.uint8)


def make_clip(path, frames=FRAMES, fps=FPS, audio=True, drift=0.0, rotation=0, pts=None, container="mp4"):
    """A clip of ``frames`` frames (timestamps ``pts`` in 1/fps units for a variable rate) and a tone."""
    with av.open(str(path), "w", format=container) as out:
        video = out.add_stream("libx264", rate=fps, options={"crf": "10"})
        video.width, video.height, video.pix_fmt = W, H, "yuv420p"
        video.codec_context.time_base = Fraction(1, fps)
        if rotation:
            video.set_display_rotation(rotation)
        tone = out.add_stream("aac", rate=44100) if audio else None
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(_picture(i, drift), format="rgb24")
            frame.pts, frame.time_base = (pts[i] if pts else i), Fraction(1, fps)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        if tone is not None:
            t = np.arange(int(44100 * frames / fps)) / 44100
            samples = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
            sound = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            sound.sample_rate, sound.pts = 44100, 0
            for packet in tone.encode(sound):
                out.mux(packet)
            for packet in tone.encode():
                out.mux(packet)
    return path


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
